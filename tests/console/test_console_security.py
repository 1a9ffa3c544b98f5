"""The console's doors: logins, the rate limit, roles, CSRF, the session cookie and its expiry, the trusted proxy,
the headers, the artefact files, `/metrics`, `/healthz`, accounts from the CLI, and the refusal to listen on a
public address without TLS. In Chromium against the console served by uvicorn, on a real SQLite store."""

from __future__ import annotations

import getpass
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import ConsoleSettings, TrustedProxySettings, write_config
from bot.console.auth import SessionCodec, proxy_identity
from bot.console.security import LoginLimiter, allowed, bind_refusal
from bot.schedule.pause import PAUSE_KEY
from bot.store import SqliteStore
from tests.clock import FakeClock
from tests.console.conftest import USERS, MovableClock, ServedConsole, console_config, post_form
from tests.console.seed import seed

pytestmark = pytest.mark.browser


def audit_rows(console: ServedConsole, action: str) -> list:  # type: ignore[type-arg]
    with SqliteStore(Path(console.config.store_url[len("sqlite:///"):])) as store:
        return store.audit_log(50, action=action)


def csrf_of(page) -> str:  # type: ignore[no-untyped-def]
    """The page's CSRF token (every page's layout carries it)."""
    return page.locator("meta[name=csrf-token]").get_attribute("content")


