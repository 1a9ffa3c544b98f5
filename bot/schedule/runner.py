"""`casebot schedule`: APScheduler (3.x) firing the nightly runs described in `schedules/*.yaml`.

What guards a fire, in order:
- blackout: the date (in the job's time zone) is a holiday or a closed day → skipped, and said so;
- the pause: an operator paused the scheduler for a maintenance window (`pause.py`, the console or `casebot
  schedule --pause`) → skipped as `paused`, naming who paused it and why;
- leadership: with a PostgreSQL store several hosts may run `casebot schedule`; only the elected leader (an
  advisory lock, see `leader.py`) starts the night, the others skip the fire as `not_leader` and stand by;
- one run at a time: another job's run (in this process) or another scheduler's run on this host (a lock file in
  the data folder) is going on → skipped, and said so; APScheduler's `max_instances=1` covers the same job;
- misfires: a fire missed while the host was down runs if it is at most `misfire_grace_s` late, and several
  missed fires run once (`coalesce`);
- the run itself starts with the preflight check (portals reachable, every selector), before any case;
- the window: from `window.until` no new case is taken; the case in hand is finished, the rest left for next time.

A night the console asks for (`requests.py`) is taken by the leading scheduler within `look_every_s` and run under
the same guards, recorded as job `console`.

SIGTERM/SIGINT stop the scheduler: the run in hand stops after its current step (checkpointed), and the process
exits cleanly. The next run continues that run.

Every fire is stored as an event beside the runs (not tied to one), with structured data the console reads:
`SCHEDULE_SKIPPED` (WARNING; `data={"job", "outcome": blackout|paused|not_leader|busy, "detail", "at"}`) or
`SCHEDULE_FIRED` (INFO; `data={"job", "outcome": "ran", "run_id", "at"}`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from loguru import logger

from bot.alerts import notify
from bot.config import Config
from bot.log import setup_logging
from bot.run.entry import NightReport, run_once
from bot.schedule.leader import Leadership, leadership_for
from bot.schedule.load import ScheduledJob, window_end
from bot.schedule.model import cron_trigger
from bot.schedule.pause import describe_pause, scheduler_paused
from bot.schedule.requests import LOOK_EVERY_S, beat, take_night_request
from bot.store import open_store
from bot.store.sql import default_owner

LOCK_NAME = "run.lock"
SCHEDULER_LOG_ID = "scheduler"
LOOK_JOB = "look-for-requests"
REQUESTED_JOB = "console"  # the job name a requested night is recorded under


@dataclass
class FireRecord:
    """What one fire did, for the operator's log and for tests."""

    job: str
    at: dt.datetime
    outcome: str  # "ran", "blackout", "paused", "not_leader", "busy"
    detail: str = ""
    night: NightReport | None = None


