"""The state store's logic in SQL both databases understand; `SqliteStore` and `PostgresStore` add the plumbing.

The SQL is written once with `?` placeholders and runs unchanged on SQLite and PostgreSQL: `RETURNING`, `ON
CONFLICT` and `CASE` are common to both. What differs is how a transaction takes its locks: SQLite takes the
database's write lock up front (BEGIN IMMEDIATE), so claims are serial; PostgreSQL locks the claimed row (`FOR
UPDATE SKIP LOCKED`), so several robots claim different items at the same moment without waiting for each other.
Timestamps are stored as ISO text in UTC with a fixed format, so text order is time order in both databases and
the clock can be injected (tests move it by hand to expire leases).
"""

from __future__ import annotations

import json
import os
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from loguru import logger

from bot.errors import ErrorCode, held_codes
from bot.log import new_run_id  # the run's log file is named after its id: one format for both
from bot.masking import mask_pnr, mask_pnrs_in, mask_text, mask_value
from bot.store.base import LeaseExpired, Store
from bot.store.models import (
    CONSOLE_ROLES,
    LEVELS,
    OUTCOMES,
    RUN_STATUSES,
    STATES,
    STEPS,
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

Clock = Callable[[], datetime]
Row = Mapping[str, Any]


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Tx(Protocol):
    """A connection inside a transaction; `?` placeholders."""

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Cursor: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(moment: datetime) -> str:
    # One fixed format (UTC, microseconds, offset) so that text comparison in SQL is time comparison.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def default_owner() -> str:
    """This robot process, unique across robot hosts: `host:pid`."""
    return f"{os.uname().nodename}:{os.getpid()}"


def worker_id(number: int, owner: str | None = None) -> str:
    """Worker `number` (from 1) of a robot process: `host:pid:wN`, the name its leases and heartbeats carry."""
    return f"{owner or default_owner()}:w{number}"


class SqlStore(Store):
    """Everything but the connection. Subclasses give `_write` (a transaction), `_read` and `close`."""

    claim_lock = ""  # appended to the claim's SELECT: PostgreSQL locks the row it takes

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or _utcnow

    def now(self) -> datetime:
        return self._clock()

    @abstractmethod
    def _write(self) -> AbstractContextManager[Tx]: ...

    @abstractmethod
    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def _tally(self, sql: str, params: Sequence[Any]) -> dict[str, int]:
        return {r["k"]: int(r["n"]) for r in self._read(sql, params)}

    # -- row mapping ----------------------------------------------------------------------------------------
    @staticmethod
    def _run(row: Row, resumed: bool = False) -> Run:
        return Run(id=row["id"], started=_dt(row["started"]) or datetime.min, ended=_dt(row["ended"]),
                   status=row["status"], owner=row["owner"], counts=json.loads(row["counts_json"] or "{}"),
                   config=json.loads(row["config_json"] or "{}"), resumed=resumed)

    @staticmethod
    def _item(row: Row) -> WorkItem:
        return WorkItem(
            id=row["id"], run_id=row["run_id"], case_id=row["case_id"], period=row["period"], state=row["state"],
            outcome=row["outcome"], attempts=row["attempts"], last_error_code=row["last_error_code"],
            last_error_message=row["last_error_message"], step=row["step"], lease_owner=row["lease_owner"],
            lease_until=_dt(row["lease_until"]), started=_dt(row["started"]), ended=_dt(row["ended"]),
            duration_ms=row["duration_ms"], amount=row["amount"], reasons=json.loads(row["reasons_json"]),
            empty_fields=json.loads(row["empty_fields_json"]), masked_pnr=row["masked_pnr"],
            not_before=_dt(row["not_before"]), worked_by=row["worked_by"], crashes=int(row["crashes"] or 0),
            released=_dt(row["released"]), caseworker=row["caseworker"])

    @staticmethod
    def _checkpoint(row: Row) -> Checkpoint:
        return Checkpoint(id=row["id"], work_item_id=row["work_item_id"], step=row["step"],
                          data=json.loads(row["data_json"]), at=_dt(row["at"]) or datetime.min)

    @staticmethod
    def _event(row: Row) -> Event:
        return Event(id=row["id"], run_id=row["run_id"], case_id=row["case_id"], level=row["level"],
                     code=row["code"], message=row["message"], at=_dt(row["at"]) or datetime.min,
                     data=json.loads(row["data_json"]) if row["data_json"] else None)

    def _item_row(self, conn: Tx, item_id: int) -> WorkItem:
        return self._item(conn.execute("SELECT * FROM work_items WHERE id = ?", (item_id,)).fetchone())

    # -- runs -----------------------------------------------------------------------------------------------
    def open_run(self, config_summary: dict[str, Any] | None = None, *, run_id: str | None = None,
                 owner: str | None = None, resume: bool = True) -> Run:
        owner = owner or default_owner()
        with self._write() as conn:
            if resume:
                row = conn.execute("SELECT * FROM runs WHERE status = 'running' "
                                   "ORDER BY started DESC, id DESC LIMIT 1").fetchone()
                if row is not None:
                    conn.execute("UPDATE runs SET owner = ? WHERE id = ?", (owner, row["id"]))
                    row = conn.execute("SELECT * FROM runs WHERE id = ?", (row["id"],)).fetchone()
                    return self._run(row, resumed=True)
            now = self.now()
            new_id = run_id or new_run_id(now)
            conn.execute("INSERT INTO runs (id, started, status, owner, config_json) VALUES (?, ?, 'running', ?, ?)",
                         (new_id, _ts(now), owner, _json(mask_value(config_summary or {}))))
            return self._run(conn.execute("SELECT * FROM runs WHERE id = ?", (new_id,)).fetchone())

    def latest_unfinished_run(self) -> Run | None:
        rows = self._read("SELECT * FROM runs WHERE status = 'running' ORDER BY started DESC, id DESC LIMIT 1")
        return self._run(rows[0]) if rows else None

    def get_run(self, run_id: str) -> Run | None:
        rows = self._read("SELECT * FROM runs WHERE id = ?", (run_id,))
        return self._run(rows[0]) if rows else None

    def finish_run(self, run_id: str, status: str = "finished") -> Run:
        if status not in RUN_STATUSES or status == "running":
            raise ValueError(f"a finished run's status is one of finished, failed, aborted; got {status!r}")
        counts = self._counts(run_id)
        with self._write() as conn:
            conn.execute("UPDATE runs SET ended = ?, status = ?, counts_json = ? WHERE id = ?",
                         (_ts(self.now()), status, _json(counts), run_id))
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(run_id)
        return self._run(row)

    def list_runs(self, limit: int = 20) -> list[Run]:
        return [self._run(r) for r in self._read("SELECT * FROM runs ORDER BY started DESC, id DESC LIMIT ?",
                                                 (limit,))]

    def _counts(self, run_id: str) -> dict[str, Any]:
        by_state = self._tally("SELECT state AS k, COUNT(*) AS n FROM work_items WHERE run_id = ? GROUP BY state",
                               (run_id,))
        by_outcome = self._tally("SELECT outcome AS k, COUNT(*) AS n FROM work_items WHERE run_id = ? "
                                 "AND outcome IS NOT NULL GROUP BY outcome", (run_id,))
        return {"total": sum(by_state.values()), "by_state": by_state, "by_outcome": by_outcome}

    def run_summary(self, run_id: str) -> RunSummary:
        run = self.get_run(run_id)
        if run is None:
            raise KeyError(run_id)
        counts = self._counts(run_id)
        errors = self._tally("SELECT last_error_code AS k, COUNT(*) AS n FROM work_items WHERE run_id = ? "
                             "AND last_error_code IS NOT NULL AND state IN ('failed', 'business_exception') "
                             "GROUP BY last_error_code", (run_id,))
        levels = self._tally("SELECT level AS k, COUNT(*) AS n FROM events WHERE run_id = ? GROUP BY level", (run_id,))
        durations = [r["duration_ms"] for r in self._read(
            "SELECT duration_ms FROM work_items WHERE run_id = ? AND state = 'done' AND duration_ms IS NOT NULL "
            "ORDER BY duration_ms", (run_id,))]
        return RunSummary(run=run, total=counts["total"], by_state=counts["by_state"],
                          by_outcome=counts["by_outcome"], errors_by_code=errors, events_by_level=levels,
                          duration_p50_ms=_percentile(durations, 50), duration_p95_ms=_percentile(durations, 95))

    # -- work items -----------------------------------------------------------------------------------------
    def add_work_items(self, run_id: str, items: Iterable[NewWorkItem]) -> int:
        now = _ts(self.now())
        rows = [(run_id, i.case_id, i.period, mask_pnr(i.pnr) if i.pnr else None, _caseworker(i.caseworker), now)
                for i in items]
        with self._write() as conn:
            return sum(conn.execute("INSERT INTO work_items (run_id, case_id, period, masked_pnr, caseworker, created) "
                                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, case_id) DO NOTHING",
                                    row).rowcount
                       for row in rows)

    def claim_next(self, run_id: str, worker_id: str, lease_seconds: float = 300.0, *,
                   max_crashes: int | None = None) -> WorkItem | None:
        now = self.now()
        with self._write() as conn:
            while True:
                # Fewest crashes first: a case that crashed waits behind the cases that did not.
                row = conn.execute(
                    "SELECT * FROM work_items WHERE run_id = ? AND ("
                    " (state = 'new' AND (not_before IS NULL OR not_before <= ?))"
                    " OR (state = 'in_progress' AND lease_until < ?)) ORDER BY crashes, id LIMIT 1" + self.claim_lock,
                    (run_id, _ts(now), _ts(now))).fetchone()
                if row is None:
                    return None
                if row["state"] != "in_progress":
                    break
                # A worker died or hung holding this item: its attempt was cut off. Back to the queue (or to
                # quarantine), then choose again: the item now stands behind the cases that did not crash.
                self._count_crash(conn, row, f"lease of {row['lease_owner']} expired (found by {worker_id})",
                                  max_crashes)
            conn.execute("UPDATE work_items SET state = 'in_progress', attempts = attempts + 1, lease_owner = ?, "
                         "lease_until = ?, started = ?, ended = NULL, duration_ms = NULL, not_before = NULL "
                         "WHERE id = ?",
                         (worker_id, _ts(now + timedelta(seconds=lease_seconds)), _ts(now), row["id"]))
            return self._item_row(conn, row["id"])

    def _count_crash(self, conn: Tx, row: Row, why: str, max_crashes: int | None) -> bool:
        """An attempt of this in-progress item was cut off by a crash: give the attempt back and count the crash;
        at the `max_crashes`-th, quarantine the item. True when it was quarantined."""
        crashes = int(row["crashes"] or 0) + 1
        of = f" of {max_crashes}" if max_crashes is not None else ""
        last = row["step"] or "none"
        data = {"crashes": crashes, "max_crashes": max_crashes, "step": row["step"], "worker": row["lease_owner"]}
        # worked_by: the worker that held the item when it crashed, whose log tells what it was doing.
        common = ("crashes = ?, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, "
                  "worked_by = lease_owner, lease_owner = NULL, lease_until = NULL, not_before = NULL")
        if max_crashes is not None and crashes >= max_crashes:
            code = ErrorCode.CASE_QUARANTINED
            message = (f"{why}: crash {crashes}{of} with the case in hand (last checkpoint: {last}); quarantined: "
                       "not taken again until an operator releases it")
            conn.execute(f"UPDATE work_items SET state = 'failed', {common}, last_error_code = ?, "
                         "last_error_message = ?, ended = ? WHERE id = ?",
                         (crashes, code.value, mask_text(message), _ts(self.now()), row["id"]))
            self._insert_event(conn, row["run_id"], "ERROR", message, row["case_id"], code,
                               {**data, "runbook": code.runbook})
            logger.bind(case_id=row["case_id"], code=code.value).error("{} — runbook: {}", message, code.runbook)
            return True
        code = ErrorCode.LEASE_EXPIRED
        message = f"{why}: crash {crashes}{of}; the attempt is given back and the case waits behind the others"
        conn.execute(f"UPDATE work_items SET state = 'new', {common} WHERE id = ?", (crashes, row["id"]))
        self._insert_event(conn, row["run_id"], "WARNING", message, row["case_id"], code,
                           {**data, "runbook": code.runbook})
        logger.bind(case_id=row["case_id"], code=code.value).warning("{}", message)
        return False

    def _owned_update(self, conn: Tx, item: WorkItem, sql_set: str, params: Sequence[Any]) -> None:
        """Update an item this worker holds; refuse if the lease passed to someone else."""
        cursor = conn.execute(f"UPDATE work_items SET {sql_set} WHERE id = ? AND state = 'in_progress' "
                              "AND lease_owner = ?", (*params, item.id, item.lease_owner))
        if cursor.rowcount == 0:
            raise LeaseExpired(item)

    def heartbeat(self, item: WorkItem, lease_seconds: float = 300.0) -> WorkItem:
        with self._write() as conn:
            self._owned_update(conn, item, "lease_until = ?", (_ts(self.now() + timedelta(seconds=lease_seconds)),))
            return self._item_row(conn, item.id)

    def checkpoint(self, item: WorkItem, step: str, data: Any = None) -> Checkpoint:
        if step not in STEPS:
            raise ValueError(f"unknown step {step!r}; one of {', '.join(STEPS)}")
        now = _ts(self.now())
        with self._write() as conn:
            self._owned_update(conn, item, "step = ?", (step,))
            row = conn.execute("INSERT INTO checkpoints (work_item_id, step, data_json, at) VALUES (?, ?, ?, ?) "
                               "RETURNING *", (item.id, step, _json(data), now)).fetchone()
        return self._checkpoint(row)

    def last_checkpoint(self, item: WorkItem | int) -> Checkpoint | None:
        item_id = item if isinstance(item, int) else item.id
        rows = self._read("SELECT * FROM checkpoints WHERE work_item_id = ? ORDER BY id DESC LIMIT 1", (item_id,))
        return self._checkpoint(rows[0]) if rows else None

    def checkpoints(self, item: WorkItem | int) -> list[Checkpoint]:
        item_id = item if isinstance(item, int) else item.id
        return [self._checkpoint(r) for r in self._read(
            "SELECT * FROM checkpoints WHERE work_item_id = ? ORDER BY id", (item_id,))]

    def _finish(self, conn: Tx, item: WorkItem, sql_set: str, params: Sequence[Any]) -> WorkItem:
        now = self.now()
        row = conn.execute("SELECT started FROM work_items WHERE id = ?", (item.id,)).fetchone()
        started = _dt(row["started"]) if row else None
        duration = int((now - started).total_seconds() * 1000) if started else None
        # worked_by takes the owner before the lease is cleared: SET reads the row as it was.
        self._owned_update(conn, item, f"{sql_set}, worked_by = lease_owner, lease_owner = NULL, lease_until = NULL, "
                           "ended = ?, duration_ms = ?", (*params, _ts(now), duration))
        return self._item_row(conn, item.id)

    def complete(self, item: WorkItem, outcome: str, *, amount: int | None = None, reasons: Sequence[Any] = (),
                 empty_fields: Sequence[str] = (), pnr: str | None = None) -> WorkItem:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
        with self._write() as conn:
            return self._finish(conn, item, "state = 'done', outcome = ?, amount = ?, reasons_json = ?, "
                                "empty_fields_json = ?, masked_pnr = COALESCE(?, masked_pnr)",
                                (outcome, amount, _json(mask_value(list(reasons))), _json(list(empty_fields)),
                                 mask_pnr(pnr) if pnr else None))

    def forget_person(self, item: WorkItem) -> None:
        with self._write() as conn:
            conn.execute("UPDATE work_items SET masked_pnr = NULL WHERE id = ?", (item.id,))

    def business_exception(self, item: WorkItem, code: ErrorCode | str, message: str, *,
                           reasons: Sequence[Any] = (), step: str | None = None) -> WorkItem:
        with self._write() as conn:
            return self._finish(conn, item, "state = 'business_exception', outcome = 'manual', last_error_code = ?, "
                                "last_error_message = ?, reasons_json = ?, step = COALESCE(?, step)",
                                (str(code), mask_text(message), _json(mask_value(list(reasons))), step))

    def fail(self, item: WorkItem, code: ErrorCode | str, message: str, *, retryable: bool, max_attempts: int,
             retry_in_s: float = 0.0, step: str | None = None) -> WorkItem:
        with self._write() as conn:
            current = self._item_row(conn, item.id)
            if retryable and current.attempts < max_attempts:
                not_before = _ts(self.now() + timedelta(seconds=retry_in_s))
                return self._finish(conn, item, "state = 'new', last_error_code = ?, last_error_message = ?, "
                                    "step = COALESCE(?, step), not_before = ?",
                                    (str(code), mask_text(message), step, not_before))
            return self._finish(conn, item, "state = 'failed', last_error_code = ?, last_error_message = ?, "
                                "step = COALESCE(?, step)", (str(code), mask_text(message), step))

    def release(self, item: WorkItem) -> WorkItem:
        with self._write() as conn:
            self._owned_update(conn, item, "state = 'new', attempts = CASE WHEN attempts > 0 THEN attempts - 1 "
                               "ELSE 0 END, lease_owner = NULL, lease_until = NULL", ())
            return self._item_row(conn, item.id)

    def release_leases(self, run_id: str, *, alive_within_s: float | None = None,
                       max_crashes: int | None = None) -> int:
        if alive_within_s is None:
            gone: list[str | None] | None = None
        else:
            alive = {w.id for w in self.workers() if w.alive(self.now(), alive_within_s)}
            owners = {r["lease_owner"] for r in self._read(
                "SELECT DISTINCT lease_owner FROM work_items WHERE run_id = ? AND state = 'in_progress'", (run_id,))}
            gone = sorted(o for o in owners if o not in alive)
            if not gone:
                return 0
        with self._write() as conn:
            sql = "SELECT * FROM work_items WHERE run_id = ? AND state = 'in_progress'"
            params: list[Any] = [run_id]
            if gone is not None:
                sql += f" AND lease_owner IN ({', '.join('?' * len(gone))})"
                params.extend(gone)
            rows = conn.execute(sql + " ORDER BY id" + self.claim_lock, params).fetchall()
            for row in rows:
                self._count_crash(conn, row, f"left in progress by {row['lease_owner']}, which stopped", max_crashes)
            return len(rows)

    def held_items(self) -> list[WorkItem]:
        return [self._item(r) for r in self._read(self._held_sql() + " ORDER BY w.id", held_codes())]

    @staticmethod
    def _held_sql() -> str:
        # Released counts only if it came after the item's last failure (a released item that fails so again is
        # held again).
        codes = ", ".join("?" * len(held_codes()))
        return ("SELECT w.* FROM work_items w WHERE w.state = 'failed' "
                f"AND w.last_error_code IN ({codes}) AND (w.released IS NULL OR w.released < w.ended) "
                "AND NOT EXISTS (SELECT 1 FROM work_items later WHERE later.case_id = w.case_id "
                "AND later.period = w.period AND later.id > w.id)")

    def release_held(self, case_id: str, *, period: str | None = None, by: str = "operator") -> WorkItem | None:
        sql, params = self._held_sql() + " AND w.case_id = ?", [*held_codes(), case_id]
        if period is not None:
            sql, params = sql + " AND w.period = ?", [*params, period]
        now = _ts(self.now())
        with self._write() as conn:
            row = conn.execute(sql + " ORDER BY w.id DESC LIMIT 1", params).fetchone()
            if row is None:
                return None
            run = conn.execute("SELECT status FROM runs WHERE id = ?", (row["run_id"],)).fetchone()
            if run is not None and run["status"] == "running":
                conn.execute("UPDATE work_items SET state = 'new', attempts = 0, crashes = 0, not_before = NULL, "
                             "released = ? WHERE id = ?", (now, row["id"]))
                then = f"run {row['run_id']} takes it again when it continues"
            else:
                conn.execute("UPDATE work_items SET released = ? WHERE id = ?", (now, row["id"]))
                then = "the next run takes it from the inbox"
            self._insert_event(conn, row["run_id"], "INFO",
                               f"released by {by} after {row['last_error_code']}: {then}", case_id, "CASE_RELEASED",
                               {"released_from": row["last_error_code"], "by": by})
            return self._item_row(conn, row["id"])

    def get_item(self, item_id: int) -> WorkItem | None:
        rows = self._read("SELECT * FROM work_items WHERE id = ?", (item_id,))
        return self._item(rows[0]) if rows else None

    def items(self, run_id: str, state: str | None = None) -> list[WorkItem]:
        if state is not None and state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        if state is None:
            rows = self._read("SELECT * FROM work_items WHERE run_id = ? ORDER BY id", (run_id,))
        else:
            rows = self._read("SELECT * FROM work_items WHERE run_id = ? AND state = ? ORDER BY id", (run_id, state))
        return [self._item(r) for r in rows]

    def latest_item_for_case(self, case_id: str, period: str | None = None, *, exclude_run: str | None = None,
                             states: Sequence[str] | None = None) -> WorkItem | None:
        sql, params = "SELECT * FROM work_items WHERE case_id = ?", [case_id]
        if period is not None:
            sql, params = sql + " AND period = ?", [*params, period]
        if exclude_run is not None:
            sql, params = sql + " AND run_id <> ?", [*params, exclude_run]
        if states:
            sql += f" AND state IN ({', '.join('?' * len(states))})"
            params.extend(states)
        rows = self._read(sql + " ORDER BY id DESC LIMIT 1", params)
        return self._item(rows[0]) if rows else None

    # -- events ---------------------------------------------------------------------------------------------
    def _insert_event(self, conn: Tx, run_id: str | None, level: str, message: str,
                      case_id: str | None, code: ErrorCode | str | None, data: Any = None) -> int:
        row = conn.execute(
            "INSERT INTO events (run_id, case_id, level, code, message, at, data_json) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            (run_id, case_id, level, str(code) if code else None, mask_text(message), _ts(self.now()),
             _json(mask_value(data)) if data is not None else None)).fetchone()
        return int(row["id"])

    # -- workers ------------------------------------------------------------------------------------------
    def worker_seen(self, worker_id: str, *, run_id: str | None, state: str, case_id: str | None = None) -> None:
        now = _ts(self.now())
        with self._write() as conn:
            conn.execute("INSERT INTO workers (id, host, pid, run_id, state, case_id, started, heartbeat) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET host = excluded.host, "
                         "pid = excluded.pid, run_id = excluded.run_id, state = excluded.state, "
                         "case_id = excluded.case_id, heartbeat = excluded.heartbeat, "
                         "started = CASE WHEN workers.state = 'stopped' THEN excluded.started ELSE workers.started END",
                         (worker_id, os.uname().nodename, os.getpid(), run_id, state, case_id, now, now))

    def workers(self) -> list[WorkerInfo]:
        return [WorkerInfo(id=r["id"], host=r["host"], pid=r["pid"], run_id=r["run_id"], state=r["state"],
                           case_id=r["case_id"], started=_dt(r["started"]) or datetime.min,
                           heartbeat=_dt(r["heartbeat"]) or datetime.min)
                for r in self._read("SELECT * FROM workers ORDER BY heartbeat DESC, id")]

    def forget_workers(self, heard_before: datetime) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM workers WHERE heartbeat < ?", (_ts(heard_before),)).rowcount

    def refused_login(self, portal: str, username: str) -> RefusedLogin | None:
        rows = self._read("SELECT * FROM refused_logins WHERE portal = ? AND username = ?", (portal, username))
        if not rows:
            return None
        row = rows[0]
        return RefusedLogin(row["portal"], row["username"], row["salt"], row["digest"], _dt(row["at"]))  # type: ignore[arg-type]

    def remember_refused_login(self, portal: str, username: str, salt: str, digest: str) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO refused_logins (portal, username, salt, digest, at) VALUES (?, ?, ?, ?, ?) "
                         "ON CONFLICT (portal, username) DO UPDATE SET salt = excluded.salt, "
                         "digest = excluded.digest, at = excluded.at",
                         (portal, username, salt, digest, _ts(self.now())))

    def forget_refused_login(self, portal: str, username: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM refused_logins WHERE portal = ? AND username = ?", (portal, username))

    def record_event(self, run_id: str | None, level: str, message: str, *, case_id: str | None = None,
                     code: ErrorCode | str | None = None, data: Any = None) -> Event:
        level = level.upper()
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}; one of {', '.join(LEVELS)}")
        with self._write() as conn:
            event_id = self._insert_event(conn, run_id, level, message, case_id, code, data)
            row = conn.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
        return self._event(row)

    def events(self, run_id: str | None = None, *, case_id: str | None = None, level: str | None = None,
               codes: Sequence[str] | None = None, limit: int | None = None,
               newest_first: bool = False) -> list[Event]:
        sql, params = "SELECT * FROM events WHERE 1 = 1", list[Any]()
        for column, value in (("run_id", run_id), ("case_id", case_id), ("level", level and level.upper())):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        if codes is not None:
            if not codes:
                return []
            sql += f" AND code IN ({', '.join('?' for _ in codes)})"
            params.extend(str(c) for c in codes)
        sql += " ORDER BY id DESC" if newest_first else " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [self._event(r) for r in self._read(sql, params)]

    # -- the operations console ---------------------------------------------------------------------------
    @staticmethod
    def _audit(row: Row) -> AuditEntry:
        return AuditEntry(id=row["id"], at=_dt(row["at"]) or datetime.min, who=row["who"], role=row["role"],
                          action=row["action"], target=row["target"], detail=json.loads(row["detail_json"] or "{}"),
                          result=row["result"])

    @staticmethod
    def _console_user(row: Row) -> ConsoleUser:
        return ConsoleUser(name=row["name"], role=row["role"], password_hash=row["password_hash"],
                           created=_dt(row["created"]) or datetime.min, disabled=bool(row["disabled"]))

    def record_audit(self, who: str, role: str, action: str, *, target: str | None = None,
                     detail: dict[str, Any] | None = None, result: str = "ok") -> AuditEntry:
        if not who or not action:
            raise ValueError("an audit entry names who did it and the action")
        with self._write() as conn:
            row = conn.execute(
                "INSERT INTO audit_log (at, who, role, action, target, detail_json, result) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (_ts(self.now()), who, role, action, mask_text(target) if target is not None else None,
                 _json(mask_value(dict(detail or {}))), mask_text(result))).fetchone()
        return self._audit(row)

    def audit_log(self, limit: int = 200, *, action: str | None = None) -> list[AuditEntry]:
        if action is None:
            rows = self._read("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self._read("SELECT * FROM audit_log WHERE action = ? ORDER BY id DESC LIMIT ?", (action, limit))
        return [self._audit(r) for r in rows]

    def set_control(self, key: str, value: str | None) -> None:
        with self._write() as conn:
            if value is None:
                conn.execute("DELETE FROM controls WHERE key = ?", (key,))
            else:
                conn.execute("INSERT INTO controls (key, value, updated) VALUES (?, ?, ?) ON CONFLICT (key) "
                             "DO UPDATE SET value = excluded.value, updated = excluded.updated",
                             (key, value, _ts(self.now())))

    def control(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM controls WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else None

    def take_control(self, key: str) -> str | None:
        with self._write() as conn:
            row = conn.execute("DELETE FROM controls WHERE key = ? RETURNING value", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def save_console_user(self, name: str, role: str, password_hash: str, *,
                          disabled: bool = False) -> ConsoleUser:
        if role not in CONSOLE_ROLES:
            raise ValueError(f"unknown console role {role!r}; one of {', '.join(CONSOLE_ROLES)}")
        if not name or not password_hash:
            raise ValueError("a console account needs a name and a password hash")
        with self._write() as conn:
            row = conn.execute(
                "INSERT INTO console_users (name, role, password_hash, created, disabled) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash, "
                "disabled = excluded.disabled RETURNING *",
                (name, role, password_hash, _ts(self.now()), int(disabled))).fetchone()
        return self._console_user(row)

    def console_user(self, name: str) -> ConsoleUser | None:
        rows = self._read("SELECT * FROM console_users WHERE name = ?", (name,))
        return self._console_user(rows[0]) if rows else None

    def console_users(self) -> list[ConsoleUser]:
        return [self._console_user(r) for r in self._read("SELECT * FROM console_users ORDER BY name")]

    def delete_console_user(self, name: str) -> bool:
        with self._write() as conn:
            return conn.execute("DELETE FROM console_users WHERE name = ?", (name,)).rowcount > 0


def _caseworker(name: str | None) -> str | None:
    """A caseworker's name is staff data the morning report must show, so it is kept readable (`mask_text` would
    also mask it wherever it matches a name registered for the case at hand, e.g. an applicant's namesake);
    only a personnummer, which never belongs there, is masked."""
    if name is None:
        return None
    text = " ".join(mask_pnrs_in(name).split())
    return text or None


def _percentile(sorted_values: list[int], pct: float) -> int | None:
    """Nearest-rank percentile: a value that occurred, which is what a report reader expects."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return int(sorted_values[int(rank) - 1])

