"""Issue 21: the morning report names each case's caseworker as the case system's inbox shows it, so each
caseworker can filter their own cases. A real night on a small sandbox; the report's Ärenden sheet is checked
against the sandbox's own data (`GET /_admin/cases`). An inbox without the column (an older screen) still reads,
with no caseworker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.dev.sandbox import Sandbox, sandbox_config
from bot.drivers.casesystem import OPTIONAL_INBOX_COLUMNS, inbox_row, table_records
from bot.paths import SELECTORS_DIR
from bot.report.morning import CASE_HEADERS, CASES_SHEET
from bot.run.entry import run_once
from bot.selectors.load import load_selector_file
from bot.store import open_store
from tests.own_sandbox import own_sandbox, robot_passwords

five_cases = own_sandbox(cases=5, seed=41)


@pytest.mark.browser
def test_the_report_names_each_cases_caseworker_as_the_case_system_shows_it(
        five_cases: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    robot_passwords(monkeypatch)
    config = sandbox_config(tmp_path, five_cases, workers=1)
    night = asyncio.run(run_once(config, console=False))
    assert night.exit_code == 0, [(i.case_id, i.last_error_code, i.last_error_message) for i in night.items]
    caseworkers = {c["case_id"]: c["caseworker"] for c in five_cases.admin_get("casesystem", "/_admin/cases")}

    sheet = load_workbook(night.report_path)[CASES_SHEET]
    headers = [c.value for c in sheet[1]]
    assert headers == list(CASE_HEADERS)
    assert headers.index("Handläggare") == headers.index("Personnummer") + 1
    rows = {r[0]: r[headers.index("Handläggare")] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == len(night.items) >= 4
    assert rows == {case_id: caseworkers[case_id] for case_id in rows}
    assert len(set(rows.values())) >= 2, rows  # a column of one constant would prove nothing
    with open_store(config.store_url) as store:
        assert {i.case_id: i.caseworker for i in store.items(night.result.run_id)} == rows


def _inbox_table():  # type: ignore[no-untyped-def]
    return load_selector_file(SELECTORS_DIR / "casesystem.yaml").element("inbox", "table")


def test_an_inbox_without_the_caseworker_column_reads_as_no_caseworker() -> None:
    """What RECORDS_JS gives for an older inbox (no Handläggare header) and for one that calls it differently."""
    older = {"keys": ["Ärende", "Personnummer", "Ansökningstyp", "Period", "Status"],
             "records": [{"Ärende": "EB-2024-00001", "Personnummer": "19850312-2389", "Ansökningstyp": "Återansökan",
                          "Period": "2024-12", "Status": "Inkommen"}]}
    records, broken = table_records(_inbox_table(), older, OPTIONAL_INBOX_COLUMNS)
    assert broken == {}
    (row,) = [inbox_row(r) for r in records]
    assert (row.case_id, row.period, row.caseworker) == ("EB-2024-00001", "2024-12", None)

    renamed = {"keys": [*older["keys"], "Handläggare/ansvarig"],
               "records": [{**older["records"][0], "Handläggare/ansvarig": "Karin Lund"},  # type: ignore[dict-item]
                           {**older["records"][0], "Ärende": "EB-2024-00002", "Handläggare/ansvarig": ""}]}
    records, broken = table_records(_inbox_table(), renamed, OPTIONAL_INBOX_COLUMNS)
    assert broken == {} and [inbox_row(r).caseworker for r in records] == ["Karin Lund", None]


def test_a_required_inbox_column_missing_is_still_broken() -> None:
    no_period = {"keys": ["Ärende", "Personnummer", "Ansökningstyp", "Status", "Handläggare"],
                 "records": [{"Ärende": "EB-2024-00001", "Personnummer": "19850312-2389",
                              "Ansökningstyp": "Återansökan", "Status": "Inkommen", "Handläggare": "handlaggare1"}]}
    _records, broken = table_records(_inbox_table(), no_period, OPTIONAL_INBOX_COLUMNS)
    assert broken == {"period": ["Period"]}
    # Without the optional list every column is required, as `read_records` treats them.
    older = {"keys": ["Ärende", "Personnummer", "Ansökningstyp", "Period", "Status"], "records": []}
    assert table_records(_inbox_table(), older)[1] == {"caseworker": ["Handläggare", "Handläggare/ansvarig"]}
