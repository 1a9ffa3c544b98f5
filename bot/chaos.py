"""Fault injection for the crash tests: the robot kills itself (SIGKILL, as `kill -9` would) at a named point.

`CASEBOT_CHAOS_KILL_AT=<point>` in the environment arms one point; nothing else changes.
`CASEBOT_CHAOS_FAIL_AT=<point>` instead makes the attempt fail there as a portal that stops answering would
(PORTAL_DOWN, retried), for tests of what a failing attempt leaves behind. The points are the
moments a crash hurts most: right after a write to the case system and before the store knows about it.
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
POINTS = ("collect", "triage", "fill", "save", "verify", "note", "park")


def point(name: str) -> None:
    if os.environ.get(KILL_AT_ENV) == name:
        sys.stderr.write(f"chaos: SIGKILL at {name}\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(FAIL_AT_ENV) == name:
        raise SystemException(ErrorCode.PORTAL_DOWN, f"chaos: the portal stopped answering at {name}")
