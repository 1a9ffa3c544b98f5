"""Where casebot keeps its files when nothing else is configured."""

from __future__ import annotations

import os
from pathlib import Path


def default_home() -> Path:
    """`$CASEBOT_HOME`, else `./var` under the current folder: the demo keeps everything in one place."""
    return Path(os.environ.get("CASEBOT_HOME", "var")).resolve()