def browser_post(page, path: str, data: dict[str, str]) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A form POST from the logged-in page (its cookies), without following the redirect."""
    return page.evaluate("""async ([path, data]) => {
        const r = await fetch(path, {method: "POST", body: new URLSearchParams(data), redirect: "manual"});
        // fetch hides a redirect's status from the page: 303 is what the console sends after an action.
        return r.type === "opaqueredirect" ? [303, ""] : [r.status, await r.text()];
    }""", [path, data])


# -- pure parts -----------------------------------------------------------------------------------------------


def test_roles() -> None:
    assert allowed("operations", "retry_case") and allowed("operations", "run_preflight")
    assert allowed("admin", "run_preflight") and not allowed("admin", "start_night")
    assert allowed("viewer", "view") and not allowed("viewer", "pause_scheduler")
    assert not allowed("viewer", "view_artefacts") and not allowed("admin", "view_artefacts")
    assert not allowed("operations", "no_such_action")  # a new action needs its roles before anyone may do it


def test_limiter_counts_per_name_and_per_address_within_the_window() -> None:
    clock = FakeClock()
    limiter = LoginLimiter(3, timedelta(minutes=15), clock)
    for _ in range(3):
        assert limiter.blocked_for("kari", "10.0.0.1") is None
        limiter.failed("kari", "10.0.0.1")
    assert limiter.blocked_for("kari", "10.0.0.2") is not None  # the name, from anywhere
    assert limiter.blocked_for("other", "10.0.0.1") is not None  # the address, for any name
    assert limiter.blocked_for("other", "10.0.0.2") is None
    clock.advance(15 * 60)
    assert limiter.blocked_for("kari", "10.0.0.1") is None


def test_session_codec_expires_idle_and_absolute_and_refuses_forgeries() -> None:
    codec = SessionCodec(b"k" * 32, ConsoleSettings(session_minutes=30, session_max_hours=8))
    start = datetime(2026, 1, 1, 8, tzinfo=UTC)
    session = codec.new("drift", start)
    cookie = codec.dump(session)
    assert codec.load(cookie, start + timedelta(minutes=29)) == session
    assert codec.load(cookie, start + timedelta(minutes=31)) is None
    busy = codec.dump(session.__class__(session.name, session.sid, start, start + timedelta(hours=8)))
    assert codec.load(busy, start + timedelta(hours=8, minutes=1)) is None  # active all day: still 8 h at most
    assert codec.load(cookie[:-2] + "xx", start) is None
    other = SessionCodec(b"x" * 32, ConsoleSettings())
    assert other.load(cookie, start) is None


def test_proxy_identity_only_from_the_pinned_address() -> None:
    proxy = TrustedProxySettings(address="10.1.1.1", default_role="viewer")
    accounts = {"kari": "admin"}.get
    user, warning = proxy_identity(proxy, "10.1.1.1", {"X-Remote-User": "kari", "X-Remote-Role": "operations"},
                                   accounts)
    assert user is not None and (user.name, user.role, user.via) == ("kari", "operations", "proxy")
    user, _ = proxy_identity(proxy, "10.1.1.1", {"X-Remote-User": "kari", "X-Remote-Role": "root"}, accounts)
    assert user is not None and user.role == "viewer"  # an unknown role header: the default role
    no_default = TrustedProxySettings(address="10.1.1.1", role_header=None)
    user, _ = proxy_identity(no_default, "10.1.1.1", {"X-Remote-User": "kari"}, accounts)
    assert user is not None and user.role == "admin"  # the account's role
    user, warning = proxy_identity(no_default, "10.1.1.1", {"X-Remote-User": "okand"}, accounts)
    assert user is None and warning and "no role" in warning
    user, warning = proxy_identity(proxy, "10.6.6.6", {"X-Remote-User": "kari"}, accounts)
    assert user is None and warning and "10.6.6.6" in warning


def test_bind_refusal() -> None:
    assert bind_refusal("127.0.0.1", tls=False, public_without_tls=False) is None
    assert bind_refusal("::1", tls=False, public_without_tls=False) is None
    assert bind_refusal("localhost", tls=False, public_without_tls=False) is None
    assert bind_refusal("0.0.0.0", tls=True, public_without_tls=False) is None
    assert bind_refusal("10.0.0.5", tls=False, public_without_tls=True) is None
    refusal = bind_refusal("0.0.0.0", tls=False, public_without_tls=False)
    assert refusal is not None and "--tls-cert" in refusal and "--public-without-tls" in refusal


# -- logins -----------------------------------------------------------------------------------------------------


def test_login_works_and_logout_ends_the_session(console: ServedConsole, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(console.url + "/audit")
    assert "/login" in page.url  # not logged in: to the login page, and back after it
    page.fill("input[name=username]", "drift")
    page.fill("input[name=password]", USERS["drift"][1])
    page.click("button[type=submit]")
    page.wait_for_url(console.url + "/audit")
    assert page.get_by_test_id("user").inner_text() == "drift"
    assert page.get_by_test_id("role").inner_text() == "operations"
    login = audit_rows(console, "login")[0]
    assert (login.who, login.role, login.result) == ("drift", "operations", "ok")
    cookie = next(c for c in page.context.cookies() if c["name"] == "casebot_console")

    page.click("text=Log out")
    page.wait_for_url(re.compile(r"/login"))
    assert audit_rows(console, "logout")[0].who == "drift"
    # The old cookie, replayed, is refused: the session ended at the logout.
    replay = httpx.get(console.url + "/audit", cookies={"casebot_console": cookie["value"]}, follow_redirects=False)
    assert replay.status_code == 303 and "/login" in replay.headers["location"]


def test_wrong_password_is_refused_and_audited(console: ServedConsole, page) -> None:  # type: ignore[no-untyped-def]
    console.login(page, "drift", "not-the-password", expect_ok=False)
    assert "Wrong user name or password" in page.get_by_test_id("login-error").inner_text()
    assert "/login" in page.url
    row = audit_rows(console, "login")[0]
    assert (row.who, row.result) == ("drift", "refused: password")
    assert "not-the-password" not in str(row.detail)
    console.login(page, "nobody", "whatever-it-is", expect_ok=False)
    assert audit_rows(console, "login")[0].result == "refused: password"  # an unknown name looks the same


def test_sixth_wrong_login_and_then_the_right_one_are_refused_429(console: ServedConsole, page  # type: ignore[no-untyped-def]
                                                                  ) -> None:
    def attempt(password: str) -> int:
        page.goto(console.url + "/login")
        page.fill("input[name=username]", "drift")
        page.fill("input[name=password]", password)
        with page.expect_navigation() as navigation:
            page.click("button[type=submit]")
        return navigation.value.status

    assert [attempt("wrong-password-x") for _ in range(5)] == [401] * 5
    assert attempt("wrong-password-x") == 429
    assert "Too many failed logins" in page.get_by_test_id("login-error").inner_text()
    assert attempt(USERS["drift"][1]) == 429  # even the right password, within the window
    results = [r.result for r in audit_rows(console, "login")]
    assert results[:2] == ["refused: rate limit"] * 2 and results.count("refused: password") == 5
    assert isinstance(console.clock, MovableClock)
    console.clock.advance(15 * 60 + 1)
    assert attempt(USERS["drift"][1]) == 200  # the redirect after the login, followed
    assert page.get_by_test_id("user").inner_text() == "drift"


# -- roles and CSRF ------------------------------------------------------------------------------------------------


def test_a_viewers_action_is_refused_403_with_its_audit_row(console: ServedConsole, page  # type: ignore[no-untyped-def]
                                                            ) -> None:
    console.login(page, "lasare")
    status, body = browser_post(page, "/actions/pause", {"csrf_token": csrf_of(page), "reason": "patch"})
    assert status == 403 and "viewer" in body
    row = audit_rows(console, "pause_scheduler")[0]
    assert (row.who, row.role, row.result) == ("lasare", "viewer", "refused: role")
    with console.store() as store:
        assert store.control(PAUSE_KEY) is None
    page.goto(console.url + "/audit")  # reading is allowed
    assert "refused: role" in page.get_by_test_id("audit").inner_text()


def test_an_admin_may_not_start_a_night(console: ServedConsole, page) -> None:  # type: ignore[no-untyped-def]
    console.login(page, "admin")
    status, _ = browser_post(page, "/actions/start-night", {"csrf_token": csrf_of(page)})
    assert status == 403
    assert audit_rows(console, "start_night")[0].result == "refused: role"


def test_posts_without_or_with_a_wrong_csrf_token_are_refused(console: ServedConsole, page  # type: ignore[no-untyped-def]
                                                              ) -> None:
    console.login(page, "drift")
    assert browser_post(page, "/actions/pause", {"reason": "patch"})[0] == 403
    assert browser_post(page, "/actions/pause", {"reason": "patch", "csrf_token": "forged"})[0] == 403
    assert browser_post(page, "/logout", {})[0] == 403
    rows = audit_rows(console, "pause_scheduler")
    assert [r.result for r in rows] == ["refused: csrf", "refused: csrf"] and rows[0].who == "drift"
    with console.store() as store:
        assert store.control(PAUSE_KEY) is None
    # The login form has a token of its own before there is a session.
    response = post_form(console, "/login", {"username": "drift", "password": USERS["drift"][1]})
    assert response.status_code == 403 and "casebot_console" not in response.headers.get("set-cookie", "")
    assert audit_rows(console, "login")[0].result == "refused: csrf"
    # The right token from a page is accepted: the same POST goes through.
    assert browser_post(page, "/actions/pause", {"reason": "patch", "csrf_token": csrf_of(page)})[0] == 303


# -- the session cookie -----------------------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_strict(console: ServedConsole, page) -> None:  # type: ignore[no-untyped-def]
    console.login(page, "drift")
    cookie = next(c for c in page.context.cookies() if c["name"] == "casebot_console")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # no script can read it


def test_cookie_is_secure_when_tls_is_on(tmp_path: Path, serve_console: Callable[..., ServedConsole]) -> None:
    config = console_config(tmp_path)
    # The console is served here without TLS, but configured for it: the flag is set either way.
    settings = ConsoleSettings(tls_cert=tmp_path / "cert.pem", tls_key=tmp_path / "key.pem")
    console = serve_console(config, settings=settings)
    response = httpx.get(console.url + "/login")
    assert "secure" in response.headers["set-cookie"].lower()


def test_session_expires_when_idle_and_renews_with_use(console: ServedConsole, page) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(console.clock, MovableClock)
    console.login(page, "drift")
    for _ in range(3):  # an hour of use, a click every 20 minutes
        console.clock.advance(20 * 60)
        page.goto(console.url + "/audit")
        assert "/login" not in page.url
    console.clock.advance(31 * 60)
    page.goto(console.url + "/audit")
    assert "/login" in page.url


def test_session_ends_after_its_absolute_limit(tmp_path: Path, serve_console: Callable[..., ServedConsole],
                                               page) -> None:  # type: ignore[no-untyped-def]
    clock = MovableClock()
    console = serve_console(console_config(tmp_path), settings=ConsoleSettings(session_max_hours=1), clock=clock)
    console.login(page, "drift")
    for _ in range(2):
        clock.advance(20 * 60)
        page.goto(console.url + "/audit")
        assert "/login" not in page.url
    clock.advance(21 * 60)  # busy all along (idle 21 minutes of the 30 allowed), but the hour is up
    page.goto(console.url + "/audit")
    assert "/login" in page.url


# -- the trusted proxy --------------------------------------------------------------------------------------------


def test_proxy_header_is_trusted_from_the_pinned_address_only(tmp_path: Path, browser,  # type: ignore[no-untyped-def]
                                                              serve_console: Callable[..., ServedConsole]) -> None:
    trusted = serve_console(console_config(tmp_path / "a"), settings=ConsoleSettings(
        trusted_proxy=TrustedProxySettings(address="127.0.0.1")))
    elsewhere = serve_console(console_config(tmp_path / "b"), settings=ConsoleSettings(
        trusted_proxy=TrustedProxySettings(address="10.9.9.9")))
    context = browser.new_context(extra_http_headers={"X-Remote-User": "kari.sso", "X-Remote-Role": "operations"})
    try:
        page = context.new_page()
        page.goto(trusted.url + "/audit")
        assert page.url == trusted.url + "/audit"
        assert page.get_by_test_id("user").inner_text() == "kari.sso"
        assert page.get_by_test_id("role").inner_text() == "operations"
        # Actions still need the page's CSRF token, and are audited under the proxy's user.
        status, _ = browser_post(page, "/actions/pause", {"csrf_token": csrf_of(page), "reason": "sso"})
        assert status == 303
        assert audit_rows(trusted, "pause_scheduler")[0].who == "kari.sso"

        page.goto(elsewhere.url + "/audit")
        assert "/login" in page.url  # the same header from an address that is not the proxy: ignored
        console_user = page.locator("[data-testid=user]")
        assert console_user.count() == 0
    finally:
        context.close()


# -- headers, pages, files ----------------------------------------------------------------------------------------


def test_security_headers_and_no_inline_script(console: ServedConsole, page) -> None:  # type: ignore[no-untyped-def]
    response = httpx.get(console.url + "/login")
    csp = response.headers["content-security-policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    console.login(page, "drift")
    page.goto(console.url + "/audit")
    assert page.locator("script:not([src])").count() == 0


def test_artefacts_only_for_operations_and_only_listed_files(tmp_path: Path, browser,  # type: ignore[no-untyped-def]
                                                             serve_console: Callable[..., ServedConsole]) -> None:
    seeded = seed(tmp_path)
    console = serve_console(seeded.config, clock=seeded.clock)
    failed = seeded.item(seeded.run1, "EB-4")
    protected = seeded.item(seeded.run1, "EB-3")
    context = browser.new_context()
    try:
        page = context.new_page()
        console.login(page, "drift")

        def get(path: str) -> int:
            return page.evaluate("async p => (await fetch(p)).status", path)

        assert get(f"/artefacts/{failed}/EB-4-20241201T003000-casesystem.png") == 200
        assert get(f"/artefacts/{failed}/EB-4-20241201T003000-casesystem-trace.zip") == 200
        assert get(f"/artefacts/{failed}/EB-4-20241101T003000-skv.png") == 404  # past its retention
        assert get(f"/artefacts/{failed}/EB-44-20241201T003000-casesystem.png") == 404  # another case's
        assert get(f"/artefacts/{failed}/EB-4-notes.txt") == 404  # not an artefact
        assert get(f"/artefacts/{failed}/..%2F..%2Frobot.yaml") == 404
        assert get(f"/artefacts/{failed}/%2e%2e") == 404
        assert get(f"/artefacts/{protected}/EB-3-20241201T003000-casesystem.png") == 404  # protected identity
        page.goto(console.url + "/login")
        context.clear_cookies()
        console.login(page, "lasare")
        assert get(f"/artefacts/{failed}/EB-4-20241201T003000-casesystem.png") == 403
    finally:
        context.close()


# -- /metrics and /healthz ------------------------------------------------------------------------------------------


def test_healthz_and_metrics(console: ServedConsole) -> None:
    health = httpx.get(console.url + "/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "store": "ok"}
    metrics = httpx.get(console.url + "/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(metrics.text)}
    assert any(name.startswith("casebot_") for name in names)

    Path(console.config.store_url[len("sqlite:///"):]).unlink()
    gone = httpx.get(console.url + "/healthz")
    assert gone.status_code == 503 and gone.json()["store"] == "unavailable"


def test_metrics_need_the_bearer_token_when_one_is_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              serve_console: Callable[..., ServedConsole]) -> None:
    monkeypatch.setenv("CASEBOT_TEST_METRICS_TOKEN", "scrape-me-please")
    console = serve_console(console_config(tmp_path),
                            settings=ConsoleSettings(metrics_token_env="CASEBOT_TEST_METRICS_TOKEN"))
    assert httpx.get(console.url + "/metrics").status_code == 401
    assert httpx.get(console.url + "/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    scrape = httpx.get(console.url + "/metrics", headers={"Authorization": "Bearer scrape-me-please"})
    assert scrape.status_code == 200
    assert httpx.get(console.url + "/healthz").status_code == 200  # the load balancer needs no token


# -- the CLI --------------------------------------------------------------------------------------------------------


def _casebot(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_console_refuses_a_public_address_without_tls(tmp_path: Path) -> None:
    config = write_config(console_config(tmp_path), tmp_path / "config.yaml")
    refused = _casebot("console", "--config", str(config), "--host", "0.0.0.0")
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "without TLS" in lines[0] and "--tls-cert" in lines[0]


def test_console_user_cli_adds_lists_changes_and_removes_with_audit_rows(tmp_path: Path) -> None:
    config = str(write_config(console_config(tmp_path), tmp_path / "config.yaml"))
    added = _casebot("console-user", "add", "kari", "--role", "viewer", "--password-stdin", "--config", config,
                     stdin="a-long-password-1\n")
    assert added.returncode == 0, added.stderr
    short = _casebot("console-user", "add", "kort", "--role", "viewer", "--password-stdin", "--config", config,
                     stdin="short\n")
    assert short.returncode == 2 and "12 characters" in short.stderr
    assert _casebot("console-user", "set-role", "kari", "--role", "admin", "--config", config).returncode == 0
    listed = _casebot("console-user", "list", "--config", config)
    assert re.search(r"^kari\s+admin\s+active", listed.stdout, re.MULTILINE)
    assert _casebot("console-user", "disable", "kari", "--config", config).returncode == 0
    listed = _casebot("console-user", "list", "--config", config)
    assert re.search(r"^kari\s+admin\s+disabled", listed.stdout, re.MULTILINE)
    assert _casebot("console-user", "enable", "kari", "--config", config).returncode == 0
    assert _casebot("console-user", "disable", "nobody", "--config", config).returncode == 1
    db = Path(console_config(tmp_path).store_url[len("sqlite:///"):])
    with SqliteStore(db) as store:
        user = store.console_user("kari")
        assert user is not None and user.password_hash.startswith("$argon2")
        assert "a-long-password-1" not in user.password_hash
    assert _casebot("console-user", "remove", "kari", "--config", config).returncode == 0
    assert _casebot("console-user", "remove", "kari", "--config", config).returncode == 1
    with SqliteStore(db) as store:
        assert store.console_user("kari") is None
        rows = [(r.action, r.who, r.target, r.result) for r in reversed(store.audit_log(20))]
    me = getpass.getuser()
    assert rows == [("user_added", me, "kari", "ok"), ("user_role_changed", me, "kari", "ok"),
                    ("user_disabled", me, "kari", "ok"), ("user_enabled", me, "kari", "ok"),
                    ("user_disabled", me, "nobody", "failed: no such user"),
                    ("user_removed", me, "kari", "ok"), ("user_removed", me, "kari", "failed: no such user")]


def test_a_weaker_hash_is_upgraded_at_login(console: ServedConsole, page) -> None:  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("an-old-password-1")
    with console.store() as store:
        store.save_console_user("gammal", "viewer", old)
    console.login(page, "gammal", "an-old-password-1")
    assert page.get_by_test_id("user").inner_text() == "gammal"
    with console.store() as store:
        user = store.console_user("gammal")
    assert user is not None and user.password_hash != old and PasswordHasher().verify(user.password_hash,
                                                                                       "an-old-password-1")
    assert not PasswordHasher().check_needs_rehash(user.password_hash)
