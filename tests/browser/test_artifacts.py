"""Traces and screenshots are kept their configured number of days, then purged; owner-only while kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bot.browser.artifacts import make_private, private_dir, purge_artifacts

DAY = 86400


def _file(folder: Path, name: str, age_days: float, now: float) -> Path:
    path = folder / name
    path.write_bytes(b"x")
    os.utime(path, (now - age_days * DAY, now - age_days * DAY))
    return path


def test_traces_and_screenshots_go_after_their_own_retention(tmp_path: Path) -> None:
    folder = private_dir(tmp_path / "artifacts")
    now = time.time()
    old_trace = _file(folder, "EB-1-20240101T010101-fk-trace.zip", 10, now)
    new_trace = _file(folder, "EB-1-20240110T010101-fk-trace.zip", 1, now)
    old_shot = _file(folder, "EB-1-20240101T010101-fk.png", 4, now)
    new_shot = _file(folder, "EB-1-20240110T010101-fk.png", 2, now)
    other = _file(folder, "README.txt", 400, now)  # not the robot's: left alone
    removed = purge_artifacts(folder, traces_days=7, screenshots_days=3, now=now)
    assert sorted(removed) == sorted([old_trace, old_shot])
    assert all(p.exists() for p in (new_trace, new_shot, other))


def test_artifacts_are_owner_only(tmp_path: Path) -> None:
    folder = private_dir(tmp_path / "artifacts")
    shot = folder / "x.png"
    shot.write_bytes(b"x")
    make_private(shot)
    assert folder.stat().st_mode & 0o777 == 0o700 and shot.stat().st_mode & 0o777 == 0o600
