"""Fault injection for the crash tests: the robot kills itself (SIGKILL, as `kill -9` would) at a named point.

`CASEBOT_CHAOS_KILL_AT=<point>` in the environment arms one point; nothing else changes.
`CASEBOT_CHAOS_FAIL_AT=<point>` instead makes the attempt fail there as a portal that stops answering would
(PORTAL_DOWN, retried), for tests of what a failing attempt leaves behind.
`CASEBOT_CHAOS_RAISE_AT=<point>` raises an exception no code covers (a `ZeroDivisionError`, as a bug would), for
tests of what an unexpected exception in the middle of a case does.
`CASEBOT_CHAOS_CASE=<case id>` limits the armed point to that one case (default: whichever case is in hand), for a
case that kills the robot every time it is worked.

The points are the moments a crash hurts most: right after a write to the case system and before the store knows
about it.
- `collect`, `triage`, `verify`: just after that step's checkpoint;
- `fill`: the form typed but not saved;
- `save`, `note`, `park`: the case system changed (form saved, note written, case parked), not yet checkpointed.
"""

from __future__ import annotations

import os
import signal
import sys

from bot.errors import ErrorCode, SystemException

KILL_AT_ENV = "CASEBOT_CHAOS_KILL_AT"
FAIL_AT_ENV = "CASEBOT_CHAOS_FAIL_AT"
RAISE_AT_ENV = "CASEBOT_CHAOS_RAISE_AT"
CASE_ENV = "CASEBOT_CHAOS_CASE"
POINTS = ("collect", "triage", "fill", "save", "verify", "note", "park")


def point(name: str, case_id: str | None = None) -> None:
    only = os.environ.get(CASE_ENV)
    if only and case_id != only:
        return
    if os.environ.get(KILL_AT_ENV) == name:
        sys.stderr.write(f"chaos: SIGKILL at {name}{f' ({case_id})' if case_id else ''}\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(FAIL_AT_ENV) == name:
        raise SystemException(ErrorCode.PORTAL_DOWN, f"chaos: the portal stopped answering at {name}")
    if os.environ.get(RAISE_AT_ENV) == name:
        raise ZeroDivisionError(f"chaos: an injected bug at {name}")
