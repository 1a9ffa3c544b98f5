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
