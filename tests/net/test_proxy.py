"""The outbound proxy, through a real one (Debian's tinyproxy, started by the tests with a Basic login and a log):
a night on a small sandbox goes through it and prepares every case as the oracle expects (Försäkringskassan
requiring the robot's client certificate, as on a municipal network: Playwright's driver makes that portal's
connection, through the same proxy); a wrong proxy password
or a proxy that is not there stops the night at preflight with PROXY_FAILED, the password in no log; a host in
no_proxy goes direct, in the browser and in the HTTP client alike; the webhook alert goes through it too."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.alerts import Alert, alert_for, send_alert
from bot.browser.launch import running_chromium
from bot.config import PORTAL_NAMES, AlertSettings, Config, ProxySettings, load_config
from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_config, sandbox_environ
from bot.errors import ConfigError, ErrorCode, SystemException
from bot.net import (
    Proxy,
    TunnelRefused,
    check_proxy,
    chromium_bypass,
    chromium_proxy,
    connect,
    goes_direct,
    http_client,
    parse_answer,
    proxy_problem,
    resolve_proxy,
)
from bot.run.entry import NightReport, run_once
from tests.net.proxy_server import PASSWORD, USER, Receiver, Tinyproxy, receiver, tinyproxy
from tests.own_sandbox import own_sandbox
from tests.sandbox_proc import free_port

pytestmark = pytest.mark.browser

CASES = 4
WRONG = "Fel-lösen-7Qz"
box = own_sandbox(CASES, seed=11, client_auth=("fk",))


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tinyproxy]:
    with tinyproxy(tmp_path_factory.mktemp("proxy")) as running:
        yield running


@pytest.fixture
def web() -> Iterator[Receiver]:
    with receiver() as got:
        yield got


def robot_config(home: Path, sandbox: Sandbox, proxy_url: str, **proxy: object) -> Config:
    return sandbox_config(home, sandbox, workers=1, proxy={"url": proxy_url, "username": USER, **proxy})


def environ(sandbox: Sandbox, proxy_password: str) -> dict[str, str]:
    return {**sandbox_environ(sandbox), "CASEBOT_PROXY_PASSWORD": proxy_password}


def night(config: Config, sandbox: Sandbox, proxy_password: str) -> NightReport:
    return asyncio.run(run_once(config, environ=environ(sandbox, proxy_password), console=False))


def portal_port(sandbox: Sandbox, portal: str) -> int:
    port = urlsplit(sandbox.url(portal)).port
    assert port is not None
    return port


def everything_written(config: Config, report: NightReport, proxy: Tinyproxy) -> str:
    """The run's log, every row of the state store, and the proxy's own log."""
    rows = []
    with sqlite3.connect(config.data_dir / "casebot.db") as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            rows += [repr(row) for row in db.execute(f'SELECT * FROM "{table}"').fetchall()]
    return "\n".join([report.log_path.read_text(encoding="utf-8"), *rows, proxy.log.read_text(encoding="utf-8")])


# -- a night through the proxy --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def proxied(box: Sandbox, proxy: Tinyproxy, tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, NightReport]:
    config = robot_config(tmp_path_factory.mktemp("robot"), box, proxy.url)
    return config, night(config, box, PASSWORD)


def test_a_night_through_the_proxy_prepares_every_case_as_the_oracle_expects(
        box: Sandbox, proxied: tuple[Config, NightReport]) -> None:
    _, report = proxied
    summary = report.result.summary
    assert report.exit_code == 0, (report.result.stopped_by, summary)
    assert summary.total == CASES and summary.open == 0 and summary.by_state.get("failed", 0) == 0
    assert differences_from_oracle(box, [item.case_id for item in report.items]) == {}


def test_the_proxy_carried_the_robot_to_every_portal(box: Sandbox, proxy: Tinyproxy,
                                                      proxied: tuple[Config, NightReport]) -> None:
    for portal in PORTAL_NAMES:
        methods = proxy.carried_to(portal_port(box, portal))
        # https portals are tunnelled (CONNECT); a plain http one would be forwarded (GET/POST). The preflight's
        # probe asks once per portal: the browser's own requests are the rest.
        assert len(methods) >= 2, f"{portal}: the browser's requests are not in the proxy's log: {methods}"
        assert ("CONNECT" in methods) == box.url(portal).startswith("https://"), (portal, methods)


def test_the_proxy_password_is_in_no_log(proxy: Tinyproxy, proxied: tuple[Config, NightReport]) -> None:
    config, report = proxied
    assert PASSWORD not in everything_written(config, report, proxy)


# -- the proxy refuses, or is not there -----------------------------------------------------------------------------
def test_a_wrong_proxy_password_stops_the_night_at_preflight(box: Sandbox, proxy: Tinyproxy, tmp_path: Path) -> None:
    config = robot_config(tmp_path, box, proxy.url)
    audit_before = len(box.admin_get("casesystem", "/_admin/audit"))  # type: ignore[arg-type]
    report = night(config, box, WRONG)
    stopped = report.result.stopped_by
    assert report.exit_code == 2 and stopped is not None
    assert stopped.code is ErrorCode.PROXY_FAILED and stopped.step == "preflight", stopped
    assert proxy.url in stopped.message and f"'{USER}'" in stopped.message
    assert "CASEBOT_PROXY_PASSWORD" in stopped.message
    assert report.result.summary.total == 0  # no case taken, nothing written to the case system
    assert len(box.admin_get("casesystem", "/_admin/audit")) == audit_before  # type: ignore[arg-type]
    alert = alert_for(report)
    assert alert is not None and "PROXY_FAILED" in alert.subject and "runbooks/PROXY_FAILED.md" in alert.body
    written = everything_written(config, report, proxy) + alert.body
    assert "PROXY_FAILED" in report.log_path.read_text(encoding="utf-8")
    assert WRONG not in written and PASSWORD not in written


def test_an_unreachable_proxy_stops_the_night_at_preflight(box: Sandbox, tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    report = night(robot_config(tmp_path, box, nowhere), box, PASSWORD)
    stopped = report.result.stopped_by
    assert stopped is not None and stopped.code is ErrorCode.PROXY_FAILED, stopped
    assert f"cannot reach the proxy {nowhere}" in stopped.message
    assert report.result.summary.total == 0


def test_a_portal_in_no_proxy_is_left_out_of_the_check_and_the_others_are_checked(box: Sandbox,
                                                                                   proxy: Tinyproxy) -> None:
    urls = [box.url(p) for p in PORTAL_NAMES]
    direct = f"127.0.0.1:{portal_port(box, 'csn')}"
    wrong = Proxy(proxy.url, USER, WRONG, (direct,), "x")
    before = len(proxy.requests())
    failure = asyncio.run(check_proxy(wrong, urls))
    assert failure is not None and failure.code is ErrorCode.PROXY_FAILED
    asked = proxy.requests()[before:]
    assert not any(direct in target for _, target in asked)
    assert {urlsplit(f"//{t}" if m == "CONNECT" else t).port for m, t in asked} == {
        portal_port(box, p) for p in PORTAL_NAMES if p != "csn"}


# -- no_proxy: the browser and the HTTP client agree ----------------------------------------------------------------
def test_a_host_in_no_proxy_goes_direct_in_the_browser_and_the_http_client(proxy: Tinyproxy, web: Receiver) -> None:
    settings = ProxySettings(url=proxy.url, username=USER, no_proxy=["localhost"])
    resolved = resolve_proxy(settings, {"CASEBOT_PROXY_PASSWORD": PASSWORD})
    assert resolved is not None

    async def browse() -> list[int | None]:
        async with running_chromium(proxy=resolved) as chromium:
            page = await chromium.browser.new_page()
            statuses = []
            for url in (web.url("/through-browser"), web.url("/direct-browser", host="localhost")):
                answer = await page.goto(url)
                statuses.append(answer.status if answer else None)
            return statuses

    assert asyncio.run(browse()) == [200, 200]
    with http_client(resolved, timeout=10) as client:
        assert client.get(web.url("/through-httpx")).status_code == 200
        assert client.get(web.url("/direct-httpx", host="localhost")).status_code == 200
    assert {path for _, path, _ in web.seen} >= {"/through-browser", "/direct-browser", "/through-httpx",
                                                 "/direct-httpx"}
    carried = [target for _, target in proxy.requests() if str(web.port) in target]
    assert web.url("/through-browser") in carried and web.url("/through-httpx") in carried
    assert not [t for t in carried if "direct" in t], carried  # loopback 127.0.0.1 proxied, localhost not


def test_the_tunnel_for_a_handshake_of_the_robots_own_goes_through_the_proxy(box: Sandbox, proxy: Tinyproxy) -> None:
    port = portal_port(box, "skv")
    good = Proxy(proxy.url, USER, PASSWORD, (), "x")
    with connect(good, "127.0.0.1", port, timeout_s=10) as sock, \
            box.ssl_context.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
        assert tls.getpeercert() is not None
    assert ("CONNECT", f"127.0.0.1:{port}") in proxy.requests()
    with pytest.raises(TunnelRefused, match=r"would not open a tunnel to 127\.0\.0\.1:\d+: HTTP 401"):
        connect(Proxy(proxy.url, USER, WRONG, (), "x"), "127.0.0.1", port, timeout_s=10)


# -- the webhook alert ----------------------------------------------------------------------------------------------
def test_the_webhook_alert_goes_through_the_proxy(proxy: Tinyproxy, web: Receiver) -> None:
    settings = AlertSettings(webhook={"url": web.url("/hook")})  # type: ignore[arg-type]
    via = ProxySettings(url=proxy.url, username=USER)
    alert = Alert("casebot: körning R1 stoppad", "text", {"run_id": "R1"})
    assert send_alert(alert, settings, {"CASEBOT_PROXY_PASSWORD": PASSWORD}, proxy=via) == ["webhook"]
    assert [(m, p) for m, p, _ in web.seen] == [("POST", "/hook")]
    assert ("POST", web.url("/hook")) in proxy.requests()
    # The proxy refuses a wrong password: not delivered (logged), and it never reached the receiver directly.
    assert send_alert(alert, settings, {"CASEBOT_PROXY_PASSWORD": WRONG}, proxy=via) == []
    assert len(web.seen) == 1


# -- without a network ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "direct"), [
    ("https://fk.example/x", False),
    ("https://intern.kommun.example/", False),  # the suffix means hosts under it
    ("https://ekb.intern.kommun.example/", True),
    ("http://10.20.30.40:8080/", True),
    ("http://11.0.0.1/", False),
    ("https://csn.example/", True),
    ("http://csn.example:8443/", True),  # an entry without a port: every port
    ("http://127.0.0.1:8104/", True),
    ("http://127.0.0.1:8100/", False),
    ("http://[::1]:8100/", True),
])
def test_goes_direct_reads_hosts_suffixes_ports_and_networks(url: str, direct: bool) -> None:
    no_proxy = [".intern.kommun.example", "10.0.0.0/8", "csn.example", "127.0.0.1:8104", "[::1]:8100"]
    assert goes_direct(url, no_proxy) is direct


def test_chromium_is_told_to_proxy_loopback_unless_the_list_says_otherwise() -> None:
    bypass = chromium_bypass([".intern.kommun.example", "10.0.0.0/8", "localhost", "::1", "127.0.0.1:8104"])
    # First, so the operator's own loopback entries (later rules win in Chromium) still go direct.
    assert bypass.split(",") == ["<-loopback>", "*.intern.kommun.example", "10.0.0.0/8", "localhost", "[::1]",
                                 "127.0.0.1:8104"]
    settings = chromium_proxy(Proxy("http://proxy:3128", USER, PASSWORD, ()))
    assert settings == {"server": "http://proxy:3128", "bypass": "<-loopback>", "username": USER,
                        "password": PASSWORD}
    assert chromium_proxy(None) is None


def test_no_proxy_section_means_no_proxy_whatever_the_environment_says() -> None:
    assert resolve_proxy(None, {"HTTPS_PROXY": "http://elsewhere:8080", "HTTP_PROXY": "http://elsewhere:8080"}) is None


def test_the_proxy_password_comes_from_the_environment_and_its_absence_is_named() -> None:
    settings = ProxySettings(url="http://proxy.kommun.example:3128", username="casebot", no_proxy=[".intern.x"])
    proxy = resolve_proxy(settings, {"CASEBOT_PROXY_PASSWORD": PASSWORD})
    assert proxy is not None and proxy.password == PASSWORD and PASSWORD not in repr(proxy)
    with pytest.raises(SystemException) as missing:
        resolve_proxy(settings, {})
    assert missing.value.code is ErrorCode.CREDENTIALS_MISSING
    assert "CASEBOT_PROXY_PASSWORD" in missing.value.message and "keyring set casebot/proxy casebot" in \
        missing.value.message


def test_from_environment_takes_the_proxy_its_login_and_no_proxy() -> None:
    proxy = resolve_proxy(ProxySettings(from_environment=True, no_proxy=["csn.example"]),
                          {"https_proxy": f"http://svc:{PASSWORD}@proxy.kommun.example:3128",
                           "NO_PROXY": "localhost, *.intern.kommun.example,10.0.0.0/8"})
    assert proxy is not None
    assert (proxy.url, proxy.username, proxy.password) == ("http://proxy.kommun.example:3128", "svc", PASSWORD)
    assert proxy.no_proxy == ("csn.example", "localhost", ".intern.kommun.example", "10.0.0.0/8")
    assert resolve_proxy(ProxySettings(from_environment=True), {}) is None


def test_the_config_file_refuses_a_password_in_the_proxy_url_and_names_the_forms(tmp_path: Path) -> None:
    portals = "\n".join(f"  {name}: {{url: 'https://{name}.example', username: u}}" for name in PORTAL_NAMES)
    path = tmp_path / "robot.yaml"
    path.write_text(f"proxy: {{url: 'http://casebot:{PASSWORD}@proxy:3128'}}\nportals:\n{portals}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert "proxy.url" in str(refused.value) and PASSWORD not in str(refused.value)
    path.write_text(f"proxy: {{url: 'http://proxy:3128', no_proxy: ['a b']}}\nportals:\n{portals}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"proxy\.no_proxy\.0: 'a b' is not a host, \.suffix or IP network"):
        load_config(path)
    path.write_text(f"proxy: {{url: 'http://proxy:3128', username: casebot}}\nportals:\n{portals}\n",
                    encoding="utf-8")
    assert load_config(path).proxy == ProxySettings(url="http://proxy:3128", username="casebot")


def test_chromium_proxy_errors_and_proxy_answers_in_words() -> None:
    assert proxy_problem("Page.goto: net::ERR_PROXY_CONNECTION_FAILED at https://skv.example/login") == (
        "the proxy cannot be reached (nothing answers at its address and port) (net::ERR_PROXY_CONNECTION_FAILED)")
    assert proxy_problem("Page.goto: net::ERR_CONNECTION_REFUSED at https://skv.example/") is None
    assert parse_answer(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\n"
                        b"Proxy-Authenticate: Negotiate\r\n\r\n") == (407, "Proxy Authentication Required",
                                                                      ["NTLM", "Negotiate"])
    with pytest.raises(ValueError, match="status line"):
        parse_answer(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
