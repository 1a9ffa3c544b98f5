"""Nights against a sandbox whose Försäkringskassan requires a client certificate (mutual TLS), as the agencies'
system-to-system service does: with the robot's certificate the night passes the oracle; without one, or with a
missing or expired one, it stops at preflight (CLIENT_CERTIFICATE) before any login, naming the portal and what
is wrong; one about to expire is a warning in the morning report and the alert, and the night goes on. Real
sandbox, real Chromium, real handshakes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bot.alerts import alert_for
from bot.browser.worker import lone_worker
from bot.cli import main
from bot.clientcert import browser_options, load_client_certificates
from bot.config import Config, write_config
from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_config, sandbox_environ
from bot.drivers.portal_drivers import make_driver
from bot.errors import CasebotError, ErrorCode
from bot.paths import SELECTORS_DIR
from bot.report.morning import EVENTS_SHEET
from bot.run.entry import NightReport, run_once
from bot.selectors.load import load_all
from portals import tls as material
from tests.own_sandbox import own_sandbox
from tests.sandbox_proc import shared_ca_dir, trusted_home

pytestmark = pytest.mark.browser


mtls_box = own_sandbox(6, seed=8, client_auth=("fk",))


def _config(home: Path, box: Sandbox, client: dict[str, str] | None | str = "sandbox") -> Config:
    """The sandbox's robot config, with fk's client certificate as the sandbox made it ("sandbox"), another one,
    or none (None)."""
    config = sandbox_config(home, box, workers=1)
    if client == "sandbox":
        return config
    data: dict[str, Any] = config.model_dump(mode="json", exclude={"source"}, exclude_none=True)
    if client is None:
        data["portals"]["fk"].pop("client_certificate")
    else:
        data["portals"]["fk"]["client_certificate"] = client
    return Config.model_validate(data, context={"base": home}).model_copy(update={"source": config.source})


def _night(config: Config, box: Sandbox, limit: int = 1) -> NightReport:
    return asyncio.run(run_once(config, environ=sandbox_environ(box), console=False, limit=limit))


def _client(kind: str, folder: Path) -> dict[str, str]:
    pair = material.client_certificate(kind, material.ensure_client_ca(shared_ca_dir()), folder)
    return {"cert": str(pair.cert), "key": str(pair.key)}


def _robot_logins(box: Sandbox) -> list[object]:
    return [row for row in box.admin_get("casesystem", "/_admin/audit") if row["username"] == "robot"]


def _report_rows(night: NightReport) -> list[str]:
    sheet = openpyxl.load_workbook(night.report_path)[EVENTS_SHEET]
    return [" ".join(str(c.value) for c in row) for row in sheet.iter_rows()]


def test_with_its_client_certificate_the_robot_works_the_portal_that_requires_one(mtls_box: Sandbox,
                                                                                   tmp_path: Path) -> None:
    night = _night(_config(tmp_path, mtls_box), mtls_box, limit=2)
    assert night.result.stopped_by is None and night.exit_code == 0, night.result.stopped_by
    handled = [i.case_id for i in night.items if i.state in ("done", "business_exception")]
    assert len(handled) == 2  # every case reads Försäkringskassan for each member
    assert differences_from_oracle(mtls_box, handled) == {}
    # Nothing in the run's log carries the key's passphrase.
    logs = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.jsonl"))
    assert "client certificate passphrase from environment variable CASEBOT_FK_CERT_PASSPHRASE" in logs
    assert "klient-pass" not in logs


@pytest.mark.parametrize(("client", "words"), [
    (None, "fk ({url}): the portal requires a client certificate, and the robot has none configured for it"),
    ("expired", "fk: the client certificate 'casebot robot (sandbox)' ({cert}), issued by 'casebot sandbox client "
                "CA', valid until"),
    ("missing", "fk: the client certificate's cert {cert} does not exist"),
])
def test_a_client_certificate_the_night_cannot_use_stops_it_at_preflight(mtls_box: Sandbox, tmp_path: Path,
                                                                          client: str | None, words: str) -> None:
    before = len(_robot_logins(mtls_box))
    chosen: dict[str, str] | None = None
    if client == "expired":
        chosen = _client("expired", tmp_path / "certs")
    elif client == "missing":
        chosen = {"cert": str(tmp_path / "not-installed.pem"), "key": str(tmp_path / "not-installed-key.pem")}
    night = _night(_config(tmp_path / "robot", mtls_box, chosen), mtls_box)
    stopped = night.result.stopped_by
    assert stopped is not None and stopped.code == ErrorCode.CLIENT_CERTIFICATE, stopped
    assert stopped.step == "preflight" and stopped.portal == "fk"
    assert words.format(url=mtls_box.url("fk"), cert=chosen["cert"] if chosen else "") in str(stopped)
    if client == "expired":
        assert "expired on" in str(stopped)
    assert "runbooks/CLIENT_CERTIFICATE.md" in str(stopped)
    assert night.exit_code == 2 and night.result.summary.total == 0  # no case taken
    assert len(_robot_logins(mtls_box)) == before  # not even a login
    assert any("CLIENT_CERTIFICATE" in row for row in _report_rows(night))
    alert = alert_for(night)
    assert alert is not None and "CLIENT_CERTIFICATE" in alert.subject
    assert "runbooks/CLIENT_CERTIFICATE.md" in alert.body


def test_a_client_certificate_about_to_expire_is_a_warning_and_the_night_goes_on(mtls_box: Sandbox,
                                                                                  tmp_path: Path) -> None:
    night = _night(_config(tmp_path / "robot", mtls_box, _client("expiring", tmp_path / "certs")), mtls_box)
    assert night.result.stopped_by is None and night.exit_code == 0, night.result.stopped_by
    assert night.result.summary.total == 1
    (warning,) = night.expiry_warnings
    assert warning.code == "CLIENT_CERTIFICATE_EXPIRES_SOON" and warning.level == "WARNING"
    assert warning.data["portal"] == "fk" and 8 <= warning.data["days_left"] <= material.EXPIRING_DAYS
    assert any("CLIENT_CERTIFICATE_EXPIRES_SOON" in row and "fk:" in row for row in _report_rows(night))
    alert = alert_for(night)
    assert alert is not None and "certifikat går snart ut" in alert.subject
    assert "runbooks/CLIENT_CERTIFICATE_EXPIRES_SOON.md" in alert.body
    assert alert.data["expiring"][0]["portal"] == "fk"


async def _open_fk(config: Config, box: Sandbox, ca_bundle: Path | None) -> tuple[str, str | None, str]:
    """Försäkringskassan's health page in a client-certificate context, with the driver trusting `ca_bundle`;
    then the driver's own navigation to it; then another portal from the same context."""
    clients = load_client_certificates(config, sandbox_environ(box))
    async with lone_worker("t", default_timeout_ms=10_000, home=trusted_home(), ca_bundle=ca_bundle,
                           client_certificates=browser_options(config, clients)) as worker:
        page = await worker.page("fk")
        response = await page.goto(box.url("fk", "/healthz"))
        assert response is not None
        seen = f"{response.status} {await page.inner_text('body')}"
        driver = make_driver(config, "fk", page, "fk-pass", load_all(SELECTORS_DIR)["fk"])
        try:
            await driver.goto("/healthz")
            code = None
        except CasebotError as exc:
            code = f"{exc.code.value}: {exc.message}"
        try:
            await page.goto(box.url("skv", "/healthz"))
            elsewhere = "reached"
        except Exception as exc:  # noqa: BLE001 - what Playwright says is the point
            elsewhere = str(exc).splitlines()[0]
        return seen, code, elsewhere


