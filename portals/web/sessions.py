"""Logins, server-side sessions with idle expiry, account lockout, CSRF and the post-login system message.

Shared by every portal so each behaves like a legacy system: a session cookie per origin, a session
that dies after `session_ttl_s` idle seconds, lockout after five failed attempts, and a CSRF token that
every state-changing form must carry.
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from portals.web import generated_names
from portals.web.context import PortalContext

MAX_FAILED_LOGINS = 5
# The login form's fields; in a layout with generated names (v3) their names change on every render.
LOGIN_FIELDS = ("anvandarnamn", "losenord")
CSRF_MESSAGE = "Formuläret har gått ut eller saknar säkerhetsnyckel. Ladda om sidan och försök igen."


@dataclass
class Session:
    token: str
    username: str
    role: str
    display_name: str
    csrf: str
    acknowledged: bool


class NotLoggedIn(Exception):
    def __init__(self, expired: bool) -> None:
        self.expired = expired


def cookie_name(ctx: PortalContext) -> str:
    return f"{ctx.name}_sid"


def login_csrf_cookie(ctx: PortalContext) -> str:
    # Per portal: browsers share cookies between ports of one host, and the sandbox serves every portal on
    # 127.0.0.1, where real portals each have a host of their own.
    return f"{ctx.name}_login_csrf"


def current_session(ctx: PortalContext, request: Request) -> Session:
    """The caller's live session, refreshing its idle timer; raises NotLoggedIn otherwise."""
    token = request.cookies.get(cookie_name(ctx))
    if not token:
        raise NotLoggedIn(expired=False)
    row = ctx.conn.execute(
        "SELECT s.*, u.role, u.display_name FROM sb_sessions s JOIN sb_users u "
        "ON u.portal = s.portal AND u.username = s.username WHERE s.token = ? AND s.portal = ?",
        (token, ctx.name),
    ).fetchone()
    if row is None:
        raise NotLoggedIn(expired=True)
    now = time.time()
    if now - row["last_seen"] > ctx.knobs().session_ttl_s:
        ctx.conn.execute("DELETE FROM sb_sessions WHERE token = ?", (token,))
        raise NotLoggedIn(expired=True)
    ctx.conn.execute("UPDATE sb_sessions SET last_seen = ? WHERE token = ?", (now, token))
    return Session(token, row["username"], row["role"], row["display_name"], row["csrf"],
                   bool(row["acknowledged"]))


def not_logged_in_response(ctx: PortalContext, request: Request, exc: NotLoggedIn) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": "session_expired" if exc.expired else "not_logged_in"}, status_code=401)
    target = "/login?utgangen=1" if exc.expired else "/login"
    if request.method == "GET":
        target += ("&" if "?" in target else "?") + "next=" + quote(str(request.url.path))
    return RedirectResponse(target, status_code=303)


def check_csrf(session: Session, submitted: str | None) -> None:
    if not submitted or not secrets.compare_digest(submitted, session.csrf):
        raise PermissionError("CSRF-kontroll misslyckades")


def csrf_error_response(ctx: PortalContext) -> HTMLResponse:
    return HTMLResponse(ctx.render("error.html", title="Ogiltig begäran", message=CSRF_MESSAGE), status_code=403)


async def login_page(ctx: PortalContext, request: Request, message: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(16)
    if not message and request.query_params.get("utgangen"):
        message = "Din session har gått ut. Logga in igen."
    layout = ctx.knobs().layout
    nonce, names = generated_names.new_names(LOGIN_FIELDS, layout)  # in v1/v2 the names are the keys
    html = ctx.render("login.html", layout=layout, csrf=token, message=message,
                      next=request.query_params.get("next", ""), nonce=nonce, names=names)
    response = HTMLResponse(html, status_code=status)
    response.set_cookie(login_csrf_cookie(ctx), token, httponly=True, samesite="lax")
    return response


async def login_submit(ctx: PortalContext, request: Request) -> Response:
    form = await request.form()
    cookie_token = request.cookies.get(login_csrf_cookie(ctx))
    if not cookie_token or not secrets.compare_digest(str(form.get("csrf", "")), cookie_token):
        return await login_page(ctx, request, "Inloggningsformuläret har gått ut. Försök igen.", 403)
    fields = generated_names.read(form, LOGIN_FIELDS, ctx.knobs().layout)
    username = fields.get("anvandarnamn", "").strip()
    password = fields.get("losenord", "")
    user = ctx.conn.execute("SELECT * FROM sb_users WHERE portal = ? AND username = ?",
                            (ctx.name, username)).fetchone()
    if user is not None and user["locked"]:
        return await login_page(ctx, request, "Kontot är låst efter för många misslyckade inloggningar. "
                                              "Kontakta systemförvaltningen.", 423)
    # Bytes: compare_digest refuses str with non-ASCII characters, and passwords have them ("lösenord").
    if user is None or not secrets.compare_digest(password.encode(), str(user["password"]).encode()):
        if user is not None:
            attempts = user["failed_attempts"] + 1
            ctx.conn.execute("UPDATE sb_users SET failed_attempts = ?, locked = ? WHERE portal = ? AND username = ?",
                             (attempts, int(attempts >= MAX_FAILED_LOGINS), ctx.name, username))
        return await login_page(ctx, request, "Fel användarnamn eller lösenord.", 401)
    ctx.conn.execute("UPDATE sb_users SET failed_attempts = 0 WHERE portal = ? AND username = ?",
                     (ctx.name, username))
    token = secrets.token_urlsafe(24)
    now = time.time()
    acknowledged = 0 if random.random() < ctx.knobs().system_message_rate else 1
    ctx.conn.execute(
        "INSERT INTO sb_sessions (token, portal, username, csrf, created, last_seen, acknowledged) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (token, ctx.name, username, secrets.token_urlsafe(16), now, now, acknowledged),
    )
    next_path = str(form.get("next", "")) or "/"
    if not next_path.startswith("/") or next_path.startswith("//"):
        next_path = "/"
    target = next_path if acknowledged else "/driftmeddelande?next=" + quote(next_path)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(cookie_name(ctx), token, httponly=True, samesite="lax")
    response.delete_cookie(login_csrf_cookie(ctx))
    return response


async def logout(ctx: PortalContext, request: Request) -> Response:
    token = request.cookies.get(cookie_name(ctx))
    if token:
        ctx.conn.execute("DELETE FROM sb_sessions WHERE token = ?", (token,))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(cookie_name(ctx))
    return response


async def system_message(ctx: PortalContext, request: Request) -> Response:
    """The 'driftmeddelande' some logins are met with; it must be acknowledged before anything else."""
    try:
        session = current_session(ctx, request)
    except NotLoggedIn as exc:
        return not_logged_in_response(ctx, request, exc)
    next_path = request.query_params.get("next", "/")
    if request.method == "POST":
        form = await request.form()
        try:
            check_csrf(session, str(form.get("csrf", "")))
        except PermissionError:
            return csrf_error_response(ctx)
        ctx.conn.execute("UPDATE sb_sessions SET acknowledged = 1 WHERE token = ?", (session.token,))
        target = str(form.get("next", "/"))
        return RedirectResponse(target if target.startswith("/") and not target.startswith("//") else "/",
                                status_code=303)
    return HTMLResponse(ctx.render("system_message.html", csrf=session.csrf, next=next_path))
