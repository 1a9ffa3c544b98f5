"""`kill -9` of the robot at every step of a case, each in its own process: nothing lost, nothing done twice.

One night, killed again and again: each run is SIGKILLed at the next point (bot/chaos.py) on whichever case is in
hand, the next run continues the same run from there, and a last clean run finishes it. Then every case is as
the sandbox's oracle expects, with exactly one note and one park each, and no form counted done unparked.

And one case that kills the robot every time it is worked: each restart gives its cut-off attempt back and counts
a crash, the other cases are done first, and at `retries.max_crashes` the case is quarantined, so the robot,
still armed to die on it, finishes the night.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.chaos import CASE_ENV, KILL_AT_ENV, POINTS
from bot.config import write_config
from bot.dev.sandbox import (
    differences_from_oracle,
    sandbox_config,
    sandbox_environ,
    start_sandbox,
    wrong_statuses,
)
from bot.note import NOTE_MARKER_PREFIX
from bot.store import open_store

CASES = 8
# Steps a manual case skips (fill/save/verify) come first, while auto cases are still waiting.
ORDER = ("fill", "save", "verify", "collect", "triage", "note", "park")


@pytest.mark.browser
@pytest.mark.timeout(900)
def test_kill_9_at_every_step_loses_nothing_and_does_nothing_twice(tmp_path: Path) -> None:
    assert sorted(ORDER) == sorted(POINTS)
    box = start_sandbox(tmp_path / "sandbox", cases=CASES, seed=31)
    try:
        # No preflight: it is tested elsewhere, and here it would only make each of the eight starts slower.
        config = sandbox_config(tmp_path / "robot", box, workers=1, preflight={"enabled": False})
        config_file = write_config(config, tmp_path / "config.yaml")
        env = {**os.environ, **sandbox_environ()}
        command = [sys.executable, "-m", "bot.cli", "run", "--config", str(config_file)]
        for point in ORDER:
            killed = subprocess.run(command, env={**env, KILL_AT_ENV: point}, capture_output=True, timeout=300)
            stderr = killed.stderr.decode(errors="replace")
            assert killed.returncode == -signal.SIGKILL, (point, killed.returncode, stderr[-3000:])
            assert f"chaos: SIGKILL at {point}" in stderr
        final = subprocess.run(command, env=env, capture_output=True, timeout=600)
        assert final.returncode == 0, final.stderr.decode(errors="replace")[-3000:]

        with open_store(config.store_url) as store:
            (run,) = store.list_runs()  # every start continued the one unfinished run
            items = store.items(run.id)
            assert run.status == "finished" and len(items) == CASES
            assert {i.state for i in items} <= {"done", "business_exception"}
            for item in items:
                assert store.checkpoints(item)[-1].step == "park"  # done only once parked
        assert differences_from_oracle(box) == {}
        audit = [r for r in box.admin_get("casesystem", "/_admin/audit") if r["username"] == "robot"]  # type: ignore[union-attr]
        notes = Counter(a["case_id"] for a in audit if a["field"] == "journal" and NOTE_MARKER_PREFIX in str(a["new"]))
        handed = Counter(a["case_id"] for a in audit if a["field"] == "status" and a["new"] in ("klar_for_signering",
                                                                                               "manuell"))
        assert len(handed) == CASES and set(handed.values()) == {1} and notes == handed
    finally:
        box.stop()


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_a_case_that_kills_the_robot_every_time_is_quarantined_and_the_others_are_done(tmp_path: Path) -> None:
    box = start_sandbox(tmp_path / "sandbox", cases=3, seed=31)
    try:
        cases = sorted(e["case_id"] for e in box.admin_get("casesystem", "/_admin/expected"))  # type: ignore[union-attr]
        doomed, others = cases[0], cases[1:]
        config = sandbox_config(tmp_path / "robot", box, workers=1, preflight={"enabled": False})
        limit = config.retries.max_crashes
        assert limit == 3  # the default
        config_file = write_config(config, tmp_path / "config.yaml")
        # Every start is armed to die as soon as the doomed case has been collected, however often it is tried.
        env = {**os.environ, **sandbox_environ(), KILL_AT_ENV: "collect", CASE_ENV: doomed}
        command = [sys.executable, "-m", "bot.cli", "run", "--config", str(config_file)]
        for start in range(1, limit + 1):
            killed = subprocess.run(command, env=env, capture_output=True, timeout=300)
            stderr = killed.stderr.decode(errors="replace")
            assert killed.returncode == -signal.SIGKILL, (start, killed.returncode, stderr[-3000:])
            assert f"chaos: SIGKILL at collect ({doomed})" in stderr
            if start == 2:  # after its first crash it waited behind the others, which were done before it
                with open_store(config.store_url) as store:
                    (run,) = store.list_runs()
                    states = {i.case_id: i.state for i in store.items(run.id)}
                assert {states[c] for c in others} <= {"done", "business_exception"}, states
        final = subprocess.run(command, env=env, capture_output=True, timeout=300)
        assert final.returncode == 1, final.stderr.decode(errors="replace")[-3000:]  # a failed case, not a crash

        with open_store(config.store_url) as store:
            (run,) = store.list_runs()  # every start continued the one unfinished run
            items = {i.case_id: i for i in store.items(run.id)}
            events = store.events(run.id, case_id=doomed)
        assert run.status == "finished"
        assert {items[c].state for c in others} <= {"done", "business_exception"}
        item = items[doomed]
        assert (item.state, item.last_error_code, item.step) == ("failed", "CASE_QUARANTINED", "collect")
        assert (item.crashes, item.attempts) == (limit, 0)  # the crashes used up none of its retries
        crashes = [e for e in events if e.code == "LEASE_EXPIRED"]
        assert [e.data["crashes"] for e in crashes] == list(range(1, limit))
        [quarantine] = [e for e in events if e.code == "CASE_QUARANTINED"]
        assert quarantine.level == "ERROR" and f"crash {limit} of {limit}" in quarantine.message
        assert wrong_statuses(box, others) == {}
        audit = box.admin_get("casesystem", f"/_admin/audit?case_id={doomed}")
        assert isinstance(audit, list) and not [a for a in audit if a["username"] == "robot"]  # killed before writing
    finally:
        box.stop()


