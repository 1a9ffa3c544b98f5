"""Issue 21: pausing the scheduler for a maintenance window, and every fire stored with what it did.

`NightScheduler.fire` is called directly with a job, as a cron trigger would: a paused fire is skipped (after the
blackout check) naming who paused and why, and starts no run; every skipped fire is an event with structured data
(`SCHEDULE_SKIPPED`), a fire that ran one too (`SCHEDULE_FIRED`, with its run id)."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.config import Config, write_config
from bot.dev.sandbox import sandbox_config, sandbox_environ
from bot.schedule.leader import Leadership
from bot.schedule.load import ScheduledJob
from bot.schedule.model import Job
from bot.schedule.pause import PAUSE_KEY, describe_pause, pause_scheduler, resume_scheduler, scheduler_paused
from bot.schedule.requests import beat
from bot.schedule.runner import NightScheduler, host_run_lock
from bot.store import Event, SqliteStore, open_store

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class Follower(Leadership):
    """Another host's scheduler leads (what PostgresLeadership answers when its advisory lock is taken)."""

    def claim(self) -> bool:
        return False

    def close(self) -> None:
        pass


def _job(name: str = "natt", blackout_today: bool = False) -> ScheduledJob:
    today = dt.datetime.now(STOCKHOLM).date()
    return ScheduledJob(Job(name=name, cron="0 1 * * *"), Path("schedules/test.yaml"),
                        {today: "testdag"} if blackout_today else {})


