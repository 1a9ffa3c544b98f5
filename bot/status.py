"""What `casebot status` says about the workers: who is alive, on which case, until when its lease runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.store.models import WorkerInfo, WorkItem

SHOWN_FOR = timedelta(days=1)  # stopped workers drop out of the list after a day


def worker_condition(worker: WorkerInfo, now: datetime, lease_s: float) -> str:
    if worker.state == "stopped":
        return "stopped"
    if (now - worker.heartbeat).total_seconds() > lease_s:
        return "LOST"  # no heartbeat for a whole lease: its case goes to another worker
    return worker.state


def _ago(now: datetime, then: datetime) -> str:
    seconds = int((now - then).total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return then.astimezone().strftime("%Y-%m-%d %H:%M")


def worker_lines(workers: Sequence[WorkerInfo], in_progress: Sequence[WorkItem], now: datetime,
                 lease_s: float) -> list[str]:
    """A table of the workers heard from lately, with the lease each holds (from the items in progress)."""
    leases = {item.lease_owner: item for item in in_progress if item.lease_owner}
    shown = [w for w in workers if w.state != "stopped" or now - w.heartbeat <= SHOWN_FOR]
    lines = [f"\nworkers: {sum(worker_condition(w, now, lease_s) in ('idle', 'working') for w in shown)} alive, "
             f"{len(shown)} shown"]
    if not shown:
        return lines
    lines.append(f"  {'WORKER':<32} {'STATE':<8} {'HEARTBEAT':<17} {'CASE':<16} LEASE UNTIL")
    for worker in shown:
        held = leases.get(worker.id)
        lease = held.lease_until.astimezone().strftime("%H:%M:%S") if held and held.lease_until else "-"
        case = held.case_id if held else (worker.case_id or "-")
        lines.append(f"  {worker.id:<32} {worker_condition(worker, now, lease_s):<8} "
                     f"{_ago(now, worker.heartbeat):<17} {case:<16} {lease}")
    orphans = [i for owner, i in leases.items() if owner not in {w.id for w in workers}]
    for item in orphans:  # a worker of an older casebot, or one that died before its first heartbeat
        until = item.lease_until.astimezone().strftime("%H:%M:%S") if item.lease_until else "-"
        lines.append(f"  {item.lease_owner:<32} {'?':<8} {'never':<17} {item.case_id:<16} {until}")
    return lines
