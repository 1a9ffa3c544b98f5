"""`kill -9` of the robot at every step of a case, each in its own process: nothing lost, nothing done twice.

One night, killed again and again: each run is SIGKILLed at the next point (bot/chaos.py) on whichever case is in
hand, the next run continues the same run from there, and a last clean run finishes it. Then every case is as
the sandbox's oracle expects, with exactly one note and one park each, and no form counted done unparked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.chaos import KILL_AT_ENV, POINTS
from bot.config import write_config
from bot.dev.sandbox import differences_from_oracle, sandbox_config, sandbox_environ, start_sandbox
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
