"""What every console request shares: one Jinja2 environment and `render`, which hands each template what the
layout needs (the user, the CSRF token, `can`, the time, `mask`, the flash message); the console's state (settings,
store, clock, session codec, login limiter); cookies, flash messages, redirects and audit rows."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Template
from loguru import logger
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from bot.config import Config, ConsoleSettings
from bot.console.auth import SessionCodec
from bot.console.security import LoginLimiter, allowed
from bot.masking import mask_text
from bot.store import Store

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def _can_for(request: Request) -> Callable[[str], bool]:
    user = getattr(request.state, "user", None)
    role = getattr(user, "role", None)
    return lambda action: role is not None and allowed(role, action)


def _now(request: Request) -> datetime:
    console = getattr(request.app.state, "console", None)
    return console.clock() if console is not None else datetime.now(UTC)


def layout_context(request: Request, context: dict[str, Any]) -> dict[str, Any]:
    """`context` with what the layout needs; the page's own names win."""
    return {
        "request": request,
        "user": getattr(request.state, "user", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "can": _can_for(request),
        "now": _now(request),
        "mask": mask_text,
        "flash": getattr(request.state, "flash", None),
        **context,
    }


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """The page `template` with `context`; the layout's names are added here so no page can forget them."""
    return templates.TemplateResponse(request, template, layout_context(request, context), status_code=status_code)


def render_string(request: Request, template: Template, context: dict[str, Any], status_code: int = 200) -> Response:
    """Like `render`, for a template made from a string in this environment (a page with no file of its own)."""
    return HTMLResponse(template.render(layout_context(request, context)), status_code=status_code)


# -- what every request shares -----------------------------------------------------------------------------------

Clock = Callable[[], datetime]

FLASH_COOKIE = "casebot_console_flash"

def utcnow() -> datetime:
    return datetime.now(UTC)


class ConsoleState:
    """What every request shares: the settings, one store (its calls are short and thread-safe), the clock, the
    session codec and the login limiter. Background work (the preflight) is tracked here too."""

    def __init__(self, config: Config, settings: ConsoleSettings, store_factory: Callable[[], Store],
                 clock: Clock, key: bytes) -> None:
        self.config = config
        self.settings = settings
        self.store_factory = store_factory
        self.clock = clock
        self.codec = SessionCodec(key, settings)
        self.limiter = LoginLimiter(settings.login_attempts, timedelta(minutes=settings.window_minutes), clock)
        self.ended_sessions: set[str] = set()  # logged out: refused even though the cookie is still well signed
        self.background: dict[str, threading.Thread] = {}
        self._store: Store | None = None
        self._lock = threading.Lock()

    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = self.store_factory()
            return self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    @property
    def secure_cookies(self) -> bool:
        return self.settings.tls_cert is not None

    @property
    def metrics_token(self) -> str | None:
        name = self.settings.metrics_token_env
        return os.environ.get(name) or None if name else None


def console_state(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"



def set_cookie(response: Response, state: ConsoleState, request: Request, name: str, value: str,
                max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=state.secure_cookies or request.url.scheme == "https")


def delete_cookie(response: Response, state: ConsoleState, request: Request, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="strict",
                           secure=state.secure_cookies or request.url.scheme == "https")


def flash_redirect(request: Request, url: str, message: str | None) -> Response:
    response = RedirectResponse(url, status_code=303)
    if message:
        state = console_state(request)
        set_cookie(response, state, request, FLASH_COOKIE, state.codec.sign_flash(message), max_age=120)
    return response


def read_flash(request: Request) -> str | None:
    return console_state(request).codec.read_flash(request.cookies.get(FLASH_COOKIE))


def audit(request: Request, who: str, role: str, action: str, result: str, *, target: str | None = None,
          detail: dict[str, Any] | None = None) -> None:
    """One audit row. Never a password or a personnummer: the detail comes from the actions, which know that."""
    merged = {"address": client_address(request), **(detail or {})}
    try:
        console_state(request).store().record_audit(who, role, action, target=target, detail=merged, result=result)
    except Exception as exc:  # noqa: BLE001 - the refusal stands even if the store cannot take its row
        logger.error("console: could not write the audit row {} {} {}: {}", who, action, result, exc)


def local_path(value: str | None, default: str) -> str:
    """A redirect target inside the console only (no scheme, no other host)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default