def _unreachable_port_base() -> int:
    """A port base nothing listens on (the portals are down): a night fired there stops at its preflight."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return sandbox_config(tmp_path / "robot", _unreachable_port_base(), retries={"max_attempts": 1})


def _scheduler(config: Config, leadership: Leadership | None = None) -> NightScheduler:
    return NightScheduler(config, [_job()], environ={**os.environ, **sandbox_environ()}, console=False,
                          leadership=leadership)


def _schedule_events(config: Config, code: str) -> list[Event]:
    with open_store(config.store_url) as store:
        return [e for e in store.events() if e.code == code]


# -- the switch ---------------------------------------------------------------------------------------------
def test_pause_and_resume_set_and_clear_the_shared_switch_and_say_so(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "casebot.db") as store:
        assert scheduler_paused(store) is None
        at = dt.datetime(2026, 12, 5, 21, 0, tzinfo=dt.UTC)
        state = pause_scheduler(store, by="drift1", reason="patchning av databasservern", now=at)
        assert state == {"by": "drift1", "at": "2026-12-05T21:00:00+00:00", "reason": "patchning av databasservern"}
        assert json.loads(store.control(PAUSE_KEY) or "") == state
        assert scheduler_paused(store) == state
        assert describe_pause(state) == "paused by drift1 since 2026-12-05T21:00:00+00:00: patchning av databasservern"
        assert resume_scheduler(store, by="drift2") == state
        assert scheduler_paused(store) is None and store.control(PAUSE_KEY) is None
        assert resume_scheduler(store, by="drift2") is None  # not paused: nothing to end, nothing recorded
        paused, resumed = [e for e in store.events() if e.code in ("SCHEDULE_PAUSED", "SCHEDULE_RESUMED")]
        assert (paused.code, paused.run_id, paused.data["by"]) == ("SCHEDULE_PAUSED", None, "drift1")
        assert resumed.code == "SCHEDULE_RESUMED" and "resumed by drift2" in resumed.message
        assert resumed.data["paused"]["reason"] == "patchning av databasservern"
        # A switch set by hand, not in the expected shape, still pauses: an operator's pause is never ignored.
        store.set_control(PAUSE_KEY, "underhåll")
        assert scheduler_paused(store) == {"by": "?", "at": "", "reason": "underhåll"}
        # A personnummer typed into the reason is masked like every text the store keeps.
        assert pause_scheduler(store, by="drift1", reason="ärende 19850312-2389")["reason"] == "ärende 19850312-XXXX"


# -- fires --------------------------------------------------------------------------------------------------
def test_a_paused_fire_is_skipped_naming_who_and_why_and_starts_no_run(config: Config) -> None:
    with open_store(config.store_url) as store:
        pause_scheduler(store, by="drift1", reason="byte av server")
    scheduler = _scheduler(config)
    record = scheduler.fire(_job())
    assert record.outcome == "paused" and record.night is None
    assert record.detail.startswith("paused by drift1 since ") and record.detail.endswith(": byte av server")
    with open_store(config.store_url) as store:
        assert store.list_runs() == []  # no run was started
    (event,) = _schedule_events(config, "SCHEDULE_SKIPPED")
    assert (event.level, event.run_id) == ("WARNING", None)
    assert event.data == {"job": "natt", "outcome": "paused", "detail": record.detail, "at": record.at.isoformat()}
    assert scheduler.fires == [record]


def test_a_blackout_is_told_before_the_pause(config: Config) -> None:
    with open_store(config.store_url) as store:
        pause_scheduler(store, by="drift1", reason="underhåll")
    record = _scheduler(config).fire(_job("helg", blackout_today=True))
    assert record.outcome == "blackout" and record.detail.endswith(": testdag")
    (event,) = _schedule_events(config, "SCHEDULE_SKIPPED")
    assert event.data["outcome"] == "blackout" and event.data["job"] == "helg"


def test_not_leader_and_busy_fires_are_stored_with_their_outcome(config: Config) -> None:
    follower = _scheduler(config, leadership=Follower()).fire(_job())
    assert follower.outcome == "not_leader"
    with host_run_lock(config.data_dir) as held:  # another casebot process's run holds the host's lock
        assert held
        busy = _scheduler(config).fire(_job())
    assert busy.outcome == "busy" and "run lock" in busy.detail
    events = _schedule_events(config, "SCHEDULE_SKIPPED")
    assert [(e.data["outcome"], e.data["detail"]) for e in events] == [("not_leader", follower.detail),
                                                                        ("busy", busy.detail)]
    with open_store(config.store_url) as store:
        assert store.list_runs() == []


@pytest.mark.browser
def test_after_the_resume_the_next_fire_runs_and_is_stored_with_its_run(config: Config) -> None:
    with open_store(config.store_url) as store:
        pause_scheduler(store, by="drift1", reason="underhåll")
        resume_scheduler(store, by="drift1")
    record = _scheduler(config).fire(_job())
    assert record.outcome == "ran" and record.night is not None
    run_id = record.night.result.run_id
    with open_store(config.store_url) as store:
        assert [r.id for r in store.list_runs()] == [run_id]
    (event,) = _schedule_events(config, "SCHEDULE_FIRED")
    assert event.level == "INFO" and event.data == {"job": "natt", "outcome": "ran", "run_id": run_id,
                                                    "at": record.at.isoformat()}
    assert _schedule_events(config, "SCHEDULE_SKIPPED") == []


# -- the CLI ------------------------------------------------------------------------------------------------
def test_casebot_schedule_pause_and_resume(config: Config, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(config, tmp_path / "config.yaml")
    assert main(["schedule", "--config", str(path), "--pause", "  "]) == 2
    assert "say why" in capsys.readouterr().err
    assert main(["schedule", "--config", str(path), "--pause", "patchning 22-23"]) == 0
    assert "skipped until `casebot schedule --resume`" in capsys.readouterr().out
    with open_store(config.store_url) as store:
        state = scheduler_paused(store)
        assert state is not None and state["reason"] == "patchning 22-23"
        store.open_run({})  # so that status lists a run and goes on to the scheduler's lines
    assert main(["status", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"scheduler: PAUSED, paused by {state['by']}" in out
    assert "scheduler: none heard from in the last 30 s" in out  # no `casebot schedule` is running here
    with open_store(config.store_url) as store:
        beat(store, "robot1:4711")
    assert main(["status", "--config", str(path)]) == 0
    assert "scheduler: running on robot1:4711, last heard from at" in capsys.readouterr().out
    assert main(["schedule", "--config", str(path), "--resume"]) == 0
    assert "scheduler resumed" in capsys.readouterr().out
    assert main(["schedule", "--config", str(path), "--resume"]) == 1
    assert "not paused" in capsys.readouterr().err
    with open_store(config.store_url) as store:
        assert scheduler_paused(store) is None
        audit = store.audit_log()
    assert [(a.action, a.result) for a in audit] == [("resume_scheduler", "refused: not paused"),
                                                     ("resume_scheduler", "ok"), ("pause_scheduler", "ok")]
    assert audit[2].detail == {"reason": "patchning 22-23"} and audit[2].who == state["by"]
    assert main(["status", "--config", str(path)]) == 0
    assert "PAUSED" not in capsys.readouterr().out
