"""What the state store hands out: plain, immutable records, the same whichever database is behind it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

State = Literal["new", "in_progress", "done", "business_exception", "failed"]
Outcome = Literal["auto", "partial", "manual"]
RunStatus = Literal["running", "finished", "failed", "aborted"]

STATES: tuple[str, ...] = ("new", "in_progress", "done", "business_exception", "failed")
FINAL_STATES: tuple[str, ...] = ("done", "business_exception", "failed")
OUTCOMES: tuple[str, ...] = ("auto", "partial", "manual")
RUN_STATUSES: tuple[str, ...] = ("running", "finished", "failed", "aborted")
# The steps of one case, in order. Checked in Python rather than by a SQL CHECK: adding a step must not need
# a table rebuild in SQLite.
STEPS: tuple[str, ...] = ("collect", "triage", "compute", "fill", "save", "verify", "note", "park")
LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Run:
    id: str
    started: datetime
    ended: datetime | None
    status: str
    owner: str | None
    counts: dict[str, Any]
    config: dict[str, Any]
    resumed: bool = False  # set by open_run when it continued this run rather than starting it


@dataclass(frozen=True)
class NewWorkItem:
    case_id: str
    period: str
    pnr: str | None = None  # stored masked only
    caseworker: str | None = None  # as the case system's inbox shows it (staff, not the applicant: kept readable)


@dataclass(frozen=True)
class WorkItem:
    id: int
    run_id: str
    case_id: str
    period: str
    state: str
    outcome: str | None
    attempts: int
    last_error_code: str | None
    last_error_message: str | None
    step: str | None
    lease_owner: str | None
    lease_until: datetime | None
    started: datetime | None  # start of the latest attempt
    ended: datetime | None
    duration_ms: int | None  # of the latest attempt
    amount: int | None
    reasons: list[Any] = field(default_factory=list)
    empty_fields: list[str] = field(default_factory=list)
    masked_pnr: str | None = None
    not_before: datetime | None = None  # a retried item waits for its back-off until then
    worked_by: str | None = None  # the worker (host:pid:wN) that ended the latest attempt
    # Attempts cut off by a crash (the process died or hung holding the item): given back, not counted in
    # `attempts`; after `retries.max_crashes` of them the item is quarantined.
    crashes: int = 0
    # When an operator released the item from a hold (INTERNAL_ERROR, CASE_QUARANTINED) for another try.
    released: datetime | None = None
    # The case's caseworker as the case system's inbox showed it when the item was added (None: not shown).
    caseworker: str | None = None


@dataclass(frozen=True)
class Checkpoint:
    id: int
    work_item_id: int
    step: str
    data: Any
    at: datetime


@dataclass(frozen=True)
class Event:
    id: int
    run_id: str | None
    case_id: str | None
    level: str
    code: str | None
    message: str
    at: datetime
    data: Any = None


@dataclass(frozen=True)
class RefusedLogin:
    """A password a portal refused: a salted digest only (see `bot.credentials.password_digest`)."""

    portal: str
    username: str
    salt: str
    digest: str
    at: datetime


WORKER_STATES: tuple[str, ...] = ("idle", "working", "stopped")


@dataclass(frozen=True)
class WorkerInfo:
    """One worker (a robot process's worker task) as it last reported itself: `casebot status` shows these."""

    id: str  # host:pid:wN
    host: str
    pid: int
    run_id: str | None
    state: str  # idle, working, stopped
    case_id: str | None  # the case in hand while working
    started: datetime
    heartbeat: datetime

    def alive(self, now: datetime, within_s: float) -> bool:
        """Still working for us: not stopped, and heard from within `within_s`. On this host the process itself is
        asked too, so a worker killed a moment ago is not taken for alive until its heartbeat grows old."""
        if self.state == "stopped" or (now - self.heartbeat).total_seconds() > within_s:
            return False
        if self.host == os.uname().nodename:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
        return True


CONSOLE_ROLES: tuple[str, ...] = ("operations", "admin", "viewer")


@dataclass(frozen=True)
class AuditEntry:
    """One console action: who did what, when, with which result ("ok", "refused: …", "failed: …")."""

    id: int
    at: datetime
    who: str
    role: str
    action: str
    target: str | None
    detail: dict[str, Any]
    result: str


@dataclass(frozen=True)
class ConsoleUser:
    """An operations console account; the password only as a slow salted hash made by the console."""

    name: str
    role: str  # one of CONSOLE_ROLES
    password_hash: str
    created: datetime
    disabled: bool = False


@dataclass(frozen=True)
class RunSummary:
    run: Run
    total: int
    by_state: dict[str, int]
    by_outcome: dict[str, int]
    errors_by_code: dict[str, int]
    events_by_level: dict[str, int]
    duration_p50_ms: int | None
    duration_p95_ms: int | None

    @property
    def open(self) -> int:
        """Items still to do (new or in progress)."""
        return self.by_state.get("new", 0) + self.by_state.get("in_progress", 0)
