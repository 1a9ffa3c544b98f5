"""Issue 21: after the robot was SIGKILLed, `casebot status` listed its workers as alive and working on cases long
done, and dead workers never left the list. A real child process reports as two workers through the store and is
killed with SIGKILL; its workers are LOST at once (the process is gone, though the heartbeat is fresh), never
working; workers silent for a day leave the list, and for `retention.workers_days` the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import write_config
from bot.dev.sandbox import sandbox_config
from bot.status import SHOWN_FOR, worker_condition, worker_lines, worker_rows
from bot.store import NewWorkItem, WorkerInfo, open_store

CHILD = textwrap.dedent("""
    import sys, time
    from bot.store import SqliteStore
    from bot.store.sql import worker_id

    store = SqliteStore(sys.argv[1])
    run_id = sys.argv[2]
    done = store.claim_next(run_id, worker_id(2), 600)
    store.complete(done, "auto", amount=1)
    # w2 last said it was working on a case that is done by now; w1 holds a lease on the next one.
    store.worker_seen(worker_id(2), run_id=run_id, state="working", case_id=done.case_id)
    held = store.claim_next(run_id, worker_id(1), 600)
    store.worker_seen(worker_id(1), run_id=run_id, state="working", case_id=held.case_id)
    print("ready", flush=True)
    time.sleep(600)
""")

LEASE_S = 60.0


def _mine(workers: list[WorkerInfo], pid: int) -> dict[str, WorkerInfo]:
    return {w.id.rsplit(":", 1)[1]: w for w in workers if w.pid == pid}


def test_a_sigkilled_robots_workers_are_lost_at_once_never_working(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    config = sandbox_config(tmp_path / "robot", store={"lease_s": LEASE_S})
    with open_store(config.store_url) as store:
        run = store.open_run({})
        store.add_work_items(run.id, [NewWorkItem(f"EB-2024-0000{i}", "2024-12", None) for i in (1, 2, 3)])
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(config.data_dir / "casebot.db"), run.id],
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        with open_store(config.store_url) as store:
            before = _mine(store.workers(), child.pid)
        now = datetime.now(UTC)
        assert {n: worker_condition(w, now, LEASE_S) for n, w in before.items()} == {"w1": "working", "w2": "working"}
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()

    with open_store(config.store_url) as store:
        workers = store.workers()
        in_progress = store.items(run.id, "in_progress")
    after = _mine(workers, child.pid)
    now = datetime.now(UTC)
    # The heartbeats are seconds old, well inside the lease: only the process tells that they are dead.
    assert all((now - w.heartbeat).total_seconds() < LEASE_S for w in after.values())
    assert {n: worker_condition(w, now, LEASE_S) for n, w in after.items()} == {"w1": "LOST", "w2": "LOST"}
    rows = {r.id.rsplit(":", 1)[1]: r for r in worker_rows(workers, in_progress, now, LEASE_S)}
    (held,) = in_progress
    assert (rows["w1"].condition, rows["w1"].case_id, rows["w1"].lease_until) == ("LOST", held.case_id,
                                                                                 held.lease_until)
    assert (rows["w2"].condition, rows["w2"].case_id) == ("LOST", None)  # not the case it finished long ago
    assert (rows["w1"].pid, rows["w1"].run_id, rows["w1"].alive) == (child.pid, run.id, False)

    path = write_config(config, tmp_path / "config.yaml")
    assert main(["status", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "workers: 0 alive, 2 shown" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if f":{child.pid}:w" in line}
    assert {cells[1] for cells in lines.values()} == {"LOST"}
    assert "working" not in "\n".join(" ".join(cells) for cells in lines.values())
    assert lines[f"{after['w1'].id}"][5] == held.case_id and lines[f"{after['w2'].id}"][5] == "-"


def test_silent_workers_leave_the_list_after_a_day_and_the_store_after_the_retention(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = sandbox_config(tmp_path / "robot", retention={"workers_days": 7})
    now = datetime.now(UTC)
    moment = [now - timedelta(days=8)]
    with open_store(config.store_url, clock=lambda: moment[0]) as store:
        run = store.open_run({})
        store.worker_seen("gone:1:w1", run_id=run.id, state="working", case_id="EB-2024-00001")
        moment[0] = now - timedelta(days=2)
        store.worker_seen("quiet:2:w1", run_id=run.id, state="idle")
        moment[0] = now - timedelta(seconds=3)
        store.worker_seen("busy:3:w1", run_id=run.id, state="idle")
    with open_store(config.store_url) as store:
        lines = worker_lines(store.workers(), [], now, 60)
    # Listed: only the one heard from within SHOWN_FOR; the two-day-old one is kept in the store, not shown.
    assert lines[0] == "\nworkers: 1 alive, 1 shown" and "quiet:2:w1" not in "\n".join(lines)

    path = write_config(config, tmp_path / "config.yaml")
    assert main(["status", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "busy:3:w1" in out and "gone:1:w1" not in out and "quiet:2:w1" not in out
    with open_store(config.store_url) as store:
        assert [w.id for w in store.workers()] == ["busy:3:w1", "quiet:2:w1"]  # past the retention: forgotten


def test_a_silent_worker_still_holding_a_lease_stays_listed_as_lost(tmp_path: Path) -> None:
    """Past SHOWN_FOR, but its lease (a long one) still holds a case: the operator must see who holds it."""
    config = sandbox_config(tmp_path / "robot")
    now = datetime.now(UTC)
    moment = [now - timedelta(days=2)]
    with open_store(config.store_url, clock=lambda: moment[0]) as store:
        run = store.open_run({})
        store.add_work_items(run.id, [NewWorkItem("EB-2024-00001", "2024-12", None)])
        item = store.claim_next(run.id, "far:9:w1", 3 * 86400)
        store.worker_seen("far:9:w1", run_id=run.id, state="working", case_id="EB-2024-00001")
        assert item is not None
        (row,) = worker_rows(store.workers(), store.items(run.id, "in_progress"), now, 60)
    # Its process is this one, alive; but silent for longer than a lease is LOST all the same.
    assert (row.id, row.pid, row.condition, row.case_id) == ("far:9:w1", os.getpid(), "LOST", "EB-2024-00001")
    assert now - row.heartbeat > SHOWN_FOR  # type: ignore[operator]
