"""Everything a night leaves on disk, as text a test can search (no personnummer, names or passwords there)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from bot.config import Config


def artefact_texts(config: Config) -> dict[Path, str]:
    """Every file the nights left (logs, reports, traces, screenshots, the state store) as searchable text."""
    texts: dict[Path, str] = {}
    for path in [*config.log_dir.rglob("*"), *config.data_dir.rglob("*")]:
        if not path.is_file():
            continue
        if path.suffix == ".xlsx":
            book = load_workbook(path)
            texts[path] = "\n".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row
                                    if c.value is not None)
        else:
            texts[path] = path.read_bytes().decode("utf-8", errors="replace")
    return texts
