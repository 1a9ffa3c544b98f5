"""Who may do what, how many failed logins are tolerated, and the headers every response carries."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

ROLES: tuple[str, ...] = ("operations", "admin", "viewer")

# Reading the console is open to every role; each action names the roles that may do it. Failure screenshots and
# traces show a person's data on the portals' screens, so only operations (who handle failures) see them.
PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "view_artefacts": frozenset({"operations"}),
    "retry_case": frozenset({"operations"}),
    "start_night": frozenset({"operations"}),
    "pause_scheduler": frozenset({"operations"}),
    "resume_scheduler": frozenset({"operations"}),
    "run_preflight": frozenset({"operations", "admin"}),
}


def allowed(role: str, action: str) -> bool:
    """Unknown actions are refused: a new action must be given its roles here before anyone can use it."""
    return role in PERMISSIONS.get(action, frozenset())


class LoginLimiter:
    """Failed logins per user name and per client address within a sliding window; at the limit, every login
    for that name or from that address is refused (429) until the oldest failure leaves the window. Kept in
    memory: a restart forgets the count, which costs an attacker a restart of the console they cannot cause."""

    def __init__(self, attempts: int, window: timedelta, clock: Callable[[], datetime]) -> None:
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[datetime]] = {}
        self._lock = threading.Lock()

    def _keys(self, name: str, address: str) -> list[tuple[str, str]]:
        return [("name", name.strip().casefold()), ("address", address)]

    def _recent(self, key: tuple[str, str], now: datetime) -> deque[datetime]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def blocked_for(self, name: str, address: str) -> timedelta | None:
        """How long until a login for `name` from `address` is listened to again; None: it is now."""
        now = self.clock()
        with self._lock:
            waits = [times[0] + self.window - now for key in self._keys(name, address)
                     if len(times := self._recent(key, now)) >= self.attempts]
        return max(waits) if waits else None

    def failed(self, name: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key in self._keys(name, address):
                self._recent(key, now).append(now)

    def succeeded(self, name: str) -> None:
        # The name's count starts again; the address's does not, or an attacker could reset it with an account
        # of their own between guesses.
        with self._lock:
            self._failures.pop(self._keys(name, "")[0], None)


# No inline script (the live view's poll is /static/live.js); inline style is allowed for the templates' small
# touches, which cannot run code.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                           "form-action 'self'; object-src 'none'")

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def is_loopback(host: str) -> bool:
    import ipaddress

    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def bind_refusal(host: str, tls: bool, public_without_tls: bool) -> str | None:
    """Why the console will not listen on `host`, or None. Passwords and session cookies must not cross a network
    in clear text: off this host only with TLS, or when the operator says a proxy in front provides it."""
    if is_loopback(host) or tls or public_without_tls:
        return None
    return (f"refusing to serve the console on {host} without TLS: logins and session cookies would cross the "
            "network in clear text. Give --tls-cert and --tls-key (or console.tls_cert/tls_key in the config), "
            "keep the default 127.0.0.1 behind the municipality's TLS proxy, or pass --public-without-tls if "
            "something else encrypts the traffic")
