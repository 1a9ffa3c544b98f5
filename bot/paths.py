"""Where casebot keeps its files when nothing else is configured."""

from __future__ import annotations

import os
from pathlib import Path


def default_home() -> Path:
    """`$CASEBOT_HOME`, else `./var` under the current folder: the demo keeps everything in one place."""
    return Path(os.environ.get("CASEBOT_HOME", "var")).resolve()


# The repo's data folders: admins edit these files, so they live beside the code rather than inside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SELECTORS_DIR = PROJECT_ROOT / "selectors"
RUNBOOKS_DIR = PROJECT_ROOT / "runbooks"
SCHEDULES_DIR = PROJECT_ROOT / "schedules"
RECORDINGS_DIR = PROJECT_ROOT / "recordings"
