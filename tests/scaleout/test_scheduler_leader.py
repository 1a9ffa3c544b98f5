"""Two `casebot schedule` processes (two hosts: own folders, one PostgreSQL store), one schedule: the elected
leader starts the night once; killed mid-run, the other takes over at the next trigger and finishes that night."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.dev.sandbox import sandbox_environ
from bot.schedule.leader import PostgresLeadership
from bot.store import open_store
from tests.sandbox_proc import start_sandbox
from tests.scaleout.test_worker_processes import CASES, assert_each_case_handed_over_once, host_config

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def cron_at(at: dt.datetime) -> str:
    return f"{at.second} {at.minute} {at.hour} {at.day} {at.month} *"


def test_one_leader_at_a_time_and_the_lock_goes_with_the_session(pg_url: str) -> None:
    first, second = PostgresLeadership(pg_url), PostgresLeadership(pg_url)
    try:
        assert first.claim() and not second.claim()
        assert first.claim() and not second.claim()  # sticky: the leader keeps it fire after fire
        first.close()  # as when the leader's process dies: its session ends
        # The server releases the lock when its backend has ended, a moment after the client hung up (longer on a
        # busy host); the next fire, minutes later in production, finds it free.
        deadline = time.monotonic() + 10
        while not second.claim():
            assert time.monotonic() < deadline, "the dead leader's lock was never released"
            time.sleep(0.1)
        assert not first.claim()
    finally:
        first.close()
        second.close()


def wait_for(what: str, check: object, timeout_s: float, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_two_schedulers_start_one_night_and_the_survivor_takes_over(tmp_path: Path, pg_url: str) -> None:
    box = start_sandbox(tmp_path / "sandbox", cases=CASES, seed=47)
    schedulers: dict[str, subprocess.Popen[bytes]] = {}
    try:
        first_fire = dt.datetime.now(STOCKHOLM).replace(microsecond=0) + dt.timedelta(seconds=15)
        second_fire = first_fire + dt.timedelta(seconds=60)
        schedules = tmp_path / "schedules"
        schedules.mkdir()
        (schedules / "natt.yaml").write_text(
            f'jobs:\n  - name: natt\n    cron: "{cron_at(first_fire)}"\n'
            f'  - name: natt-igen\n    cron: "{cron_at(second_fire)}"\n', encoding="utf-8")
        env = {**os.environ, **sandbox_environ(), "PYTHONUNBUFFERED": "1"}
        for host in ("hostA", "hostB"):
            config_file = host_config(tmp_path, box, host, pg_url)
            with open(tmp_path / f"{host}.log", "wb") as log:
                schedulers[host] = subprocess.Popen(
                    [sys.executable, "-m", "bot.cli", "schedule", "--config", str(config_file), "--schedules",
                     str(schedules)], env=env, stdout=log, stderr=subprocess.STDOUT)
        procs = list(schedulers.values())

        def runs() -> list:  # type: ignore[type-arg]
            with open_store(pg_url) as store:
                return store.list_runs()

        def first_case_done() -> bool:
            with open_store(pg_url) as store:
                found = store.list_runs()
                return bool(found) and bool(store.items(found[0].id, "done"))

        wait_for("the first night's first case", first_case_done, 180, procs)
        (run,) = runs()  # both fired; one started the night
        leader_pid = int(run.owner.rsplit(":", 1)[1])  # type: ignore[union-attr]
        [leader] = [h for h, p in schedulers.items() if p.pid == leader_pid]
        [survivor] = [h for h in schedulers if h != leader]
        schedulers[leader].send_signal(signal.SIGKILL)
        assert schedulers[leader].wait(timeout=30) == -signal.SIGKILL
        with open_store(pg_url) as store:
            assert store.get_run(run.id).status == "running"  # type: ignore[union-attr]

        wait_for("the survivor to finish the night", lambda: runs()[0].status == "finished", 300, procs)
        (finished,) = runs()  # continued, not started again
        assert finished.id == run.id
        assert finished.owner.endswith(f":{schedulers[survivor].pid}")  # type: ignore[union-attr]
        with open_store(pg_url) as store:
            skipped = [e.message for e in store.events() if e.code == "SCHEDULE_SKIPPED"]
        assert len(skipped) == 1 and "natt" in skipped[0] and "not_leader" in skipped[0]
        survivor_log = (tmp_path / f"{survivor}.log").read_text()
        assert "this scheduler is now the leader" in survivor_log
        assert_each_case_handed_over_once(box)

        schedulers[survivor].send_signal(signal.SIGTERM)
        assert schedulers[survivor].wait(timeout=60) == 0
    finally:
        for process in schedulers.values():
            if process.poll() is None:
                process.kill()
        box.stop()
