"""A caseworker saves the case while the robot fills it: the robot's save is refused (optimistic locking), and
the robot overwrites nothing, leaves the case with the reason, and takes it again on the next run."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bot.calc.fields import ALL_FIELDS
from bot.dev.sandbox import differences_from_oracle, sandbox_config, sandbox_environ
from bot.run.entry import run_once
from tests.sandbox_proc import start_sandbox


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_a_locking_conflict_overwrites_nothing_and_the_next_run_takes_the_case(tmp_path: Path) -> None:
    box = start_sandbox(tmp_path / "sandbox", cases=4, seed=41)
    try:
        expected = box.admin_get("casesystem", "/_admin/expected")
        assert isinstance(expected, list)
        busy = next(e["case_id"] for e in expected if e["outcome"] != "manual")  # a case whose form is filled
        box.set_knobs("casesystem", caseworker_editing=busy)
        config = sandbox_config(tmp_path / "robot", box, workers=1, preflight={"enabled": False})
        environ = {**os.environ, **sandbox_environ()}

        first = asyncio.run(run_once(config, environ=environ, console=False))
        assert first.exit_code == 1
        (item,) = [i for i in first.items if i.case_id == busy]
        assert item.state == "failed" and item.last_error_code == "LOCK_CONFLICT" and item.attempts == 1
        assert "someone else changed the case" in (item.last_error_message or "")
        audit = box.admin_get("casesystem", f"/_admin/audit?case_id={busy}")
        assert isinstance(audit, list)
        robot_writes = [a for a in audit if a["username"] == "robot" and (a["field"] in ALL_FIELDS
                                                                          or a["field"] in ("status", "journal"))]
        assert robot_writes == []  # not one figure of the robot's over the caseworker's work
        edits = [a["field"] for a in audit if a["username"] == "handlaggare1"]
        assert edits and set(edits) == {"version"}  # the caseworker's saves are all there is
        others = [i for i in first.items if i.case_id != busy]
        assert others and {i.state for i in others} <= {"done", "business_exception"}

        box.set_knobs("casesystem", caseworker_editing="")  # the caseworker is done
        second = asyncio.run(run_once(config, environ=environ, console=False))
        assert second.exit_code == 0 and [i.case_id for i in second.items] == [busy]
        assert differences_from_oracle(box) == {}
    finally:
        box.stop()
