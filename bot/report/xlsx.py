"""Small openpyxl helpers shared by the report sheets: safe cell writing and table layout.

Every value that reaches a cell goes through `put`, so the two promises the report makes hold on every sheet:
no unmasked personnummer, and no text that Excel would run as a formula.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.masking import mask_text

# What spreadsheet programs treat as the start of a formula (=, and +/-/@ in Excel and LibreOffice), plus the
# tab/CR that CSV-injection payloads put in front to slip past naive checks.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
MAX_WIDTH = 60
MIN_WIDTH = 6
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

Value = str | int | float | datetime | timedelta | None


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES)


def put(ws: Worksheet, row: int, column: int, value: Value, *, number_format: str | None = None,
        wrap: bool = False) -> Cell:
    """Write one value. Strings are masked and always stored as text: openpyxl would otherwise store a string
    starting with "=" as a formula, and a case system or agency portal can put anything in a field."""
    cell = ws.cell(row=row, column=column)
    assert isinstance(cell, Cell), "the robot never merges cells"
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", mask_text(value))  # control characters make openpyxl refuse the file
        cell.value = text
        cell.data_type = "s"  # after the assignment, which is where openpyxl guesses "f" (formula) or "e" (error)
        if looks_like_formula(text):
            # Excel's leading-apostrophe flag: shown as typed, and stays text if someone edits the cell.
            cell.quotePrefix = True
    else:
        cell.value = value
        if isinstance(value, datetime):
            cell.number_format = DATETIME_FORMAT
    if number_format is not None:
        cell.number_format = number_format
    if wrap:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    elif value is not None:
        cell.alignment = Alignment(vertical="top")  # rows grow with wrapped neighbours; keep them readable
    return cell


def write_table(ws: Worksheet, headers: Sequence[str], rows: Iterable[Sequence[Value]], *,
                number_formats: dict[int, str] | None = None, wrap_columns: Iterable[int] = ()) -> int:
    """Header row in row 1, data below; frozen header, bold header, auto filter, widths from content.
    Column indexes in `number_formats` and `wrap_columns` are 1-based. Returns the last row written."""
    formats = number_formats or {}
    wrapped = set(wrap_columns)
    bold = Font(bold=True)
    for column, header in enumerate(headers, start=1):
        put(ws, 1, column, header).font = bold
    last = 1
    for last, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            put(ws, last, column, value, number_format=formats.get(column), wrap=column in wrapped)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{last}"
    fit_columns(ws, len(headers))
    return last


def _shown_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len(DATETIME_FORMAT)
    if isinstance(value, float):
        return len(f"{value:.1f}")
    if isinstance(value, int):
        return len(f"{value:,}") + 3  # thousands separators and " kr"
    return max((len(line) for line in str(value).splitlines()), default=0)


def fit_columns(ws: Worksheet, columns: int) -> None:
    for column in range(1, columns + 1):
        widest = max((_shown_width(c.value) for (c,) in ws.iter_rows(min_col=column, max_col=column)), default=0)
        # +2 leaves room for the auto filter's drop-down button on the header.
        ws.column_dimensions[get_column_letter(column)].width = min(MAX_WIDTH, max(MIN_WIDTH, widest + 2))


def save_private(wb: Workbook, path: Path) -> Path:
    """Save owner-only (the report holds case data), atomically: a reader never opens a half-written file, and a
    report that already exists keeps its old content if this save fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # created 0o600
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            wb.save(handle)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
