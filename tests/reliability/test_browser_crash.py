"""Chromium killed mid-night: the worker starts a new browser, the case in hand is retried, the night completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.config import write_config
from bot.dev.sandbox import differences_from_oracle, sandbox_config, sandbox_environ
from bot.store import open_store
from tests.sandbox_proc import start_sandbox

CASES = 5


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _top_chromium(root: int) -> list[int]:
    """The browser processes themselves (not their renderers and helpers) under the robot's process."""
    pids = _descendants(root)
    chromium = {p for p in pids if _name(p).startswith("chromium")}
    parents = {p: int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1]) for p in chromium
               if Path(f"/proc/{p}").exists()}
    return [p for p, parent in parents.items() if parent not in chromium]


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_a_killed_chromium_is_restarted_and_the_night_completes(tmp_path: Path) -> None:
    box = start_sandbox(tmp_path / "sandbox", cases=CASES, seed=37)
    try:
        config = sandbox_config(tmp_path / "robot", box, workers=1, preflight={"enabled": False},
                                retries={"max_attempts": 3, "backoff_base_s": 1})
        config_file = write_config(config, tmp_path / "config.yaml")
        out = open(tmp_path / "run.out", "wb")  # noqa: SIM115 - closed below
        robot = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--config", str(config_file)],
                                 env={**os.environ, **sandbox_environ()}, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 240
            while True:  # wait for the first case to be done, then kill the browser under the second
                assert robot.poll() is None and time.monotonic() < deadline, (tmp_path / "run.out").read_text()
                if (config.data_dir / "casebot.db").exists():
                    with open_store(config.store_url) as store:
                        runs = store.list_runs()
                        if runs and len(store.items(runs[0].id, "done")) + len(
                                store.items(runs[0].id, "business_exception")) >= 1:
                            break
                time.sleep(0.3)
            time.sleep(1.0)
            browsers = _top_chromium(robot.pid)
            assert browsers, "no Chromium under the robot's process"
            for pid in browsers:
                os.kill(pid, signal.SIGKILL)
            assert robot.wait(timeout=400) == 0, (tmp_path / "run.out").read_text()[-4000:]
        finally:
            if robot.poll() is None:
                robot.kill()
            out.close()
        with open_store(config.store_url) as store:
            (run,) = store.list_runs()
            assert run.status == "finished"
            assert {i.state for i in store.items(run.id)} <= {"done", "business_exception"}
            restarts = [e for e in store.events(run.id) if e.code == "BROWSER_CRASHED"]
        assert restarts, "the crash was not noticed"
        assert differences_from_oracle(box) == {}
    finally:
        box.stop()
