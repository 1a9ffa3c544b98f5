"""Pausing the scheduler for a maintenance window: a switch in the state store (`scheduler.paused`), so the
console, `casebot schedule --pause/--resume` and every scheduler process on the store (several hosts on PostgreSQL)
see the same thing. While it is set every fire is skipped as `paused`, naming who paused it and why; the
scheduler keeps running and takes the next fire after the resume.

The switch's value is JSON text: `{"by": str, "at": iso, "reason": str}`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.masking import mask_text
from bot.store.base import Store

PAUSE_KEY = "scheduler.paused"


def scheduler_paused(store: Store) -> dict[str, Any] | None:
    """Who paused the scheduler, when and why; None while it runs. A value set by hand that is not the expected
    JSON still pauses (a switch an operator set must never be ignored), with the text as its reason."""
    text = store.control(PAUSE_KEY)
    if text is None:
        return None
    try:
        state = json.loads(text)
    except ValueError:
        state = None
    if not isinstance(state, dict):
        return {"by": "?", "at": "", "reason": text}
    return {"by": str(state.get("by", "?")), "at": str(state.get("at", "")), "reason": str(state.get("reason", ""))}


def pause_scheduler(store: Store, by: str, reason: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Pause (or re-pause, replacing who and why); returns the switch's value."""
    state = {"by": by, "at": (now or datetime.now(UTC)).isoformat(timespec="seconds"), "reason": mask_text(reason)}
    store.set_control(PAUSE_KEY, json.dumps(state, ensure_ascii=False))
    # Beside the runs in `casebot status`, like the fires it will skip.
    store.record_event(None, "WARNING", f"scheduler paused by {by}: {state['reason']}", code="SCHEDULE_PAUSED",
                       data=state)
    return state


def resume_scheduler(store: Store, by: str) -> dict[str, Any] | None:
    """Resume; returns the pause that ended (None: it was not paused, and nothing is recorded)."""
    was = scheduler_paused(store)
    store.set_control(PAUSE_KEY, None)
    if was is not None:
        store.record_event(None, "INFO", f"scheduler resumed by {by} (paused by {was['by']} since {was['at']}: "
                           f"{was['reason']})", code="SCHEDULE_RESUMED", data={"by": by, "paused": was})
    return was


def describe_pause(state: dict[str, Any]) -> str:
    """`paused by drift1 since 2026-12-05T22:00:00+00:00: patchning` — what a skipped fire and the status say."""
    since = f" since {state['at']}" if state.get("at") else ""
    return f"paused by {state.get('by', '?')}{since}: {state.get('reason', '')}"