@contextlib.contextmanager
def host_run_lock(data_dir: Path) -> Iterator[bool]:
    """True while this process holds the host's run lock; False if another process has it. The OS drops the lock
    when its holder dies, so a killed scheduler never blocks the next night."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / LOCK_NAME, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class NightScheduler:
    config: Config
    jobs: list[ScheduledJob]
    environ: Mapping[str, str] | None = None
    console: bool = True
    on_fire: Callable[[FireRecord], None] | None = None
    fires: list[FireRecord] = field(default_factory=list)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    leadership: Leadership | None = None  # None: by the store (PostgreSQL elects, SQLite has one host)
    look_every_s: float = LOOK_EVERY_S  # how often the console's requests are looked for (`requests.py`)
    _busy: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.leadership is None:
            self.leadership = leadership_for(self.config.store_url)
        self.scheduler = BackgroundScheduler(job_defaults={"max_instances": 1})
        for scheduled in self.jobs:
            job = scheduled.job
            self.scheduler.add_job(self.fire, cron_trigger(job.cron, job.timezone), args=[scheduled], id=job.name,
                                   name=job.name, misfire_grace_time=job.misfire_grace_s, coalesce=job.coalesce)
        self.scheduler.add_job(self.look_for_request, "interval", seconds=self.look_every_s, id=LOOK_JOB,
                               name=LOOK_JOB, next_run_time=dt.datetime.now(dt.UTC), coalesce=True,
                               misfire_grace_time=None)
        self.scheduler.add_listener(self._missed, EVENT_JOB_MISSED)

    # -- one fire -------------------------------------------------------------------------------------------
    def fire(self, scheduled: ScheduledJob) -> FireRecord:
        job = scheduled.job
        now = dt.datetime.now(ZoneInfo(job.timezone))
        holiday = scheduled.blacked_out(now.date())
        if holiday is not None:
            return self._record(FireRecord(job.name, now, "blackout", f"{now.date()}: {holiday}"))
        until = window_end(now, job.window.until) if job.window else None
        return self._start_night(job.name, now, limit=job.limit, until=until)

    def _start_night(self, name: str, now: dt.datetime, *, limit: int | None, until: dt.datetime | None,
                     why: str = "") -> FireRecord:
        """A night, unless the pause, another host's leadership or a run going on says not now."""
        paused = self._paused()
        if paused is not None:
            return self._record(FireRecord(name, now, "paused", describe_pause(paused)))
        assert self.leadership is not None
        if not self.leadership.claim():
            return self._record(FireRecord(name, now, "not_leader", f"another host's scheduler leads; "
                                           f"{default_owner()} stands by"))
        if not self._busy.acquire(blocking=False):
            return self._record(FireRecord(name, now, "busy", "another run is going on in this scheduler"))
        try:
            with host_run_lock(self.config.data_dir) as held:
                if not held:
                    return self._record(FireRecord(name, now, "busy",
                                                   "another casebot process on this host holds the run lock"))
                logger.info("schedule {}: starting the night{}{}", name, why,
                            f", no new case after {until:%Y-%m-%d %H:%M}" if until else "")
                try:
                    night = asyncio.run(run_once(self.config, environ=self.environ, limit=limit,
                                                 console=self.console, stop_taking_at=until,
                                                 stop=self.stop_requested))
                finally:
                    self.log_to_scheduler_file()  # a run logs to its own file, then closes it
                notify(night, self.config.alerts, self.environ, proxy=self.config.proxy,
                       tls=self.config.tls)
                return self._record(FireRecord(name, now, "ran", f"run {night.result.run_id}: "
                                                                 f"{night.result.summary.run.status}{why}", night))
        finally:
            self._busy.release()

    # -- a night the console asked for ----------------------------------------------------------------------
    def look_for_request(self) -> None:
        """Say this scheduler is here, and (the leader only) take a night the console asked for: it runs as a job
        of its own, so the looking goes on while it runs."""
        try:
            with open_store(self.config.store_url) as store:
                beat(store, default_owner())
                assert self.leadership is not None
                request = take_night_request(store) if self.leadership.claim() else None
        except Exception as exc:  # noqa: BLE001 - the next look tries again; fires do not depend on it
            logger.warning("schedule: could not look for a requested night ({})", exc)
            return
        if request is not None:
            self.scheduler.add_job(self.run_request, args=[request], name=REQUESTED_JOB, misfire_grace_time=None)

    def run_request(self, request: Mapping[str, object]) -> FireRecord:
        return self._start_night(REQUESTED_JOB, dt.datetime.now(dt.UTC).astimezone(), limit=None, until=None,
                                 why=f" (requested by {request.get('by', '?')} at {request.get('at', '?')})")

    def _paused(self) -> dict[str, object] | None:
        """The pause switch; a store that cannot be read does not stop the night here (the run itself opens the
        store first and reports it with its code)."""
        try:
            with open_store(self.config.store_url) as store:
                return scheduler_paused(store)
        except Exception as exc:  # noqa: BLE001 - logged; the run reports the store's error itself
            logger.warning("schedule: could not read the pause switch ({}); firing", exc)
            return None

    def _record(self, record: FireRecord) -> FireRecord:
        data: dict[str, object] = {"job": record.job, "outcome": record.outcome, "at": record.at.isoformat()}
        if record.outcome != "ran":
            logger.warning("schedule {}: skipped at {:%Y-%m-%d %H:%M:%S} ({}): {}", record.job, record.at,
                           record.outcome, record.detail)
            self._store_event(f"schedule {record.job}: fire skipped ({record.outcome}): {record.detail}",
                              "SCHEDULE_SKIPPED", data={**data, "detail": record.detail})
        else:
            run_id = record.night.result.run_id if record.night is not None else None
            self._store_event(f"schedule {record.job}: fired, {record.detail}", "SCHEDULE_FIRED", level="INFO",
                              data={**data, "run_id": run_id})
        self.fires.append(record)
        if self.on_fire is not None:
            self.on_fire(record)
        return record

    def _missed(self, event: JobExecutionEvent) -> None:
        if event.job_id == LOOK_JOB:
            return  # a look put off by a busy pool is not a night missed: the next one comes in seconds
        logger.warning("schedule {}: the fire due at {} was missed by more than its misfire grace; not run",
                       event.job_id, event.scheduled_run_time)
        self._store_event(f"schedule {event.job_id}: fire due at {event.scheduled_run_time} missed", "SCHEDULE_MISSED",
                          data={"job": event.job_id, "outcome": "missed", "at": event.scheduled_run_time.isoformat()})

    def _store_event(self, message: str, code: str, *, level: str = "WARNING",
                     data: dict[str, object] | None = None) -> None:
        # Not tied to a run: `casebot status` shows these beside the runs, so a skipped night is never silent.
        with contextlib.suppress(Exception), open_store(self.config.store_url) as store:
            store.record_event(None, level, message, code=code, data=data)

    # -- the process ----------------------------------------------------------------------------------------
    def log_to_scheduler_file(self) -> None:
        """Between runs the scheduler logs to `scheduler-….jsonl` (skips, misses, alerts) and the console."""
        setup_logging(self.config.log_dir, SCHEDULER_LOG_ID, console=self.console)

    def next_fire_times(self, count: int = 3) -> list[tuple[str, list[dt.datetime]]]:
        """Each job's next `count` fire times, skipping blacked-out dates (what `--list` prints)."""
        now = dt.datetime.now(dt.UTC)
        return [(scheduled.name, scheduled.upcoming(now, count)[0]) for scheduled in self.jobs]

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        """Ask the run in hand to stop after its current step, and wait for it."""
        self.stop_requested.set()
        with contextlib.suppress(Exception):
            self.scheduler.shutdown(wait=True)
        if self.leadership is not None:
            self.leadership.close()

    def serve(self) -> int:
        """Run until SIGTERM/SIGINT; then stop cleanly (exit code 0)."""
        stopping = threading.Event()

        def on_signal(signum: int, _frame: object) -> None:
            logger.warning("{} received: finishing the current step, then stopping", signal.Signals(signum).name)
            self.stop_requested.set()
            stopping.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, on_signal)
        self.log_to_scheduler_file()
        self.start()
        for name, times in self.next_fire_times(1):
            logger.info("schedule {}: next run {}", name, times[0].isoformat() if times else "never")
        paused = self._paused()
        if paused is not None:
            logger.warning("the scheduler is {}: every fire is skipped until `casebot schedule --resume`",
                           describe_pause(paused))
        while not stopping.wait(1.0):
            pass
        self.shutdown()
        logger.info("scheduler stopped")
        return 0
