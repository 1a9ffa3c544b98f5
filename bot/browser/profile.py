"""Where a night's time goes: per phase (login, inbox, reading the case, each agency's look-up, fill, read back,
note, park, …) the wall time, the page loads and the Playwright calls (messages to the browser driver), for
`casebot bench`. Off unless the bench turns it on: a night pays one context-variable lookup per page load.

Phases nest: a login inside an agency's look-up is counted as `login <portal>`, and its time is in the look-up's
too. Calls made in parallel (the four agencies) each count to their own phase.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any

PHASE: ContextVar[str] = ContextVar("casebot_phase", default="other")


@dataclass
class PhaseFigures:
    runs: int = 0
    wall_s: float = 0.0
    loads: int = 0
    calls: int = 0


class Profile:
    def __init__(self) -> None:
        self.phases: defaultdict[str, PhaseFigures] = defaultdict(PhaseFigures)

    def per_run(self) -> dict[str, dict[str, float]]:
        """Each phase's figures, and the same per run of it (per case, per look-up, per login)."""
        out = {}
        for name, f in sorted(self.phases.items(), key=lambda item: -item[1].wall_s):
            runs = max(f.runs, 1)
            out[name] = {**asdict(f), "wall_s": round(f.wall_s, 2), "wall_per_run_s": round(f.wall_s / runs, 3),
                         "loads_per_run": round(f.loads / runs, 2), "calls_per_run": round(f.calls / runs, 1)}
        return out


_active: Profile | None = None


@contextmanager
def phase(name: str) -> Iterator[None]:
    token = PHASE.set(name)
    start = time.perf_counter()
    try:
        yield
    finally:
        PHASE.reset(token)
        if _active is not None:
            figures = _active.phases[name]
            figures.runs += 1
            figures.wall_s += time.perf_counter() - start


def page_load() -> None:
    if _active is not None:
        _active.phases[PHASE.get()].loads += 1


@contextmanager
def profiling() -> Iterator[Profile]:
    """Count for the block: every message Playwright sends to its driver is one call of the phase it was sent in."""
    global _active
    from playwright._impl.connection import Connection

    original = Connection.send_message_to_server
    profile = Profile()

    def counted(self: Connection, obj: Any, method: str, params: Any, options: Any) -> Any:
        if method != "__waitInfo__":
            profile.phases[PHASE.get()].calls += 1
        return original(self, obj, method, params, options)

    Connection.send_message_to_server = counted  # type: ignore[method-assign,assignment]
    _active = profile
    try:
        yield profile
    finally:
        _active = None
        Connection.send_message_to_server = original  # type: ignore[method-assign]
