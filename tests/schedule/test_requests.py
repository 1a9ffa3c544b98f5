"""A night asked for from the console runs in the scheduler (bot/schedule/requests.py): the console only sets a
switch while a scheduler is heard from, and the leading scheduler takes it and runs the night in its own process,
under the same guards as a fire. Real store, real scheduler, real sandbox."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.console.actions import start_night
from bot.dev.sandbox import differences_from_oracle, sandbox_config, sandbox_environ
from bot.schedule.pause import pause_scheduler, resume_scheduler
from bot.schedule.requests import (
    ALIVE_WITHIN_S,
    beat,
    live_scheduler,
    night_request,
    request_night,
    take_night_request,
)
from bot.schedule.runner import REQUESTED_JOB, FireRecord, NightScheduler
from bot.store import SqliteStore, open_store
from tests.own_sandbox import own_sandbox

CASES = 3
box = own_sandbox(CASES, seed=41)


def test_a_request_is_taken_once_and_a_heartbeat_says_a_scheduler_is_there(tmp_path: Path) -> None:
    now = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    with SqliteStore(tmp_path / "casebot.db") as store:
        assert night_request(store) is None and take_night_request(store) is None
        request_night(store, "drift1", now)
        assert night_request(store) == {"by": "drift1", "at": "2026-12-06T10:00:00+00:00"}
        assert take_night_request(store) == {"by": "drift1", "at": "2026-12-06T10:00:00+00:00"}
        assert take_night_request(store) is None  # a second scheduler looking finds nothing
        assert [e.code for e in store.events(None, codes=("NIGHT_REQUESTED",))] == ["NIGHT_REQUESTED"]
        assert live_scheduler(store, now) is None
        beat(store, "robot1:4711", now)
        assert live_scheduler(store, now + timedelta(seconds=ALIVE_WITHIN_S))["owner"] == "robot1:4711"  # type: ignore[index]
        assert live_scheduler(store, now + timedelta(seconds=ALIVE_WITHIN_S + 1)) is None  # gone quiet


def test_with_a_scheduler_running_the_console_asks_it_and_starts_nothing_itself(tmp_path: Path) -> None:
    config = sandbox_config(tmp_path, 8100)
    now = datetime.now(UTC)
    with open_store(config.store_url) as store:
        beat(store, "robot1:4711", now)
        asked = start_night(store, config, now, "drift1")
        assert asked.ok and asked.detail == {"requested_of": "robot1:4711"}, asked
        assert "runs in the scheduler's service" in asked.flash
        assert night_request(store)["by"] == "drift1"  # type: ignore[index]
        # A second click while the request waits is refused, naming who asked.
        again = start_night(store, config, now, "drift2")
        assert again.result == "refused: already requested" and "drift1 asked for a night" in again.flash
        take_night_request(store)
        # While the scheduler is paused the console does not ask: the pause is a maintenance window.
        pause_scheduler(store, "drift2", "patchning")
        paused = start_night(store, config, now, "drift1")
        assert paused.result == "refused: paused" and "patchning" in paused.flash
        assert night_request(store) is None
        resume_scheduler(store, "drift2")


@pytest.mark.browser
def test_the_scheduler_takes_the_request_and_runs_the_night_in_its_own_process(box, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = sandbox_config(tmp_path / "robot", box, workers=1)
    fired: list[FireRecord] = []
    scheduler = NightScheduler(config, [], environ={**os.environ, **sandbox_environ(box)}, console=False,
                               on_fire=fired.append, look_every_s=0.5)
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        with open_store(config.store_url) as store:
            while live_scheduler(store) is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert live_scheduler(store) is not None, "the scheduler never said it was there"
            asked = start_night(store, config, datetime.now(UTC), "drift1")
            assert asked.ok and "pid" not in asked.detail, asked  # asked, not spawned
        deadline = time.monotonic() + 180
        while not fired and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        scheduler.shutdown()
    (record,) = fired
    assert record.job == REQUESTED_JOB and record.outcome == "ran", record
    assert "requested by drift1" in record.detail
    assert record.night is not None and record.night.result.summary.total == CASES
    assert differences_from_oracle(box, [item.case_id for item in record.night.items]) == {}
    with open_store(config.store_url) as store:
        assert night_request(store) is None  # taken
        (event,) = store.events(None, codes=("SCHEDULE_FIRED",))
        assert event.data["job"] == REQUESTED_JOB and event.data["run_id"] == record.night.result.run_id
