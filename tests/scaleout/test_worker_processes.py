"""Several robot processes on one PostgreSQL queue (issue 9): each simulates its own host (own data and log folders,
own Chromium), only the database is shared. The run's leader (`casebot run`) opens the night and closes it; the
others are `casebot worker` processes. Every case is worked exactly once, also when a worker is killed mid-case.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.chaos import KILL_AT_ENV
from bot.config import write_config
from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_config, sandbox_environ
from bot.note import NOTE_MARKER_PREFIX
from bot.store import open_store
from tests.sandbox_proc import start_sandbox

CASES = 12
HANDED = ("klar_for_signering", "manuell")


def host_config(tmp_path: Path, box: Sandbox, name: str, pg_url: str, **overrides: Any) -> Path:
    """A robot host's config: its own folders, the shared store."""
    config = sandbox_config(tmp_path / name, box, workers=1, store={"url": pg_url, **overrides.pop("store", {})},
                            **overrides)
    return write_config(config, tmp_path / name / "config.yaml")


def start_worker(config_file: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", "--config", str(config_file)], env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def stop_worker(worker: subprocess.Popen[bytes], log: Path) -> None:
    """What a service manager does at the end: SIGTERM; the worker leaves cleanly (exit 0)."""
    worker.terminate()
    assert worker.wait(timeout=120) == 0, log.read_text()[-3000:]


def run_leader(config_file: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "bot.cli", "run", "--config", str(config_file)], env=env,
                          capture_output=True, timeout=600)


def assert_each_case_handed_over_once(box: Sandbox) -> None:
    assert differences_from_oracle(box) == {}
    audit = [r for r in box.admin_get("casesystem", "/_admin/audit") if r["username"] == "robot"]  # type: ignore[union-attr]
    notes = Counter(a["case_id"] for a in audit if a["field"] == "journal" and NOTE_MARKER_PREFIX in str(a["new"]))
    handed = Counter(a["case_id"] for a in audit if a["field"] == "status" and a["new"] in HANDED)
    assert len(handed) == CASES and set(handed.values()) == {1} and notes == handed


@pytest.mark.browser
@pytest.mark.timeout(900)
@pytest.mark.parametrize("processes", [2, 4])
def test_worker_processes_share_one_queue_and_work_each_case_once(tmp_path: Path, pg_url: str,
                                                                   processes: int) -> None:
    box = start_sandbox(tmp_path / "sandbox", cases=CASES, seed=41)
    try:
        env = {**os.environ, **sandbox_environ()}
        workers = [start_worker(host_config(tmp_path, box, f"host{i}", pg_url), env, tmp_path / f"host{i}.log")
                   for i in range(1, processes)]
        leader = run_leader(host_config(tmp_path, box, "leader", pg_url), env)
        assert leader.returncode == 0, leader.stderr.decode(errors="replace")[-3000:]
        for i, worker in enumerate(workers, start=1):
            stop_worker(worker, tmp_path / f"host{i}.log")

        with open_store(pg_url) as store:
            (run,) = store.list_runs()
            items = store.items(run.id)
            assert run.status == "finished" and len(items) == CASES
            assert {i.state for i in items} <= {"done", "business_exception"}
            assert all(i.attempts == 1 for i in items)  # nobody took anyone's case
            processes_that_worked = Counter(i.worked_by.rsplit(":", 1)[0] for i in items)  # type: ignore[union-attr]
            assert len(processes_that_worked) == processes, processes_that_worked
            seen = {w.id.rsplit(":", 1)[0] for w in store.workers()}
            assert seen == set(processes_that_worked) and all(w.state == "stopped" for w in store.workers())
        assert_each_case_handed_over_once(box)
    finally:
        box.stop()


@pytest.mark.browser
@pytest.mark.timeout(900)
def test_a_worker_killed_mid_case_loses_it_to_the_others_after_its_lease(tmp_path: Path, pg_url: str) -> None:
    box = start_sandbox(tmp_path / "sandbox", cases=CASES, seed=43)
    try:
        env = {**os.environ, **sandbox_environ()}
        lease = {"store": {"lease_s": 8}}
        # host1 dies by SIGKILL right after saving a calculation form, before the store hears of it.
        doomed = start_worker(host_config(tmp_path, box, "host1", pg_url, **lease), {**env, KILL_AT_ENV: "save"},
                              tmp_path / "host1.log")
        survivor = start_worker(host_config(tmp_path, box, "host2", pg_url, **lease), env, tmp_path / "host2.log")
        leader = run_leader(host_config(tmp_path, box, "leader", pg_url, **lease), env)
        assert leader.returncode == 0, leader.stderr.decode(errors="replace")[-3000:]
        assert doomed.wait(timeout=60) == -signal.SIGKILL
        assert "chaos: SIGKILL at save" in (tmp_path / "host1.log").read_text()
        stop_worker(survivor, tmp_path / "host2.log")

        with open_store(pg_url) as store:
            (run,) = store.list_runs()
            items = store.items(run.id)
            assert run.status == "finished" and {i.state for i in items} <= {"done", "business_exception"}
            taken_over = [e for e in store.events(run.id) if e.code == "LEASE_EXPIRED"]
            assert len(taken_over) == 1 and "expired (found by" in taken_over[0].message
            assert "crash 1 of 3" in taken_over[0].message
            [resumed] = [i for i in items if i.case_id == taken_over[0].case_id]
            # The killed attempt was given back and counted as a crash: one real attempt, which finished it.
            assert (resumed.attempts, resumed.crashes, resumed.state) == (1, 1, "done")
            assert not resumed.worked_by.startswith(f"{os.uname().nodename}:{doomed.pid}:")  # type: ignore[union-attr]
            steps = [c.step for c in store.checkpoints(resumed)]
            assert steps.count("save") == 1 and steps[-1] == "park"  # the saved form found, not saved again
        assert_each_case_handed_over_once(box)
    finally:
        box.stop()


def test_a_worker_with_nothing_to_do_reports_itself_idle_and_leaves_when_told(tmp_path: Path) -> None:
    config = sandbox_config(tmp_path / "host", workers=2)
    config_file = write_config(config, tmp_path / "host" / "config.yaml")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "worker", "--config", str(config_file), "--idle-exit",
                           "1"], env={**os.environ, **sandbox_environ()}, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    with open_store(config.store_url) as store:
        workers = store.workers()
        assert len(workers) == 2 and {w.state for w in workers} == {"stopped"} and not store.list_runs()
