"""A write whose answer never comes in time (OUTCOME_UNKNOWN) is never sent again blindly: the case system takes
every save, note and park at once but answers each only after the robot has stopped waiting. The robot reads what
the system now holds, finds its write there, and goes on: every case ends as the oracle expects, with one note
and one park each."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.chaos import CASE_ENV, FAIL_AT_ENV
from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_config
from bot.run.entry import run_once
from tests.own_sandbox import own_sandbox, robot_passwords
from tests.sandbox_proc import shared_client

pytestmark = pytest.mark.browser
CASES = 3  # each case waits out three unanswered writes


late_answers = own_sandbox(cases=CASES, seed=23, write_answer_delay_ms=2500)
quick_answers = own_sandbox(cases=3, seed=29)


def test_every_unanswered_write_is_read_back_and_none_is_made_twice(
        late_answers: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    robot_passwords(monkeypatch)
    # The robot waits 1.5 s for an answer; the case system answers every write after 2.5 s.
    config = sandbox_config(tmp_path, late_answers, workers=1, timeouts={"element_s": 1.5})
    night = asyncio.run(run_once(config, console=False))
    assert night.exit_code == 0, [(i.case_id, i.last_error_code, i.last_error_message) for i in night.items]
    assert differences_from_oracle(late_answers) == {}
    assert all(item.attempts == 1 for item in night.items)  # read back, not failed and retried

    reference = late_answers.reference()["reference_case"]
    with shared_client(timeout=30) as client:
        audit = client.get(late_answers.url("casesystem", "/_admin/audit")).json()
        for item in night.items:
            case = client.get(late_answers.url("casesystem", f"/_admin/cases/{item.case_id}")).json()
            robot_notes = [n for n in case["journal"] if n["author"] == "robot"]
            assert len(robot_notes) == 1, item.case_id
            parks = [r for r in audit if r["case_id"] == item.case_id and r["username"] == "robot"
                     and r["field"] == "status" and r["new"] in ("klar_for_signering", "manuell")]
            assert len(parks) == 1, (item.case_id, parks)
    assert reference not in {i.case_id for i in night.items}
    confirmed = (Path(config.log_dir).glob("run-*.jsonl"))
    text = "".join(p.read_text(encoding="utf-8") for p in confirmed)
    assert "got no answer in time, but the system shows it: taken" in text


def test_a_retry_after_a_save_reads_the_form_first_and_does_not_save_it_again(
        quick_answers: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    robot_passwords(monkeypatch)
    with shared_client(timeout=30) as client:
        work = [c["case_id"] for c in client.get(quick_answers.url("casesystem", "/_admin/inbox")).json()]
        reference = quick_answers.reference()["reference_case"]
        victim = next(c for c in work if c != reference)
        before = {c: client.get(quick_answers.url("casesystem", f"/_admin/cases/{c}")).json()["version"] for c in work}
    # The first attempt saves the form and then fails as if the portal had stopped answering (bot/chaos.py).
    monkeypatch.setenv(FAIL_AT_ENV, "save")
    monkeypatch.setenv(CASE_ENV, victim)
    config = sandbox_config(tmp_path, quick_answers, workers=1,
                            retries={"max_attempts": 3, "backoff_base_s": 0, "backoff_max_s": 0})
    night = asyncio.run(run_once(config, console=False))
    assert night.exit_code == 0, [(i.case_id, i.last_error_code, i.last_error_message) for i in night.items]
    assert differences_from_oracle(quick_answers) == {}
    item = next(i for i in night.items if i.case_id == victim)
    assert item.attempts == 2 and item.state == "done"
    with shared_client(timeout=30) as client:
        after = {c: client.get(quick_answers.url("casesystem", f"/_admin/cases/{c}")).json() for c in work}
    handled = [c for c in work if after[c]["status"] in ("klar_for_signering", "manuell")]
    steps = {c: after[c]["version"] - before[c] for c in handled}
    # Every case moved on by its own writes only (save + note + park, or note + manual); the victim, retried,
    # by no more than a case done in one go: the retry found its save in the form and did not save again.
    form_cases = {c for c in handled if after[c]["status"] == "klar_for_signering"}
    assert victim in form_cases
    assert all(steps[c] == 3 for c in form_cases), steps
