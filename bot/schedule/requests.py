"""A night asked for from the console, run by the scheduler.

The console runs as a service of its own. A night it started as its own child would run in the console's unit
and die with it (the console restarted to upgrade it, say; the night would resume later, but not tonight). So
while a scheduler is running on the store the console only asks: it sets `scheduler.night_requested`, and the
leading scheduler, which looks every `LOOK_EVERY_S` seconds, takes the request and runs the night in its own
process and unit, guarded like any fire (the pause, the leadership, one run at a time). With no scheduler running
the console starts the night itself, as it always did.

A scheduler says it is there with `scheduler.heartbeat` at each look. Values are JSON text:
`night_requested`: `{"by": str, "at": iso}`; `heartbeat`: `{"owner": str, "at": iso}`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.store.base import Store

REQUEST_KEY = "scheduler.night_requested"
HEARTBEAT_KEY = "scheduler.heartbeat"
LOOK_EVERY_S = 5.0
# A scheduler not heard from for this long is taken for gone (stopped, or its host down): the console then starts
# the night itself rather than leave a request nobody takes.
ALIVE_WITHIN_S = 30.0


def _load(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def request_night(store: Store, by: str, now: datetime | None = None) -> dict[str, Any]:
    """Ask the scheduler for a night now; returns the request."""
    request = {"by": by, "at": _now(now).isoformat(timespec="seconds")}
    store.set_control(REQUEST_KEY, json.dumps(request, ensure_ascii=False))
    store.record_event(None, "INFO", f"a night was requested by {by}", code="NIGHT_REQUESTED", data=request)
    return request


def night_request(store: Store) -> dict[str, Any] | None:
    """The request waiting for the scheduler, if any."""
    return _load(store.control(REQUEST_KEY))


def take_night_request(store: Store) -> dict[str, Any] | None:
    """The waiting request, removed in the same step: one scheduler runs it, never two."""
    text = store.take_control(REQUEST_KEY)
    if text is None:
        return None
    return _load(text) or {"by": "?", "at": ""}  # a request set by hand is still a request


def beat(store: Store, owner: str, now: datetime | None = None) -> None:
    store.set_control(HEARTBEAT_KEY, json.dumps({"owner": owner, "at": _now(now).isoformat(timespec="seconds")}))


def live_scheduler(store: Store, now: datetime | None = None) -> dict[str, Any] | None:
    """The scheduler that looked for requests within `ALIVE_WITHIN_S` (its owner, when), or None."""
    heartbeat = _load(store.control(HEARTBEAT_KEY))
    if heartbeat is None:
        return None
    try:
        at = datetime.fromisoformat(str(heartbeat.get("at", "")))
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return heartbeat if _now(now) - at <= timedelta(seconds=ALIVE_WITHIN_S) else None
