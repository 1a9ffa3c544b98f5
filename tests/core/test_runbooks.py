"""Every error code has an operator runbook, every runbook belongs to a code, and the index agrees with the
catalogue. The list of codes always comes from `ErrorCode`, so a new code without a runbook fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.errors import CATALOGUE, RUNBOOK_DIR, ErrorCode
from bot.paths import PROJECT_ROOT

RUNBOOKS = PROJECT_ROOT / RUNBOOK_DIR
INDEX = RUNBOOKS / "README.md"
SECTIONS = ("Symptoms", "Likely causes", "What to check", "How to rerun safely", "Escalate to")
CODES = list(ErrorCode)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _headings(text: str, level: int) -> list[str]:
    marks = "#" * level
    return [m.group(1).strip() for m in re.finditer(rf"^{marks} (.+)$", text, flags=re.MULTILINE)]


def _section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"no section '## {title}'"
    return match.group(1)


def _index_rows() -> dict[str, list[str]]:
    """Index table rows keyed by the code in their first cell: `| [CODE](CODE.md) | summary | kind | … |`."""
    rows: dict[str, list[str]] = {}
    for line in _text(INDEX).splitlines():
        match = re.match(r"^\|\s*\[([A-Z_]+)\]\(([^)]+)\)\s*\|(.*)\|\s*$", line)
        if match:
            assert match.group(2) == f"{match.group(1)}.md", f"index link for {match.group(1)} points elsewhere"
            rows[match.group(1)] = [cell.strip() for cell in match.group(3).split("|")]
    return rows


def test_the_runbook_folder_is_the_one_the_errors_point_to() -> None:
    assert RUNBOOKS.is_dir()
    assert all((PROJECT_ROOT / code.runbook).parent == RUNBOOKS for code in CODES)


@pytest.mark.parametrize("code", CODES, ids=str)
def test_every_code_has_a_runbook_whose_first_heading_names_it(code: ErrorCode) -> None:
    path = PROJECT_ROOT / code.runbook
    assert path.is_file(), f"{code.value} has no runbook: create {code.runbook}"
    text = _text(path)
    first = next((line for line in text.splitlines() if line.startswith("#")), "")
    assert re.match(rf"^# {code.value}\b", first), f"{code.runbook}: first heading should name {code.value}: {first!r}"


@pytest.mark.parametrize("code", CODES, ids=str)
def test_every_runbook_has_the_five_sections_in_order(code: ErrorCode) -> None:
    text = _text(PROJECT_ROOT / code.runbook)
    assert _headings(text, 1) == [_headings(text, 1)[0]], f"{code.runbook}: one top-level heading only"
    assert tuple(_headings(text, 2)) == SECTIONS, f"{code.runbook}: sections must be exactly {SECTIONS}"
    for title in SECTIONS:
        assert _section(text, title).strip(), f"{code.runbook}: section '{title}' is empty"


@pytest.mark.parametrize("code", CODES, ids=str)
def test_the_symptoms_show_the_code_as_the_operator_sees_it(code: ErrorCode) -> None:
    assert code.value in _section(_text(PROJECT_ROOT / code.runbook), "Symptoms")


def test_every_runbook_file_is_named_after_a_code() -> None:
    known = {code.value for code in CODES}
    strays = sorted(p.name for p in RUNBOOKS.glob("*.md") if p.name != INDEX.name and p.stem not in known)
    assert not strays, f"runbooks without an ErrorCode (renamed or removed code?): {strays}"


def test_the_index_lists_every_code_once_and_nothing_else() -> None:
    rows = _index_rows()
    assert sorted(rows) == sorted(code.value for code in CODES)
    listed = [line for line in _text(INDEX).splitlines() if re.match(r"^\|\s*\[[A-Z_]+\]", line)]
    assert len(listed) == len(CODES), "a code is listed twice in the index"


@pytest.mark.parametrize("code", CODES, ids=str)
def test_the_index_row_agrees_with_the_catalogue(code: ErrorCode) -> None:
    info = CATALOGUE[code]
    yes_no = {True: "yes", False: "no"}
    assert _index_rows()[code.value] == [info.summary, info.kind, yes_no[info.retryable], yes_no[info.stops_run]]
