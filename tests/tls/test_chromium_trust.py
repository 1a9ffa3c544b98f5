"""Chromium trusts exactly the system's roots plus `tls.ca_bundle`, through an NSS database of the robot's own:
the robot's browser (the headless shell, and the full Chromium headed, as the recorder runs it) loads a sandbox
page over HTTPS and refuses the untrusted, expired and wrong-host certificates; a page load refused that way
mid-night is TLS_CERTIFICATE, in words."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.browser.launch import running_chromium
from bot.browser.trust import browser_home
from bot.config import TlsSettings
from bot.dev.sandbox import SANDBOX_PASSWORDS, Sandbox, sandbox_config
from bot.drivers.portal_drivers import make_driver
from bot.errors import CasebotError, ErrorCode
from bot.paths import SELECTORS_DIR
from bot.selectors.load import load_all

pytestmark = pytest.mark.browser


def test_the_database_holds_the_bundle_and_nothing_else(mixed_box: Sandbox, tmp_path: Path) -> None:
    home = browser_home(mixed_box.tls, tmp_path)
    listed = subprocess.run(["certutil", "-L", "-d", f"sql:{home / '.pki' / 'nssdb'}"], capture_output=True,
                            text=True, check=True).stdout
    assert "casebot tls.ca_bundle 1" in listed and "C,," in listed
    assert len([line for line in listed.splitlines() if "casebot" in line]) == 1
    # Named by the bundle's content: the same bundle, the same database; without a bundle, an empty one.
    assert browser_home(mixed_box.tls, tmp_path) == home
    bare = browser_home(TlsSettings(), tmp_path)
    assert bare != home and not any((bare / ".pki" / "nssdb").iterdir())


async def _load(home: Path | None, box: Sandbox, headless: bool = True) -> dict[str, str]:
    """What the browser says for each portal's login page: its title, or the error."""
    seen = {}
    async with running_chromium(headless=headless, home=home) as chromium:
        context = await chromium.browser.new_context()
        for portal in ("casesystem", "skv", "fk", "csn", "af"):
            page = await context.new_page()  # a page of its own: an error page must not cut into the next load
            try:
                await page.goto(box.url(portal, "/login"))
                seen[portal] = await page.title()
            except Exception as exc:  # noqa: BLE001 - the error is what is looked at
                seen[portal] = str(exc).splitlines()[0]
    return seen


def _judge(seen: dict[str, str]) -> None:
    assert "Procapita" in seen["casesystem"] and "Arbetsförmedlingen" in seen["af"]  # af: expiring, still valid
    assert "net::ERR_CERT_DATE_INVALID" in seen["skv"]
    assert "net::ERR_CERT_COMMON_NAME_INVALID" in seen["fk"]
    assert "net::ERR_CERT_AUTHORITY_INVALID" in seen["csn"]


async def test_the_headless_shell_trusts_the_configured_ca_only(mixed_box: Sandbox, tmp_path: Path) -> None:
    _judge(await _load(browser_home(mixed_box.tls, tmp_path), mixed_box))
    # Without the database (the robot's own HOME), the sandbox's CA is trusted by nothing.
    assert "net::ERR_CERT_AUTHORITY_INVALID" in (await _load(None, mixed_box))["casesystem"]


async def test_the_full_chromium_headed_trusts_it_too(mixed_box: Sandbox, tmp_path: Path,
                                                      xvfb_display: str) -> None:
    _judge(await _load(browser_home(mixed_box.tls, tmp_path), mixed_box, headless=False))


async def test_a_page_refused_mid_night_is_tls_certificate_in_words(mixed_box: Sandbox, tmp_path: Path) -> None:
    config = sandbox_config(tmp_path, mixed_box)
    selectors = load_all(SELECTORS_DIR)
    async with running_chromium(home=browser_home(config.tls, config.data_dir)) as chromium:
        page = await (await chromium.browser.new_context()).new_page()
        driver = make_driver(config, "csn", page, SANDBOX_PASSWORDS["csn"], selectors["csn"])
        with pytest.raises(CasebotError) as refused:
            await driver.goto("/login")
    assert refused.value.code == ErrorCode.TLS_CERTIFICATE and refused.value.portal == "csn"
    assert "a CA the robot does not trust" in str(refused.value)
    assert "net::ERR_CERT_AUTHORITY_INVALID" in str(refused.value)
    assert ErrorCode.TLS_CERTIFICATE.stops_run
