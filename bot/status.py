"""What `casebot status` (and the console) say about the workers: who is alive, on which case, until when its lease
runs. A worker is judged as the store judges it when it gives leases back (`WorkerInfo.alive`): by its heartbeat
and, on this host, by whether its process still exists; so a robot killed a moment ago shows as LOST at once,
never as working on the case it held."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.store.models import WorkerInfo, WorkItem

SHOWN_FOR = timedelta(days=1)  # workers not heard from for a day drop out of the list (unless they hold a lease)
CONDITIONS: tuple[str, ...] = ("idle", "working", "stopped", "LOST")
UNKNOWN = "?"  # a lease whose holder never reported itself (an older casebot, or one that died before reporting)


@dataclass(frozen=True)
class WorkerRow:
    """One line of the worker table: the worker as last heard of, judged now, with the lease it holds."""

    id: str
    host: str
    pid: int | None
    condition: str  # one of CONDITIONS, or UNKNOWN
    heartbeat: datetime | None  # None: never heard from
    case_id: str | None
    lease_until: datetime | None
    run_id: str | None

    @property
    def alive(self) -> bool:
        return self.condition in ("idle", "working")


def worker_condition(worker: WorkerInfo, now: datetime, lease_s: float) -> str:
    """`stopped` (it said so), `LOST` (silent for a whole lease, or its process on this host is gone: its case
    goes to another worker), else what it last reported (`idle`, `working`)."""
    if worker.state == "stopped":
        return "stopped"
    if not worker.alive(now, lease_s):
        return "LOST"
    return worker.state


def _owner_parts(owner: str) -> tuple[str, int | None]:
    """`host:pid:wN` → host and pid, as far as the name says."""
    parts = owner.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit():
        return parts[0], int(parts[1])
    return owner, None


def worker_rows(workers: Sequence[WorkerInfo], in_progress: Sequence[WorkItem], now: datetime,
                lease_s: float) -> list[WorkerRow]:
    """The workers heard from within SHOWN_FOR or holding a lease, the most recently heard from first, then the
    holders of leases that never reported. Pure: the console shows the same rows."""
    leases = {item.lease_owner: item for item in in_progress if item.lease_owner}
    rows: list[WorkerRow] = []
    for worker in workers:
        held = leases.get(worker.id)
        if held is None and now - worker.heartbeat > SHOWN_FOR:
            continue
        condition = worker_condition(worker, now, lease_s)
        # What a worker last reported is its case only while it is working; a lost or stopped one's last report
        # names a case long done. The lease says what it still holds.
        case = held.case_id if held else (worker.case_id if condition == "working" else None)
        rows.append(WorkerRow(worker.id, worker.host, worker.pid, condition, worker.heartbeat, case,
                              held.lease_until if held else None, worker.run_id))
    reported = {w.id for w in workers}
    for owner, item in leases.items():
        if owner not in reported:
            host, pid = _owner_parts(owner)
            rows.append(WorkerRow(owner, host, pid, UNKNOWN, None, item.case_id, item.lease_until, item.run_id))
    return rows


def _ago(now: datetime, then: datetime | None) -> str:
    if then is None:
        return "never"
    seconds = int((now - then).total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return then.astimezone().strftime("%Y-%m-%d %H:%M")


def worker_lines(workers: Sequence[WorkerInfo], in_progress: Sequence[WorkItem], now: datetime,
                 lease_s: float) -> list[str]:
    """A table of the workers heard from lately, with the lease each holds (from the items in progress)."""
    rows = worker_rows(workers, in_progress, now, lease_s)
    reported = [r for r in rows if r.condition != UNKNOWN]
    lines = [f"\nworkers: {sum(r.alive for r in reported)} alive, {len(reported)} shown"]
    if not rows:
        return lines
    lines.append(f"  {'WORKER':<32} {'STATE':<8} {'HEARTBEAT':<17} {'CASE':<16} LEASE UNTIL")
    for row in rows:
        lease = row.lease_until.astimezone().strftime("%H:%M:%S") if row.lease_until else "-"
        lines.append(f"  {row.id:<32} {row.condition:<8} {_ago(now, row.heartbeat):<17} {row.case_id or '-':<16} "
                     f"{lease}")
    return lines
