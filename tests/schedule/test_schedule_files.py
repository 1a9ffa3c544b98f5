"""Schedule files and calendars: what the shipped ones say, and clear errors for malformed ones (no browser)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.config import write_config
from bot.dev.sandbox import sandbox_config
from bot.errors import ConfigError
from bot.paths import SCHEDULES_DIR
from bot.schedule.load import load_schedules, window_end
from bot.schedule.runner import NightScheduler

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_nightly_schedule_skips_swedish_holidays() -> None:
    (natt,) = load_schedules(SCHEDULES_DIR)
    assert natt.job.cron == "0 1 * * *" and natt.job.timezone == "Europe/Stockholm"
    for day, name in (("2026-04-03", "Långfredagen"), ("2026-06-19", "Midsommarafton"),
                      ("2026-12-24", "Julafton"), ("2027-03-26", "Långfredagen"), ("2027-06-25", "Midsommarafton")):
        assert natt.blacked_out(dt.date.fromisoformat(day)) == name
    assert natt.blacked_out(dt.date(2026, 12, 22)) is None


def test_next_fire_times_leave_out_blackout_days(tmp_path: Path) -> None:
    tomorrow = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=1)
    _write(tmp_path, "s.yaml", f'jobs:\n  - name: n\n    cron: "30 2 * * *"\n'
                               f'    blackout: {{dates: ["{tomorrow.isoformat()}"]}}\n')
    jobs = load_schedules(tmp_path)
    config = sandbox_config(tmp_path / "robot")
    [(name, times)] = NightScheduler(config, jobs).next_fire_times(3)
    assert name == "n" and len(times) == 3
    assert tomorrow not in [t.date() for t in times]
    assert all((t.hour, t.minute) == (2, 30) and t.tzinfo is not None for t in times)
    assert times == sorted(times) and len({t.date() for t in times}) == 3


def test_schedule_list_prints_the_next_fire_times(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(sandbox_config(tmp_path / "robot"), tmp_path / "config.yaml")
    assert main(["schedule", "--config", str(config), "--list", "--count", "2"]) == 0
    out = capsys.readouterr().out
    assert "natt  cron '0 1 * * *' (Europe/Stockholm), window until 05:30" in out
    fire_lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(fire_lines) == 2 and all("01:00:00 CE" in line for line in fire_lines)


@pytest.mark.parametrize(("text", "problem"), [
    ('jobs:\n  - name: n\n    cron: "0 25 * * *"\n', ":3: jobs.0.cron:"),
    ('jobs:\n  - name: n\n    cron: "0 1 * *"\n', ":3: jobs.0.cron: a cron expression has 5 fields"),
    ('jobs:\n  - name: n\n    cron: "0 1 * * *"\n    timezone: Europe/Stokholm\n', ":4: jobs.0.timezone:"),
    ('jobs:\n  - name: n\n    cron: "0 1 * * *"\n    windw: {until: "05:00"}\n', ":4: jobs.0.windw: unknown key"),
    ('jobs:\n  - name: n\n    cron: "0 1 * * *"\n    blackout: {dates: ["2026-13-01"]}\n', ":4: jobs.0.blackout"),
    ('jobs:\n  - name: n\n    cron: "0 1 * * *"\n    blackout: {calendars: [nope.yaml]}\n', "calendar nope.yaml"),
    ("jobs: []\n", ":1: jobs:"),
])
def test_a_malformed_schedule_fails_at_start_with_file_line_and_problem(tmp_path: Path, text: str,
                                                                        problem: str) -> None:
    path = _write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_schedules(tmp_path)
    assert str(path) in str(caught.value) and problem in str(caught.value), str(caught.value)


def test_the_same_job_name_in_two_files_is_refused(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        _write(tmp_path, name, 'jobs:\n  - name: natt\n    cron: "0 1 * * *"\n')
    with pytest.raises(ConfigError, match="job 'natt' is also defined in"):
        load_schedules(tmp_path)


def test_the_window_ends_the_same_morning_or_the_next() -> None:
    start = dt.datetime(2026, 11, 26, 1, 0, tzinfo=STOCKHOLM)
    assert window_end(start, dt.time(5, 30)) == dt.datetime(2026, 11, 26, 5, 30, tzinfo=STOCKHOLM)
    evening = dt.datetime(2026, 11, 26, 22, 0, tzinfo=STOCKHOLM)
    assert window_end(evening, dt.time(4, 0)) == dt.datetime(2026, 11, 27, 4, 0, tzinfo=STOCKHOLM)
