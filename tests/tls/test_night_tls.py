"""A certificate the robot cannot trust stops the night at preflight (TLS_CERTIFICATE), naming the portal and
what was wrong, before any login and with nothing written in the case system; one about to expire is a warning
in the morning report and the alert, and the night goes on. Real sandboxes serving real bad certificates."""

from __future__ import annotations

import asyncio
from pathlib import Path

import openpyxl
import pytest

from bot.alerts import alert_for
from bot.dev.sandbox import Sandbox, sandbox_config, sandbox_environ
from bot.errors import ErrorCode
from bot.report.morning import EVENTS_SHEET
from bot.run.entry import NightReport, run_once
from bot.store import SqliteStore
from tests.sandbox_proc import start_sandbox

pytestmark = pytest.mark.browser

PROBLEMS = {  # kind -> what the operator reads
    "expired": "the certificate expired on",
    "wrong_host": "the certificate is for portal.example, not 127.0.0.1",
    "untrusted": "the certificate is signed by 'casebot untrusted test CA', a CA the robot does not trust",
}


def _night(box: Sandbox, home: Path, **overrides: object) -> NightReport:
    config = sandbox_config(home, box, workers=1, **overrides)
    return asyncio.run(run_once(config, environ=sandbox_environ(), console=False, limit=1))


def _robot_writes(box: Sandbox) -> list[object]:
    return [row for row in box.admin_get("casesystem", "/_admin/audit") if row["username"] == "robot"]


@pytest.mark.parametrize(("portal", "kind"), [("skv", "expired"), ("fk", "wrong_host"), ("csn", "untrusted")])
def test_a_bad_certificate_stops_the_night_at_preflight(tmp_path: Path, portal: str, kind: str) -> None:
    box = start_sandbox(tmp_path / "sandbox", cases=3, seed=5, certificates={portal: kind})
    try:
        night = _night(box, tmp_path / "robot")
        stopped = night.result.stopped_by
        assert stopped is not None and stopped.code == ErrorCode.TLS_CERTIFICATE, stopped
        assert stopped.step == "preflight" and stopped.portal == portal
        assert f"{portal} ({box.url(portal)}): {PROBLEMS[kind]}" in str(stopped)
        assert "runbooks/TLS_CERTIFICATE.md" in str(stopped)
        assert night.exit_code == 2 and night.result.summary.total == 0  # no case taken
        assert _robot_writes(box) == []  # not even a login
        with SqliteStore(sandbox_config(tmp_path / "robot", box).data_dir / "casebot.db") as store:
            (event,) = [e for e in store.events(night.result.run_id) if e.code == "TLS_CERTIFICATE"
                        and e.level == "ERROR"]
        assert event.data["portal"] == portal and event.data["problem"] == kind
        # The operator reads it in the morning report too, and the alert names the code and its runbook.
        sheet = openpyxl.load_workbook(night.report_path)[EVENTS_SHEET]
        assert any("TLS_CERTIFICATE" in str(cell.value) for row in sheet.iter_rows() for cell in row)
        alert = alert_for(night)
        assert alert is not None and "TLS_CERTIFICATE" in alert.subject
        assert "runbooks/TLS_CERTIFICATE.md" in alert.body
    finally:
        box.stop()


def test_a_certificate_about_to_expire_is_a_warning_in_the_report_and_the_alert(tmp_path: Path) -> None:
    box = start_sandbox(tmp_path / "sandbox", cases=3, seed=5, certificates={"af": "expiring"})
    try:
        night = _night(box, tmp_path / "robot")
        assert night.result.stopped_by is None and night.exit_code == 0, night.result.stopped_by
        assert night.result.summary.total == 1  # the night went on
        (warning,) = night.expiry_warnings
        assert warning.code == "TLS_EXPIRES_SOON" and warning.level == "WARNING"
        assert warning.data["portal"] == "af" and 8 <= warning.data["days_left"] <= 10
        sheet = openpyxl.load_workbook(night.report_path)[EVENTS_SHEET]
        rows = [" ".join(str(c.value) for c in row) for row in sheet.iter_rows()]
        assert any("TLS_EXPIRES_SOON" in r and "af (" in r for r in rows), rows
        alert = alert_for(night)  # a night that went well still tells operations
        assert alert is not None and "certifikat går snart ut" in alert.subject
        assert "TLS_EXPIRES_SOON" in alert.body and "runbooks/TLS_EXPIRES_SOON.md" in alert.body
        assert alert.data["expiring"][0]["portal"] == "af"
        # A shorter warning period says nothing for the same certificate.
        quiet = _night(box, tmp_path / "robot-quiet", tls={"ca_bundle": str(box.ca_file), "expiry_warning_days": 5})
        assert quiet.expiry_warnings == [] and alert_for(quiet) is None
    finally:
        box.stop()
