"""Reading `schedules/*.yaml` (and the holiday calendars they name) with file:line errors, at start-up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import ConfigError
from bot.schedule.model import Calendar, Job, ScheduleFile
from bot.yamlload import load_model


@dataclass(frozen=True)
class ScheduledJob:
    job: Job
    source: Path
    blackout: dict[dt.date, str] = field(default_factory=dict)  # date → why (holiday name or "stängt")

    @property
    def name(self) -> str:
        return self.job.name

    def blacked_out(self, day: dt.date) -> str | None:
        return self.blackout.get(day)

    def upcoming(self, now: dt.datetime, count: int) -> tuple[list[dt.datetime], list[tuple[dt.datetime, str]]]:
        """The next `count` fires after `now`, blacked-out dates left out, and the blacked-out fires passed on the
        way with why. Pure: no scheduler is started (`casebot schedule --list` and the console both ask)."""
        from bot.schedule.model import cron_trigger

        trigger = cron_trigger(self.job.cron, self.job.timezone)
        local_now = now.astimezone(trigger.timezone)
        fires: list[dt.datetime] = []
        skipped: list[tuple[dt.datetime, str]] = []
        previous = None
        for _ in range(count * 50):  # a calendar that blacks out every fire must not loop for ever
            fire = trigger.get_next_fire_time(previous, previous or local_now)
            if fire is None or len(fires) >= count:
                break
            if previous is None and fire <= local_now:
                previous = fire  # APScheduler may give `now` itself back; the next fire is strictly later
                continue
            previous = fire
            why = self.blacked_out(fire.date())
            if why is None:
                fires.append(fire)
            else:
                skipped.append((fire, why))
        return fires, skipped


def load_schedules(folder: Path) -> list[ScheduledJob]:
    """Every enabled job of every schedule file in `folder`; every problem in every file at once."""
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ConfigError(f"{folder}: no schedule files (*.yaml)")
    problems: list[str] = []
    jobs: list[ScheduledJob] = []
    for path in files:
        try:
            schedule = load_model(path, ScheduleFile)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        for job in schedule.jobs:
            try:
                jobs.append(ScheduledJob(job, path, _blackout(path, job)))
            except ConfigError as exc:
                problems.extend(exc.problems)
    seen: dict[str, Path] = {}
    for scheduled in jobs:
        if scheduled.name in seen:
            problems.append(f"{scheduled.source}: job '{scheduled.name}' is also defined in {seen[scheduled.name]}")
        seen.setdefault(scheduled.name, scheduled.source)
    if problems:
        raise ConfigError(problems)
    return [j for j in jobs if j.job.enabled]


def _blackout(path: Path, job: Job) -> dict[dt.date, str]:
    days: dict[dt.date, str] = {}
    for name in job.blackout.calendars:
        calendar_path = (path.parent / name).resolve()
        if not calendar_path.is_file():
            raise ConfigError(f"{path}: job '{job.name}': blackout calendar {name} not found ({calendar_path})")
        days.update(load_model(calendar_path, Calendar).dates)
    days.update({day: "stängt enligt schemat" for day in job.blackout.dates})
    return days


def window_end(start: dt.datetime, until: dt.time) -> dt.datetime:
    """When a run that started at `start` (aware, in the job's zone) stops taking new cases: `until` that day,
    or the next day when `until` is not later than the start (01:00 start, 05:30 end; 22:00 start, 04:00 end)."""
    end = start.replace(hour=until.hour, minute=until.minute, second=until.second, microsecond=0)
    return end if end > start else end + dt.timedelta(days=1)
