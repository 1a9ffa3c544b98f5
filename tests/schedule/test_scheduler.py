"""Issue 6's "done when": the scheduler against the sandbox, with near-future cron triggers.

- in process: two jobs firing at the same second start one run (the other is skipped as busy), a job on a
  blackout date is skipped, the run writes its morning report and the alert arrives at a local SMTP server;
- as a real `casebot schedule` process: SIGTERM mid-run stops after the current step with a clean checkpoint
  (nothing left in progress), exits 0, and the next run continues the same run to the end, nothing done twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.config import Config, write_config
from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_config, sandbox_environ
from bot.note import NOTE_MARKER_PREFIX
from bot.run.entry import run_once
from bot.schedule.load import load_schedules
from bot.schedule.runner import NightScheduler
from bot.store import open_store
from tests.sandbox_proc import start_sandbox
from tests.schedule.servers import SmtpServer

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _cron_in(seconds: int) -> str:
    """A 6-field cron expression (seconds first) that fires once, `seconds` from now."""
    at = dt.datetime.now(STOCKHOLM) + dt.timedelta(seconds=seconds)
    return f"{at.second} {at.minute} {at.hour} {at.day} {at.month} *"


def _robot_audit(box: Sandbox) -> list[dict[str, object]]:
    rows = box.admin_get("casesystem", "/_admin/audit")
    assert isinstance(rows, list)
    return [r for r in rows if r["username"] == "robot"]


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = start_sandbox(tmp_path / "sandbox", cases=6, seed=23)
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.mark.browser
def test_one_run_fires_overlap_and_blackout_are_skipped_and_the_report_and_alert_arrive(
        box: Sandbox, tmp_path: Path) -> None:
    box.set_knobs("fk", error_rate=1.0)  # FK answers only errors tonight: those cases fail, so the night alerts
    schedules = tmp_path / "schedules"
    schedules.mkdir()
    cron = _cron_in(8)
    today = dt.datetime.now(STOCKHOLM).date().isoformat()
    (schedules / "natt.yaml").write_text(
        f'jobs:\n  - name: natt\n    cron: "{cron}"\n'
        f'  - name: natt-extra\n    cron: "{cron}"\n'                      # overlaps natt exactly
        f'  - name: helg\n    cron: "{cron}"\n    blackout: {{dates: ["{today}"]}}\n', encoding="utf-8")
    with SmtpServer() as smtp:
        config = sandbox_config(tmp_path / "robot", box, workers=2, retries={"max_attempts": 1},
                                alerts={"email": {"host": "127.0.0.1", "port": smtp.port,
                                                  "sender": "casebot@kommun.example", "to": ["drift@kommun.example"]}})
        scheduler = NightScheduler(config, load_schedules(schedules), environ={**os.environ, **sandbox_environ()},
                                   console=False)
        scheduler.start()
        try:
            deadline = time.monotonic() + 240
            while len(scheduler.fires) < 3 and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            scheduler.shutdown()
        assert smtp.mailbox.arrived.wait(10)

    outcomes = {f.job: f.outcome for f in scheduler.fires}
    assert sorted(outcomes.values()) == ["blackout", "busy", "ran"], scheduler.fires
    assert outcomes["helg"] == "blackout"
    (ran,) = [f for f in scheduler.fires if f.outcome == "ran"]
    assert ran.night is not None
    with open_store(config.store_url) as store:
        assert [r.id for r in store.list_runs()] == [ran.night.result.run_id]  # one run, not two
        skipped = [e.message for e in store.events() if e.code == "SCHEDULE_SKIPPED"]
    assert len(skipped) == 2 and any("busy" in m for m in skipped) and any(today in m for m in skipped)
    failed = [i for i in ran.night.items if i.state == "failed"]
    assert failed and {i.last_error_code for i in failed} <= {"PORTAL_DOWN", "PORTAL_MAINTENANCE"}
    assert load_workbook(ran.night.report_path).sheetnames[0] == "Sammanfattning"
    (mail,) = smtp.mailbox.messages
    assert ran.night.result.run_id in mail["Subject"] and "med fel" in mail["Subject"]
    body = mail.get_content()
    assert "runbooks/PORTAL_" in body and str(ran.night.report_path) in body


@pytest.mark.browser
def test_sigterm_mid_run_leaves_a_clean_checkpoint_that_the_next_run_continues(box: Sandbox, tmp_path: Path) -> None:
    schedules = tmp_path / "schedules"
    schedules.mkdir()
    (schedules / "natt.yaml").write_text(f'jobs:\n  - name: natt\n    cron: "{_cron_in(10)}"\n', encoding="utf-8")
    config: Config = sandbox_config(tmp_path / "robot", box, workers=1)
    config_file = write_config(config, tmp_path / "config.yaml")
    env = {**os.environ, **sandbox_environ(), "PYTHONUNBUFFERED": "1"}
    log = open(tmp_path / "schedule.out", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "schedule", "--config", str(config_file),
                                "--schedules", str(schedules)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        done = 0
        while done < 2:  # let the run finish two cases, then stop it in the middle of the third
            assert process.poll() is None, (tmp_path / "schedule.out").read_text()
            assert time.monotonic() < deadline, "the scheduled run did not get going"
            time.sleep(0.5)
            if (config.data_dir / "casebot.db").exists():
                with open_store(config.store_url) as store:
                    runs = store.list_runs()
                    done = len(store.items(runs[0].id, "done")) + len(store.items(runs[0].id, "business_exception")) \
                        if runs else 0
        time.sleep(1.5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=120) == 0, (tmp_path / "schedule.out").read_text()
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    output = (tmp_path / "schedule.out").read_text()
    assert "SIGTERM received" in output

    with open_store(config.store_url) as store:
        (run,) = store.list_runs()
        assert run.status == "running"  # not finished: the next run continues it
        items = store.items(run.id)
        assert not [i for i in items if i.state == "in_progress"]  # the lease was given back, not left to expire
        left = [i for i in items if i.state == "new"]
        assert left, "SIGTERM came after the last case: nothing left to continue"
        stopped = [i for i in left if store.checkpoints(i)]
        assert stopped, "the case in hand at SIGTERM kept its checkpoints"

    night = asyncio.run(run_once(config, environ=env, console=False))
    assert night.result.run_id == run.id and night.exit_code == 0
    assert night.result.summary.total == 6 and night.result.summary.open == 0
    assert differences_from_oracle(box) == {}
    audit = _robot_audit(box)
    notes = Counter(a["case_id"] for a in audit if a["field"] == "journal" and NOTE_MARKER_PREFIX in str(a["new"]))
    handed = Counter(a["case_id"] for a in audit if a["field"] == "status" and a["new"] in ("klar_for_signering",
                                                                                           "manuell"))
    assert set(notes.values()) == {1} and set(handed.values()) == {1} and len(handed) == 6


@pytest.mark.browser
def test_after_the_window_no_case_is_taken_and_the_run_is_left_for_next_time(box: Sandbox, tmp_path: Path) -> None:
    config = sandbox_config(tmp_path / "robot", box, workers=1)
    closed = dt.datetime.now(STOCKHOLM) - dt.timedelta(seconds=1)
    night = asyncio.run(run_once(config, environ={**os.environ, **sandbox_environ()}, console=False,
                                 stop_taking_at=closed))
    assert night.result.summary.total == 6 and night.result.summary.open == 6  # listed, none taken
    assert _robot_audit(box) == []
    with open_store(config.store_url) as store:
        assert store.get_run(night.result.run_id).status == "running"  # type: ignore[union-attr]
        assert [e.code for e in store.events(night.result.run_id) if e.code == "WINDOW_ENDED"] == ["WINDOW_ENDED"]
