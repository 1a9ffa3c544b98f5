"""The shape of a schedule file, `schedules/<name>.yaml`. Data, not code: operations edit these.

```yaml
jobs:
  - name: natt
    cron: "0 1 * * 1-5"            # minute hour day month weekday (a 6th leading field is seconds)
    timezone: Europe/Stockholm
    window: {until: "05:30"}       # stop taking new cases then; the case in hand is finished
    blackout:
      calendars: [calendars/sweden.yaml]   # public holidays: the case system's nights off
      dates: ["2026-12-23"]                # one-off closures
    misfire_grace_s: 3600          # a fire missed while the host was down still runs if it is this late at most
    coalesce: true                 # several missed fires run once, not once each
```
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_TIMEZONE = "Europe/Stockholm"
CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """A 5-field crontab expression, or 6 fields with seconds first (tests fire within the minute)."""
    fields = expression.split()
    if len(fields) == 5:
        return CronTrigger(**dict(zip(CRON_FIELDS, fields, strict=True)), timezone=ZoneInfo(timezone))
    if len(fields) == 6:
        return CronTrigger(second=fields[0], **dict(zip(CRON_FIELDS, fields[1:], strict=True)),
                           timezone=ZoneInfo(timezone))
    raise ValueError(f"a cron expression has 5 fields (minute hour day month weekday), or 6 with seconds first; "
                     f"got {len(fields)}")


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: dt.time  # local time in the job's time zone; a time before the start means the next morning


class Blackout(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calendars: list[str] = Field(default_factory=list)  # holiday files, relative to the schedule file
    dates: list[dt.date] = Field(default_factory=list)


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    cron: str
    timezone: str = DEFAULT_TIMEZONE
    window: Window | None = None
    blackout: Blackout = Blackout()
    misfire_grace_s: int = Field(3600, ge=1)
    coalesce: bool = True
    limit: int | None = Field(None, ge=1)  # at most this many new cases (a trial schedule)
    enabled: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Stockholm)") from None
        return value

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        cron_trigger(value, DEFAULT_TIMEZONE)  # raises ValueError with APScheduler's reason
        return value


class ScheduleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    jobs: list[Job] = Field(min_length=1)


class Calendar(BaseModel):
    """A holiday file: the dates on which no night runs, each with its name."""

    model_config = ConfigDict(extra="forbid")

    name: str
    source: str | None = None
    dates: dict[dt.date, str] = Field(min_length=1)
