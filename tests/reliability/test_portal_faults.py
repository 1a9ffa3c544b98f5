"""The fault matrix at run level, against the sandbox's knobs: what a bad night at one portal does to a run.

Each row: the knob, the code every affected case must fail with, after its retries; affected cases are left
untouched in the case system, and the run itself finishes (only one portal is affected).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_config, sandbox_environ
from bot.errors import ErrorCode
from bot.run.entry import run_once
from tests.sandbox_proc import start_sandbox

CASES = 3


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = start_sandbox(tmp_path_factory.mktemp("faults"), cases=CASES, seed=43)
    try:
        yield sandbox
    finally:
        sandbox.stop()


def _robot_writes(box: Sandbox) -> list[dict[str, object]]:
    rows = box.admin_get("casesystem", "/_admin/audit")
    assert isinstance(rows, list)
    return [r for r in rows if r["username"] == "robot"]


@pytest.mark.browser
@pytest.mark.parametrize(("portal", "knobs", "codes"), [
    ("skv", {"error_rate": 1.0}, {"PORTAL_DOWN", "PORTAL_MAINTENANCE"}),   # 500/503 on every request
    ("csn", {"maintenance": True}, {"PORTAL_MAINTENANCE"}),               # "Underhåll pågår", Retry-After
    ("af", {"latency_ms": 8000}, {"PORTAL_SLOW"}),                         # slower than the 3 s timeout
], ids=["http-errors", "maintenance", "slow"])
def test_a_failing_portal_fails_its_cases_after_retries_and_touches_nothing(
        box: Sandbox, tmp_path: Path, portal: str, knobs: dict[str, object], codes: set[str]) -> None:
    box.reset_knobs()
    box.set_knobs(portal, **knobs)
    try:
        config = sandbox_config(tmp_path / "robot", box, workers=1, preflight={"enabled": False},
                                retries={"max_attempts": 2, "backoff_base_s": 0.2},
                                timeouts={"page_s": 3, "element_s": 3})  # short, with room for a busy host
        night = asyncio.run(run_once(config, environ={**os.environ, **sandbox_environ()}, console=False))
    finally:
        box.reset_knobs()
    assert night.result.stopped_by is None and night.result.summary.run.status == "finished"
    assert night.exit_code == 1 and len(night.items) == CASES
    for item in night.items:
        assert item.state == "failed" and item.attempts == 2, (item.case_id, item.last_error_code)
        assert item.last_error_code in codes and portal in (item.last_error_message or "")
    assert _robot_writes(box) == []  # nothing was written for a case whose data could not all be read


@pytest.mark.browser
def test_a_wrong_password_stops_the_night_long_before_the_account_locks(box: Sandbox, tmp_path: Path) -> None:
    box.reset_knobs()
    config = sandbox_config(tmp_path / "robot", box, workers=2)
    environ = {**os.environ, **sandbox_environ(), "CASEBOT_FK_PASSWORD": "fel-lösenord"}
    night = asyncio.run(run_once(config, environ=environ, console=False))
    assert night.exit_code == 2
    assert night.result.stopped_by is not None and night.result.stopped_by.code is ErrorCode.LOGIN_FAILED
    assert night.result.stopped_by.runbook == "runbooks/LOGIN_FAILED.md"
    assert night.items == []  # stopped at preflight, before the first case
    refused_once = _fk_account(box)
    assert refused_once["locked"] == 0 and 0 < refused_once["failed_attempts"] <= config.retries.login_attempts < 5

    # The next nights, same wrong password: stopped before any login, so the count towards the lockout stays.
    for _ in range(3):
        again = asyncio.run(run_once(config, environ=environ, console=False))
        assert again.exit_code == 2 and again.result.stopped_by is not None
        assert again.result.stopped_by.code is ErrorCode.LOGIN_FAILED
        assert "not tried again" in again.result.stopped_by.message
    assert _fk_account(box) == refused_once

    # The operator sets the right password: tried at once, accepted (the window is closed, so no case is taken).
    fixed = asyncio.run(run_once(config, environ={**os.environ, **sandbox_environ()}, console=False,
                                 stop_taking_at=datetime.now(UTC)))
    assert fixed.result.stopped_by is None and {i.state for i in fixed.items} == {"new"}  # listed, none taken
    assert _fk_account(box)["failed_attempts"] == 0


def _fk_account(box: Sandbox) -> dict[str, object]:
    users = box.admin_get("fk", "/_admin/users")
    assert isinstance(users, list)
    (account,) = [u for u in users if u["username"] == "kommun"]
    return account


@pytest.mark.browser
def test_a_session_that_expires_in_the_middle_of_a_case_is_renewed_and_the_case_goes_on(
        box: Sandbox, tmp_path: Path) -> None:
    # The case system forgets a session after 2 idle seconds; FK answers in 3: every case's case-system session
    # dies while the robot collects at the agencies, between reading the case and filling its form.
    box.reset_knobs()
    box.set_knobs("casesystem", session_ttl_s=2)
    box.set_knobs("fk", latency_ms=3000)
    try:
        config = sandbox_config(tmp_path / "robot", box, workers=1, preflight={"enabled": False})
        night = asyncio.run(run_once(config, environ={**os.environ, **sandbox_environ()}, console=False))
    finally:
        box.reset_knobs()
    assert night.exit_code == 0 and {i.state for i in night.items} <= {"done", "business_exception"}
    assert all(i.attempts == 1 for i in night.items)  # the same attempt went on: nothing failed and retried
    assert differences_from_oracle(box) == {}
    renewals = [json.loads(line) for line in night.log_path.read_text().splitlines()
                if "casesystem: session expired, logging in again" in line]
    # Renewed inside cases (the log line carries the case), not only between them.
    assert {r["case_id"] for r in renewals if r.get("case_id")} == {i.case_id for i in night.items}
    notes = [r for r in _robot_writes(box) if r["field"] == "journal"]
    assert len(notes) == len(night.items)  # one note per case, however many logins it took