def test_the_client_certificate_context_checks_the_portals_certificate_and_stays_on_its_origin(
        mtls_box: Sandbox, tmp_path: Path) -> None:
    config = _config(tmp_path, mtls_box)
    # Playwright's driver makes the TLS connection for this context: trusting tls.ca_bundle, it gets the page.
    seen, code, elsewhere = asyncio.run(_open_fk(config, mtls_box, mtls_box.ca_file))
    assert seen == "200 ok" and code is None
    # Anywhere else, where the browser would not check the certificate, is refused before it leaves.
    assert "net::ERR_BLOCKED_BY_CLIENT" in elsewhere
    # Not trusting the portal's CA, it refuses the portal, and the robot says so as TLS_CERTIFICATE, not as a
    # portal that is down: certificate checks stay on in this context too.
    seen, code, _ = asyncio.run(_open_fk(config, mtls_box, None))
    assert seen.startswith("503 Playwright client-certificate error: unable to verify")
    assert code is not None and code.startswith("TLS_CERTIFICATE: fk: the certificate of")
    assert "unable to verify" in code


def _check_selectors(config: Config, box: Sandbox, home: Path, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    for name, value in sandbox_environ(box).items():
        monkeypatch.setenv(name, value)
    path = write_config(config, home / "robot.yaml")
    code = main(["check-selectors", "--config", str(path), "--problems"])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_selectors_shows_each_certificate_and_whether_the_portal_accepts_the_robots(
        mtls_box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _check_selectors(_config(tmp_path, mtls_box), mtls_box, tmp_path, monkeypatch, capsys)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "certificates:"
    fk = lines.index(next(line for line in lines if line.strip().startswith("fk ")))
    assert "server trusted, issued by casebot sandbox test CA, valid until" in lines[fk]
    assert re.search(r"client 'casebot robot \(sandbox\)', valid until \S+ \(36\d days\): accepted$", lines[fk + 1])
    # An admin installing a certificate from another CA sees the portal's verdict before any night.
    other = _config(tmp_path / "other", mtls_box, _client("untrusted", tmp_path / "certs"))
    code, out, err = _check_selectors(other, mtls_box, tmp_path / "other", monkeypatch, capsys)
    assert code == 2  # as for a wrong password: the screens could not be checked at all
    assert "REFUSED: the portal does not accept the CA that issued the client certificate" in out
    assert "CLIENT_CERTIFICATE" in err and "runbooks/CLIENT_CERTIFICATE.md" in err
