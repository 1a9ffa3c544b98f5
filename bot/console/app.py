"""The console's Starlette app: routes, who is asking, role and CSRF checks, the audit rows, and the headers.

Each page calls one view function of `bot.console.views` with the store (and the config and the time where it
needs them) and renders that view's template. A template gets the view's result as `view` and, when the result
is a dict or a dataclass, its keys or fields by name too; and from `web.render` the layout's names (`user`,
`csrf_token`, `can`, `now`, `mask`, `flash`, `request`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from loguru import logger
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.config import Config, ConsoleSettings
from bot.console import auth
from bot.console.security import SECURITY_HEADERS, allowed
from bot.console.web import (
    FLASH_COOKIE,
    STATIC_DIR,
    Clock,
    ConsoleState,
    audit,
    client_address,
    console_state,
    delete_cookie,
    flash_redirect,
    local_path,
    read_flash,
    render,
    render_string,
    set_cookie,
    templates,
    utcnow,
)
from bot.store import Store

Handler = Callable[[Request], Awaitable[Response]]


# -- identity -------------------------------------------------------------------------------------------------


def _identify(request: Request) -> tuple[auth.ConsoleIdentity | None, auth.Session | None]:
    """The user of this request (re-read from the store: role and disabled), and their session when by cookie.
    A request the trusted proxy vouches for never also uses a session cookie."""
    state = console_state(request)
    store = state.store()

    def account_role(name: str) -> str | None:
        account = store.console_user(name)
        return account.role if account is not None and not account.disabled else None

    proxied, warning = auth.proxy_identity(state.settings.trusted_proxy, client_address(request), request.headers,
                                           account_role)
    if warning:
        logger.warning(warning)
    if proxied is not None:
        account = store.console_user(proxied.name)
        if account is not None and account.disabled:
            logger.warning("console: proxy user {!r} has a disabled account: refused", proxied.name)
            return None, None
        return proxied, None
    session = state.codec.load(request.cookies.get(auth.SESSION_COOKIE), state.clock())
    if session is None or session.sid in state.ended_sessions:
        return None, None
    account = store.console_user(session.name)
    if account is None or account.disabled:
        return None, None
    return auth.ConsoleIdentity(name=account.name, role=account.role), session


def _csrf_token(state: ConsoleState, identity: auth.ConsoleIdentity, session: auth.Session | None) -> str:
    if session is not None:
        return state.codec.csrf_for_session(session.sid)
    return state.codec.csrf_for_proxy_user(identity.name)


def guarded(action: str, handler: Handler, *, audited_action: str | None = None, renew: bool = True) -> Handler:
    """Log-in, role and (for POST) CSRF checks around a handler. `action` is the permission needed ("view" for
    pages); refused actions are written to the audit log under `audited_action`. `renew` False: the request does
    not count as activity (the live panel's poll, or an open tab would keep its session alive for ever)."""

    async def endpoint(request: Request) -> Response:
        state = console_state(request)
        identity, session = await run_in_threadpool(_identify, request)
        if identity is None:
            if request.method == "GET":
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
            return PlainTextResponse("Log in first.", status_code=403)
        request.state.user = identity
        request.state.csrf_token = _csrf_token(state, identity, session)
        request.state.flash = read_flash(request)
        if request.method == "POST":
            form = await request.form()
            if not auth.tokens_equal(str(form.get("csrf_token") or ""), request.state.csrf_token):
                await run_in_threadpool(audit, request, identity.name, identity.role, audited_action or action,
                                        "refused: csrf", target=request.url.path)
                return PlainTextResponse("Refused: the form's security token is missing or wrong (CSRF). Reload "
                                         "the page and try again.", status_code=403)
        if not allowed(identity.role, action):
            if request.method == "POST":
                await run_in_threadpool(audit, request, identity.name, identity.role, audited_action or action,
                                        "refused: role", target=request.url.path)
            return PlainTextResponse(f"Refused: the role {identity.role} may not do this ({action}).",
                                     status_code=403)
        response = await handler(request)
        if session is not None and renew:  # sliding idle expiry: every request renews last-seen
            renewed = dataclasses.replace(session, seen=state.clock())
            set_cookie(response, state, request, auth.SESSION_COOKIE, state.codec.dump(renewed))
        if request.state.flash:
            delete_cookie(response, state, request, FLASH_COOKIE)
        return response

    return endpoint


# -- pages ----------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A view's result as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return value.name
    return value


def page_context(view: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"view": view}
    if isinstance(view, dict):
        context.update({str(k): v for k, v in view.items()})
    elif dataclasses.is_dataclass(view) and not isinstance(view, type):
        context.update({f.name: getattr(view, f.name) for f in dataclasses.fields(view)})
    return context


def not_found(request: Request, what: str) -> Response:
    return PlainTextResponse(f"Not found: {what}", status_code=404)


async def nights_page(request: Request) -> Response:
    from bot.console import views

    state = console_state(request)
    view = await run_in_threadpool(lambda: views.nights_view(state.store(), limit=20, now=state.clock()))
    return render(request, "nights.html", page_context(view))


async def live_api(request: Request) -> Response:
    from bot.console import views

    state = console_state(request)
    view = await run_in_threadpool(views.live_view, state.store(), state.clock(), state.config.store.lease_s)
    return JSONResponse(_plain(view))


async def run_page(request: Request) -> Response:
    from bot.console import views

    run_id = request.path_params["run_id"]
    state = console_state(request)
    view = await run_in_threadpool(lambda: views.run_view(state.store(), run_id, now=state.clock()))
    if view is None:
        return not_found(request, f"run {run_id}")
    return render(request, "run.html", page_context(view))


def _case(request: Request, item_id: int, show_artefacts: bool) -> Any:
    from bot.console import views

    state = console_state(request)
    return views.case_view(state.store(), item_id, state.config, show_artefacts, now=state.clock())


async def case_page(request: Request) -> Response:
    item_id = request.path_params["item_id"]
    show = allowed(request.state.user.role, "view_artefacts")
    view = await run_in_threadpool(_case, request, item_id, show)
    if view is None:
        return not_found(request, f"case {item_id}")
    return render(request, "case.html", page_context(view))


def listed_artefacts(view: Any) -> dict[str, Path]:
    """The files `case_view` lists for the case, by file name: the only ones /artefacts may serve."""
    found = view.get("artefacts") if isinstance(view, dict) else getattr(view, "artefacts", None)
    files: dict[str, Path] = {}
    for entry in found or ():
        path = entry if isinstance(entry, Path) else (
            entry.get("path") if isinstance(entry, dict) else getattr(entry, "path", None))
        if path is not None:
            files[Path(path).name] = Path(path)
    return files


async def artefact_file(request: Request) -> Response:
    item_id = request.path_params["item_id"]
    name = request.path_params["name"]
    if "/" in name or "\\" in name or name in ("", ".", ".."):
        return not_found(request, "artefact")
    # show_artefacts=True: case_view still lists nothing for a protected identity.
    view = await run_in_threadpool(_case, request, item_id, True)
    path = listed_artefacts(view).get(name) if view is not None else None
    folder = console_state(request).config.data_dir.resolve()
    if path is None or not path.is_file() or path.is_symlink() or folder not in path.resolve().parents:
        return not_found(request, "artefact")
    media = {".png": "image/png", ".zip": "application/zip", ".jpg": "image/jpeg"}.get(path.suffix.lower(),
                                                                                     "application/octet-stream")
    disposition = "inline" if media.startswith("image/") else "attachment"
    return FileResponse(path, media_type=media, content_disposition_type=disposition, filename=name)


async def workers_page(request: Request) -> Response:
    from bot.console import views

    state = console_state(request)
    view = await run_in_threadpool(views.workers_view, state.store(), state.clock(), state.config.store.lease_s)
    return render(request, "workers.html", page_context(view))


async def schedules_page(request: Request) -> Response:
    from bot.console import views

    state = console_state(request)
    view = await run_in_threadpool(views.schedules_view, state.config, state.store(), state.clock())
    return render(request, "schedules.html", page_context(view))


async def drift_page(request: Request) -> Response:
    from bot.console import views

    view = await run_in_threadpool(views.drift_view, console_state(request).store())
    context = page_context(view)
    context["preflight_running"] = "preflight" in console_state(request).background
    return render(request, "drift.html", context)


async def automation_page(request: Request) -> Response:
    from bot.console import views

    state = console_state(request)
    view = await run_in_threadpool(views.automation_view, state.store(), state.config, state.clock())
    return render(request, "automation.html", page_context(view))


RUNBOOK_NAME = re.compile(r"^[A-Za-z0-9_-]+\.md$")
RUNBOOK_PAGE = """{% extends "base.html" %}{% block title %}{{ name }}{% endblock %}
{% block content %}<article class="runbook">{{ html }}</article>
{% endblock %}"""


async def runbook_page(request: Request) -> Response:
    """A runbook (runbooks/<CODE>.md), rendered safely: the case and drift pages link here."""
    from bot.console.markdown import render_markdown
    from bot.paths import RUNBOOKS_DIR

    name = request.path_params["name"]
    path = RUNBOOKS_DIR / name
    if not RUNBOOK_NAME.match(name) or not path.is_file():
        return not_found(request, f"runbook {name}")
    html = render_markdown(path.read_text(encoding="utf-8"))
    template = templates.env.from_string(RUNBOOK_PAGE)
    return render_string(request, template, {"name": name, "html": html})


async def audit_page(request: Request) -> Response:
    action = request.query_params.get("action") or None
    entries = await run_in_threadpool(console_state(request).store().audit_log, 200, action=action)
    return render(request, "audit.html", {"entries": entries, "action": action})


# -- login and logout -----------------------------------------------------------------------------------------


def _login_form(request: Request, *, error: str | None = None, status_code: int = 200, name: str = "") -> Response:
    state = console_state(request)
    token, cookie = state.codec.new_login_token()
    request.state.user = None
    request.state.csrf_token = token
    request.state.flash = read_flash(request)
    nxt = local_path(request.query_params.get("next"), "/")
    response = render(request, "login.html", {"error": error, "next": nxt, "name": name}, status_code=status_code)
    set_cookie(response, state, request, auth.LOGIN_COOKIE, cookie, max_age=3600)
    if request.state.flash:
        delete_cookie(response, state, request, FLASH_COOKIE)
    return response


async def login_page(request: Request) -> Response:
    identity, _ = await run_in_threadpool(_identify, request)
    if identity is not None:
        return RedirectResponse(local_path(request.query_params.get("next"), "/"), status_code=303)
    return _login_form(request)


def _check_login(request: Request, name: str, password: str) -> tuple[str, str]:
    """(result for the audit log, role): "ok", "refused: password", "refused: rate limit" ..."""
    state = console_state(request)
    address = client_address(request)
    store = state.store()
    account = store.console_user(name) if name else None
    role = account.role if account is not None else ""
    if state.limiter.blocked_for(name, address) is not None:
        return "refused: rate limit", role
    if account is None or account.disabled:
        auth.waste_a_check(password)
        state.limiter.failed(name, address)
        return ("refused: disabled" if account is not None else "refused: password"), role
    ok, new_hash = auth.check_password(password, account.password_hash)
    if not ok:
        state.limiter.failed(name, address)
        return "refused: password", role
    if new_hash is not None:  # hashed with weaker parameters than today's: upgrade it while we know the password
        store.save_console_user(account.name, account.role, new_hash, disabled=account.disabled)
    state.limiter.succeeded(name)
    return "ok", role


async def login_submit(request: Request) -> Response:
    state = console_state(request)
    identity, _ = await run_in_threadpool(_identify, request)
    if identity is not None and identity.via == "proxy":
        return RedirectResponse("/", status_code=303)  # the proxy vouches for this user: no password on top
    form = await request.form()
    name = str(form.get("username") or "").strip()[:200]
    password = str(form.get("password") or "")
    nxt = local_path(str(form.get("next") or ""), "/")
    if not state.codec.login_token_ok(str(form.get("csrf_token") or ""), request.cookies.get(auth.LOGIN_COOKIE)):
        await run_in_threadpool(audit, request, name or "-", "", "login", "refused: csrf")
        return PlainTextResponse("Refused: the login form's security token is missing or wrong (CSRF). Reload "
                                 "the login page and try again.", status_code=403)
    result, role = await run_in_threadpool(_check_login, request, name, password)
    await run_in_threadpool(audit, request, name or "-", role, "login", result)
    if result == "refused: rate limit":
        wait = state.limiter.blocked_for(name, client_address(request))
        minutes = max(1, round((wait.total_seconds() if wait else 60) / 60))
        return _login_form(request, status_code=429, name=name,
                           error=f"Too many failed logins for this user or from this address. Logins are refused "
                                 f"for about {minutes} more minute(s), even with the right password.")
    if result != "ok":
        return _login_form(request, status_code=401, name=name, error="Wrong user name or password.")
    session = state.codec.new(name, state.clock())
    response = RedirectResponse(nxt, status_code=303)
    set_cookie(response, state, request, auth.SESSION_COOKIE, state.codec.dump(session))
    delete_cookie(response, state, request, auth.LOGIN_COOKIE)
    return response


async def logout(request: Request) -> Response:
    state = console_state(request)
    identity: auth.ConsoleIdentity = request.state.user
    session = state.codec.load(request.cookies.get(auth.SESSION_COOKIE), state.clock())
    if session is not None:
        state.ended_sessions.add(session.sid)
    await run_in_threadpool(audit, request, identity.name, identity.role, "logout", "ok")
    response = flash_redirect(request, "/login", "Logged out.")
    delete_cookie(response, state, request, auth.SESSION_COOKIE)
    return response


# -- /metrics and /healthz ------------------------------------------------------------------------------------


async def metrics(request: Request) -> Response:
    import hmac

    from bot.console import metrics as console_metrics

    state = console_state(request)
    token = state.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return PlainTextResponse("metrics need the bearer token", status_code=401,
                                     headers={"WWW-Authenticate": "Bearer"})
    body = await run_in_threadpool(console_metrics.metrics_text, state.store_factory, state.config.store.lease_s)
    return Response(body, headers={"Content-Type": console_metrics.CONTENT_TYPE})


def store_answers(state: ConsoleState) -> bool:
    url = state.config.store_url
    # SQLite would quietly make a new, empty database where the file was; a missing file is an outage.
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return False
    try:
        state.store().list_runs(1)
    except Exception as exc:  # noqa: BLE001 - any failure to answer is "not ok" for the load balancer
        logger.warning("console: /healthz: the store does not answer: {}", exc)
        return False
    return True


async def healthz(request: Request) -> Response:
    ok = await run_in_threadpool(store_answers, console_state(request))
    return JSONResponse({"status": "ok" if ok else "unavailable", "store": "ok" if ok else "unavailable"},
                        status_code=200 if ok else 503)


# -- the app --------------------------------------------------------------------------------------------------


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response


def routes() -> list[BaseRoute]:
    from bot.console import actions

    return [
        Route("/", guarded("view", nights_page)),
        Route("/api/live", guarded("view", live_api, renew=False)),
        Route("/runs/{run_id}", guarded("view", run_page)),
        Route("/cases/{item_id:int}", guarded("view", case_page)),
        Route("/artefacts/{item_id:int}/{name}", guarded("view_artefacts", artefact_file)),
        Route("/workers", guarded("view", workers_page)),
        Route("/schedules", guarded("view", schedules_page)),
        Route("/drift", guarded("view", drift_page)),
        Route("/automation", guarded("view", automation_page)),
        Route("/audit", guarded("view", audit_page)),
        Route("/runbooks/{name}", guarded("view", runbook_page)),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", guarded("view", logout), methods=["POST"]),
        *[Route(path, guarded(permission, handler, audited_action=permission), methods=["POST"])
          for path, permission, handler in actions.ACTION_ROUTES],
        Route("/metrics", metrics),
        Route("/healthz", healthz),
        Mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]


def create_app(config: Config, settings: ConsoleSettings | None = None, *,
               store_factory: Callable[[], Store] | None = None, clock: Clock | None = None,
               key: bytes | None = None) -> Starlette:
    """The console on `config`'s store. `clock` and `key` are for tests (moving time, a fixed signing key)."""
    from contextlib import asynccontextmanager

    from bot.store import open_store

    settings = settings or config.console
    state = ConsoleState(config, settings, store_factory or (lambda: open_store(config.store_url)),
                         clock or utcnow, key or auth.signing_key())

    @asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        yield
        state.close()

    app = Starlette(routes=routes(), middleware=[Middleware(SecurityHeaders)], lifespan=lifespan)
    app.state.console = state
    return app


def serve(config: Config, settings: ConsoleSettings) -> None:
    """Serve the console with uvicorn until Ctrl-C/SIGTERM (`casebot console`)."""
    import uvicorn

    app = create_app(config, settings)
    scheme = "https" if settings.tls_cert else "http"
    logger.info("console: {}://{}:{}/ on the store {}", scheme, settings.host, settings.port,
                config.summary()["store"])
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False,
                ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
                ssl_keyfile=str(settings.tls_key) if settings.tls_key else None, server_header=False)
