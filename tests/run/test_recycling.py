"""A long night's memory stays flat because each worker renews its browser contexts every so many cases (or
minutes): closed, opened again, logged in again at the next screen. The cases either side of a renewal end as the
oracle expects."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_config
from bot.run.entry import run_once
from bot.store import open_store
from tests.own_sandbox import own_sandbox, robot_passwords

pytestmark = pytest.mark.browser


five_cases = own_sandbox(cases=5, seed=31)
households = own_sandbox(cases=4, seed=37)


def test_contexts_are_renewed_every_n_cases_and_the_night_goes_on(
        five_cases: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    robot_passwords(monkeypatch)
    config = sandbox_config(tmp_path, five_cases, workers=1, browser={"recycle_after_cases": 2})
    night = asyncio.run(run_once(config, console=False))
    assert night.exit_code == 0, [(i.case_id, i.last_error_code, i.last_error_message) for i in night.items]
    assert len(night.items) == 5 and differences_from_oracle(five_cases) == {}
    store = open_store(config.store_url)
    try:
        renewals = [e for e in store.events(night.result.summary.run.id) if "renewed its browser contexts" in e.message]
    finally:
        store.close()
    # After the 2nd and the 4th case; not after the 5th (the night was over).
    assert [e.data["cases"] for e in renewals] == [2, 2]


def test_members_looked_up_on_two_pages_per_agency_give_the_same_night(
        households: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    robot_passwords(monkeypatch)
    config = sandbox_config(tmp_path, households, workers=1, browser={"pages_per_agency": 2})
    night = asyncio.run(run_once(config, console=False))
    assert night.exit_code == 0, [(i.case_id, i.last_error_code, i.last_error_message) for i in night.items]
    assert differences_from_oracle(households) == {} and not night.result.drift
