"""The state store's interface, implemented on SQLite (`SqliteStore`, one host) and PostgreSQL (`PostgresStore`,
several robot hosts on one queue), so the run loop never knows which database it talks to.

Work-item life: `new` → claim_next → `in_progress` (leased to one worker) → complete → `done`
                                                          ↘ business_exception → `business_exception`
                                                          ↘ fail → back to `new` (retryable, attempts left)
                                                                   or `failed`
                                                          ↘ crash → back to `new` (behind the others)
                                                                    or `failed` as CASE_QUARANTINED
A crash is an attempt cut off while the item was held: the process died or hung. It is found by
`release_leases` when a run is continued, or by `claim_next` when the holder's lease has run out. The attempt is
given back (`attempts` is not used up, so killing the whole robot costs no case its retries) and counted in
`crashes` instead; crashed items are claimed after the others, and after `max_crashes` crashes the item is
failed as CASE_QUARANTINED: a case that keeps killing the robot stops being tried.

Every write about an item in progress names the item as claimed (`WorkItem.lease_owner`); if another worker has
since taken it over, the write is refused with LEASE_EXPIRED, so a stale worker can never overwrite the new one's
work. Items failed with a code that holds its case (INTERNAL_ERROR, CASE_QUARANTINED) are not taken by later
runs (`held_items`) until an operator releases them (`release_held`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Self

from bot.errors import ErrorCode, SystemException
from bot.store.models import (
    AuditEntry,
    Checkpoint,
    ConsoleUser,
    Event,
    NewWorkItem,
    RefusedLogin,
    Run,
    RunSummary,
    WorkerInfo,
    WorkItem,
)


class LeaseExpired(SystemException):
    """This worker no longer holds the item: its lease expired and someone else claimed it."""

    def __init__(self, item: WorkItem, message: str = "") -> None:
        super().__init__(ErrorCode.LEASE_EXPIRED,
                         message or f"work item {item.id} is no longer leased to {item.lease_owner}",
                         case_id=item.case_id, retryable=False)


class Store(ABC):
    # -- runs -----------------------------------------------------------------------------------------------
    @abstractmethod
    def open_run(self, config_summary: dict[str, Any] | None = None, *, run_id: str | None = None,
                 owner: str | None = None, resume: bool = True) -> Run:
        """Continue the latest unfinished run (when `resume`), else start a new one."""

    @abstractmethod
    def latest_unfinished_run(self) -> Run | None: ...

    @abstractmethod
    def get_run(self, run_id: str) -> Run | None: ...

    @abstractmethod
    def finish_run(self, run_id: str, status: str = "finished") -> Run: ...

    @abstractmethod
    def list_runs(self, limit: int = 20) -> list[Run]:
        """Newest first."""

    @abstractmethod
    def run_summary(self, run_id: str) -> RunSummary: ...

    # -- work items -----------------------------------------------------------------------------------------
    @abstractmethod
    def add_work_items(self, run_id: str, items: Iterable[NewWorkItem]) -> int:
        """Add items; ones already in the run (same case id) are left as they are. Returns how many were new."""

    @abstractmethod
    def claim_next(self, run_id: str, worker_id: str, lease_seconds: float = 300.0, *,
                   max_crashes: int | None = None) -> WorkItem | None:
        """Atomically lease the next claimable item (new and past its back-off) to `worker_id`, fewest crashes
        first, then in order. An item in progress whose lease ran out is a crash: given back, or quarantined at
        its `max_crashes`-th crash (None: never), before the next item is chosen."""

    @abstractmethod
    def heartbeat(self, item: WorkItem, lease_seconds: float = 300.0) -> WorkItem:
        """Extend the lease; LeaseExpired if another worker took the item."""

    @abstractmethod
    def checkpoint(self, item: WorkItem, step: str, data: Any = None) -> Checkpoint:
        """Record that `step` is done, with what is needed to resume after it. The data is stored as given
        (unmasked: resuming needs it), so the database file is kept owner-only."""

    @abstractmethod
    def last_checkpoint(self, item: WorkItem | int) -> Checkpoint | None: ...

    @abstractmethod
    def checkpoints(self, item: WorkItem | int) -> list[Checkpoint]: ...

    @abstractmethod
    def complete(self, item: WorkItem, outcome: str, *, amount: int | None = None, reasons: Sequence[Any] = (),
                 empty_fields: Sequence[str] = (), pnr: str | None = None) -> WorkItem: ...

    @abstractmethod
    def forget_person(self, item: WorkItem) -> None:
        """Drop the (masked) personnummer of the item: its household has a protected identity, so the store and
        the report keep the case number only."""

    @abstractmethod
    def business_exception(self, item: WorkItem, code: ErrorCode | str, message: str, *,
                           reasons: Sequence[Any] = (), step: str | None = None) -> WorkItem:
        """The data says a human is needed: a final state with outcome `manual`, never retried."""

    @abstractmethod
    def fail(self, item: WorkItem, code: ErrorCode | str, message: str, *, retryable: bool, max_attempts: int,
             retry_in_s: float = 0.0, step: str | None = None) -> WorkItem:
        """A system error. Back to `new` after `retry_in_s` when retryable and attempts remain, else `failed`."""

    @abstractmethod
    def release(self, item: WorkItem) -> WorkItem:
        """Give the item back untouched (a graceful stop): `new` again, the attempt not counted."""

    @abstractmethod
    def release_leases(self, run_id: str, *, alive_within_s: float | None = None,
                       max_crashes: int | None = None) -> int:
        """Make in-progress items of the run claimable now: every one (`alive_within_s` None: no other process
        works on the run), or those whose lease owner is not a live worker (not heard from within `alive_within_s`,
        or its process gone on this host): the process that held them died. Each is a crash, counted as in
        `claim_next` (the attempt given back; quarantined at its `max_crashes`-th). Returns how many."""

    @abstractmethod
    def held_items(self) -> list[WorkItem]:
        """The latest item of every case that is held for an operator: failed with a code that holds its case
        (INTERNAL_ERROR, CASE_QUARANTINED), not released since, and no later item for the case. Later runs leave
        these cases alone."""

    @abstractmethod
    def release_held(self, case_id: str, *, period: str | None = None, by: str = "operator") -> WorkItem | None:
        """An operator's retry of a held case (after a fix, or an investigation): its run takes it again when it
        continues (the item back to `new`, attempts and crashes from zero), or, when that run is over, the next
        run takes it from the inbox. None when the case is not held."""

    @abstractmethod
    def get_item(self, item_id: int) -> WorkItem | None: ...

    @abstractmethod
    def items(self, run_id: str, state: str | None = None) -> list[WorkItem]: ...

    def has_open_items(self, run_id: str) -> bool:
        """Items waiting for their back-off, or held by a worker (of this process or another)."""
        return bool(self.items(run_id, "new") or self.items(run_id, "in_progress"))

    @abstractmethod
    def latest_item_for_case(self, case_id: str, period: str | None = None, *, exclude_run: str | None = None,
                             states: Sequence[str] | None = None) -> WorkItem | None:
        """The most recent work item for the case across all runs (e.g. to see it was already parked)."""

    # -- events ---------------------------------------------------------------------------------------------
    @abstractmethod
    def record_event(self, run_id: str | None, level: str, message: str, *, case_id: str | None = None,
                     code: ErrorCode | str | None = None, data: Any = None) -> Event: ...

    @abstractmethod
    def events(self, run_id: str | None = None, *, case_id: str | None = None, level: str | None = None,
               codes: Sequence[str] | None = None, limit: int | None = None,
               newest_first: bool = False) -> list[Event]:
        """In the order recorded (`newest_first`: the other way, so `limit` keeps the latest); `codes`: only
        events with one of these codes."""

    # -- workers ------------------------------------------------------------------------------------------
    @abstractmethod
    def worker_seen(self, worker_id: str, *, run_id: str | None, state: str, case_id: str | None = None) -> None:
        """A worker's heartbeat: what it is doing now (`idle`, `working` on `case_id`, `stopped`)."""

    @abstractmethod
    def workers(self) -> list[WorkerInfo]:
        """Every worker that ever reported (and was not forgotten), the most recently heard from first."""

    @abstractmethod
    def forget_workers(self, heard_before: datetime) -> int:
        """Drop the workers not heard from since `heard_before` (stopped or dead long ago). Returns how many."""

    # -- refused logins -------------------------------------------------------------------------------
    @abstractmethod
    def refused_login(self, portal: str, username: str) -> RefusedLogin | None:
        """The last password `portal` refused for `username`, if one is remembered."""

    @abstractmethod
    def remember_refused_login(self, portal: str, username: str, salt: str, digest: str) -> None:
        """Remember (replace) the refused password's digest for `portal` and `username`."""

    @abstractmethod
    def forget_refused_login(self, portal: str, username: str) -> None: ...

    # -- the operations console ---------------------------------------------------------------------------
    @abstractmethod
    def record_audit(self, who: str, role: str, action: str, *, target: str | None = None,
                     detail: dict[str, Any] | None = None, result: str = "ok") -> AuditEntry:
        """Write down one console (or console CLI) action: who, in which role, did what to what, and how it went
        ("ok", "refused: …", "failed: …"). The detail and texts are stored masked."""

    @abstractmethod
    def audit_log(self, limit: int = 200, *, action: str | None = None) -> list[AuditEntry]:
        """The latest actions, newest first; only `action` ones when given."""

    @abstractmethod
    def set_control(self, key: str, value: str | None) -> None:
        """Set a small switch shared by every process on the store (e.g. `scheduler.paused`); None removes it."""

    @abstractmethod
    def control(self, key: str) -> str | None: ...

    @abstractmethod
    def take_control(self, key: str) -> str | None:
        """Remove the switch and return its value, in one step: of several processes taking it at once, one gets
        the value and the others None."""

    @abstractmethod
    def save_console_user(self, name: str, role: str, password_hash: str, *,
                          disabled: bool = False) -> ConsoleUser:
        """Add the account, or replace its role, hash and disabled flag (its creation time stays)."""

    @abstractmethod
    def console_user(self, name: str) -> ConsoleUser | None: ...

    @abstractmethod
    def console_users(self) -> list[ConsoleUser]:
        """Every account, by name."""

    @abstractmethod
    def delete_console_user(self, name: str) -> bool:
        """False when there was no such account."""

    # -- lifecycle ------------------------------------------------------------------------------------------
    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
