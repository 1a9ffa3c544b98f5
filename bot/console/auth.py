"""Who is asking: console passwords (argon2), the signed session cookie, CSRF tokens, and the trusted reverse
proxy's identity header for municipalities with single sign-on.

No session table: the cookie carries the user name, a session id and its issue and last-seen times, signed with
the console's key; the user's role and whether the account is disabled are read from the store on every
request, so removing an account or changing its role takes effect at the next click.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer
from loguru import logger

from bot.config import ConsoleSettings, TrustedProxySettings
from bot.console.security import ROLES

SESSION_COOKIE = "casebot_console"
LOGIN_COOKIE = "casebot_console_login"  # the pre-session CSRF token of the login form
SECRET_ENV = "CASEBOT_CONSOLE_SECRET"
SECRET_KEYRING = ("casebot/console", "session-secret")

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """(right?, a new hash when the stored one was made with weaker parameters than today's)."""
    try:
        _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False, None
    return True, (_hasher.hash(password) if _hasher.check_needs_rehash(password_hash) else None)


def waste_a_check(password: str) -> None:
    check_password(password, _DUMMY_HASH)


@dataclass(frozen=True)
class ConsoleIdentity:
    """The user a request acts as: from a session cookie (`via` "session") or the proxy header ("proxy")."""

    name: str
    role: str
    via: str = "session"


@dataclass(frozen=True)
class Session:
    name: str
    sid: str
    issued: datetime
    seen: datetime


_key_lock = threading.Lock()
_warned_random_key = False


def signing_key(environ: Mapping[str, str] | None = None) -> bytes:
    """The session-signing key: env CASEBOT_CONSOLE_SECRET, else the OS keyring (casebot/console, session-secret),
    else a random key for this process only (sessions then end when the console restarts: logged once)."""
    global _warned_random_key
    env = os.environ if environ is None else environ
    value = env.get(SECRET_ENV)
    if not value:
        try:
            import keyring

            value = keyring.get_password(*SECRET_KEYRING)
        except Exception:  # noqa: BLE001 - no usable keyring is a normal server setup, not an error
            value = None
    if value:
        return value.encode()
    with _key_lock:
        if not _warned_random_key:
            logger.warning("console: no {} and no keyring secret {}: a random session key for this process, so "
                           "everyone must log in again after a restart", SECRET_ENV, "/".join(SECRET_KEYRING))
            _warned_random_key = True
    return secrets.token_bytes(32)


class SessionCodec:
    """Signs and checks session cookies and derives the CSRF tokens from the same key."""

    def __init__(self, key: bytes, settings: ConsoleSettings) -> None:
        self._key = key
        self._serializer = URLSafeSerializer(key, salt="casebot-console-session")
        self._login_serializer = URLSafeSerializer(key, salt="casebot-console-login")
        self.idle = timedelta(minutes=settings.session_minutes)
        self.absolute = timedelta(hours=settings.session_max_hours)

    def new(self, name: str, now: datetime) -> Session:
        return Session(name=name, sid=secrets.token_urlsafe(18), issued=now, seen=now)

    def dump(self, session: Session) -> str:
        return self._serializer.dumps({"u": session.name, "s": session.sid,
                                       "i": session.issued.timestamp(), "l": session.seen.timestamp()})

    def load(self, value: str | None, now: datetime) -> Session | None:
        """The session, or None when the cookie is missing, forged, idle too long or older than the maximum."""
        if not value:
            return None
        try:
            data: Any = self._serializer.loads(value)
            session = Session(name=str(data["u"]), sid=str(data["s"]),
                              issued=datetime.fromtimestamp(float(data["i"]), UTC),
                              seen=datetime.fromtimestamp(float(data["l"]), UTC))
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        if now - session.seen > self.idle or now - session.issued > self.absolute:
            return None
        return session

    def _mac(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def csrf_for_session(self, sid: str) -> str:
        return self._mac("csrf:session:" + sid)

    def csrf_for_proxy_user(self, name: str) -> str:
        # A proxy user has no session id; a token per name is still unknown to another site.
        return self._mac("csrf:proxy:" + name)

    def new_login_token(self) -> tuple[str, str]:
        """(the form's token, the cookie that vouches for it)."""
        token = secrets.token_urlsafe(24)
        return token, self._login_serializer.dumps(token)

    def sign_flash(self, message: str) -> str:
        return self._login_serializer.dumps(["flash", message])

    def read_flash(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            kind, message = self._login_serializer.loads(value)
        except (BadSignature, TypeError, ValueError):
            return None  # forged or stale: simply not shown
        return str(message) if kind == "flash" else None

    def login_token_ok(self, form_token: str, cookie: str | None) -> bool:
        if not cookie or not form_token:
            return False
        try:
            expected = self._login_serializer.loads(cookie)
        except BadSignature:
            return False
        return isinstance(expected, str) and hmac.compare_digest(expected, form_token)


def tokens_equal(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given), expected)


def proxy_identity(proxy: TrustedProxySettings | None, client: str | None, headers: Mapping[str, str],
                   account_role: Callable[[str], str | None]) -> tuple[ConsoleIdentity | None, str | None]:
    """(the proxy's user, a warning to log). The header counts only from the pinned address; its role comes from
    the role header when valid, else the configured default role, else the user's console account. None with no
    warning when the request simply is not a proxy request."""
    if proxy is None:
        return None, None
    name = (headers.get(proxy.user_header) or "").strip()
    if not name:
        return None, None
    if client != proxy.address:
        return None, (f"console: header {proxy.user_header} from {client}, not from the trusted proxy "
                      f"{proxy.address}: ignored")
    role = (headers.get(proxy.role_header) or "").strip().lower() if proxy.role_header else ""
    if role not in ROLES:
        role = proxy.default_role or account_role(name) or ""
    if role not in ROLES:
        return None, f"console: proxy user {name!r} has no role (no valid role header, default role or account)"
    return ConsoleIdentity(name=name, role=role, via="proxy"), None


# -- accounts (`casebot console-user`) ---------------------------------------------------------------------------

CLI_ROLE = "cli"  # the audit log's role for account changes made on the robot host


def check_new_password(password: str) -> str | None:
    """Why the password will not do, or None. Long beats clever (NCSC/NIST): a length floor, no composition rules."""
    if len(password) < 12:
        return "at least 12 characters, please (a few words make a good one)"
    return None


def add_user(store: Any, name: str, role: str, password: str, by: str) -> Any:
    """Add (or replace) an account; the audit log gets `user_added` with who did it on this host."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    existed = store.console_user(name) is not None
    user = store.save_console_user(name, role, hash_password(password))
    store.record_audit(by, CLI_ROLE, "user_added", target=name, detail={"role": role, "replaced": existed})
    return user


def remove_user(store: Any, name: str, by: str) -> bool:
    removed = bool(store.delete_console_user(name))
    store.record_audit(by, CLI_ROLE, "user_removed", target=name,
                       result="ok" if removed else "failed: no such user")
    return removed


def set_disabled(store: Any, name: str, disabled: bool, by: str) -> Any:
    """Disable an account (its sessions end at their next request: the store is read on every one) or enable it
    again, keeping its role and password. The account, or None when there is no such account."""
    action = "user_disabled" if disabled else "user_enabled"
    user = store.console_user(name)
    if user is None:
        store.record_audit(by, CLI_ROLE, action, target=name, result="failed: no such user")
        return None
    changed = store.save_console_user(name, user.role, user.password_hash, disabled=disabled)
    store.record_audit(by, CLI_ROLE, action, target=name, detail={"was": "disabled" if user.disabled else "active"})
    return changed


def set_role(store: Any, name: str, role: str, by: str) -> Any:
    """The account with its new role, or None when there is no such account."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    user = store.console_user(name)
    if user is None:
        store.record_audit(by, CLI_ROLE, "user_role_changed", target=name, result="failed: no such user")
        return None
    changed = store.save_console_user(name, role, user.password_hash, disabled=user.disabled)
    store.record_audit(by, CLI_ROLE, "user_role_changed", target=name, detail={"from": user.role, "to": role})
    return changed
