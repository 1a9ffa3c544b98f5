"""Traces and screenshots of failed cases: owner-only files, kept a configured number of days."""

from __future__ import annotations

import os
import time
from pathlib import Path


def private_dir(path: Path) -> Path:
    """Create `path` readable only by the owner; personal data may end up in what is stored there."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def make_private(path: Path) -> None:
    if path.exists():
        os.chmod(path, 0o600)


def purge_older_than(folder: Path, days: float, now: float | None = None, pattern: str = "*") -> list[Path]:
    """Delete files under `folder` matching `pattern` and older than `days`; returns what was removed."""
    if not folder.exists():
        return []
    cutoff = (now if now is not None else time.time()) - days * 86400
    removed = []
    for item in folder.rglob(pattern):
        if item.is_file() and item.stat().st_mtime < cutoff:
            item.unlink()
            removed.append(item)
    return removed


def purge_artifacts(folder: Path, traces_days: float, screenshots_days: float,
                    now: float | None = None) -> list[Path]:
    """What every run does first: traces (`*-trace.zip`) and screenshots (`*.png`) past their retention go."""
    return (purge_older_than(folder, traces_days, now, "*-trace.zip")
            + purge_older_than(folder, screenshots_days, now, "*.png"))
