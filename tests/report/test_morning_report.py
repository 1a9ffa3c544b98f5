"""The morning report, built from a real SQLite store and read back with openpyxl. No browser."""

from __future__ import annotations

import re
import sqlite3
import stat
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart
from openpyxl.worksheet.worksheet import Worksheet

from bot.errors import ErrorCode
from bot.report import OUTCOME_LABELS, SHEETS, RunNotFound, build_morning_report
from bot.report.morning import CASE_HEADERS, EVENT_HEADERS
from bot.store import NewWorkItem, SqliteStore, WorkItem
from tests.clock import FakeClock

PERIOD = "2024-12"
RUN_ID = "20241201-020000-test"
HYPERLINK = '=HYPERLINK("http://evil.example/x","Klicka här")'
PHONE = "+46 70 123 45 67 ringde om hyran"
FORMULA_MESSAGE = "=cmd|' /C calc'!A0"
# Digits on both sides would make it part of a longer number; this catches a bare 10- or 12-digit personnummer.
UNMASKED_PNR = re.compile(r"(?<!\d)(?:\d{8}|\d{6})[-+]?\d{4}(?!\d)")
MASKED_PNR = re.compile(r"^(?:\d{8}|\d{6})[-+]XXXX$")


@dataclass
class Night:
    store: SqliteStore
    db: Path
    run_id: str


def _claim(store: SqliteStore, case_id: str) -> WorkItem:
    item = store.claim_next(RUN_ID, "w1")
    assert item is not None and item.case_id == case_id
    return item


@pytest.fixture
def night(tmp_path: Path) -> Any:
    db = tmp_path / "state" / "casebot.db"
    clock = FakeClock()
    with SqliteStore(db, clock=clock) as store:
        store.open_run({"cases": 9}, run_id=RUN_ID, owner="test")
        store.add_work_items(RUN_ID, [
            NewWorkItem("EB-2024-00001", PERIOD, pnr="198501011234"),
            NewWorkItem("EB-2024-00002", PERIOD, pnr="850202-2345"),
            NewWorkItem("EB-2024-00003", PERIOD, pnr="199003033456"),
            NewWorkItem("EB-2024-00004", PERIOD, pnr="197004044567"),
            NewWorkItem("EB-2024-00005", PERIOD, pnr="198805055678"),
            NewWorkItem("EB-2024-00006", PERIOD, pnr="199106066789"),
            NewWorkItem("EB-2024-00007", PERIOD, pnr="200001017890"),
            NewWorkItem("EB-2024-00008", PERIOD, pnr="196512128901"),
            NewWorkItem("EB-2024-00009", PERIOD),  # never claimed: still open
        ])
        # Claimed in id order; each case takes a different time so the percentiles mean something.
        item = _claim(store, "EB-2024-00001")
        clock.advance(12)
        store.complete(item, "auto", amount=12345, pnr="198501011234")

        item = _claim(store, "EB-2024-00002")
        clock.advance(20)
        store.complete(item, "partial", amount=8000,
                       reasons=[{"code": "RENT_ABOVE_CAP", "text_sv": "Hyran är över kommunens tak"}],
                       empty_fields=["boende", "el"])

        item = _claim(store, "EB-2024-00003")
        clock.advance(5)
        store.business_exception(item, ErrorCode.DATA_MISMATCH, "Skatteverket och ansökan skiljer sig",
                                 reasons=[{"code": "HOUSEHOLD_MISMATCH", "text_sv": "Hushållet stämmer inte"}],
                                 step="triage")

        item = _claim(store, "EB-2024-00004")
        clock.advance(30)
        store.fail(item, ErrorCode.PORTAL_DOWN, "skatteverket: HTTP 502 for /inkomster", retryable=False,
                   max_attempts=3, step="collect")

        item = _claim(store, "EB-2024-00005")
        clock.advance(8)
        store.complete(item, "partial", amount=4000, reasons=[{"code": "INJECTED", "text_sv": HYPERLINK}],
                       empty_fields=["ovrigt"])

        item = _claim(store, "EB-2024-00006")
        clock.advance(9)
        store.complete(item, "manual", reasons=[{"code": "INCOME_DEVIATION", "text_sv": PHONE}])

        item = _claim(store, "EB-2024-00007")
        clock.advance(10)
        store.complete(item, "partial", amount=1500, reasons=["-5"], empty_fields=["-5"])

        item = _claim(store, "EB-2024-00008")
        clock.advance(3)
        # Retryable with attempts left: back to `new`, waiting for its next try.
        store.fail(item, ErrorCode.PORTAL_SLOW, "försäkringskassan: no answer within 10 s", retryable=True,
                   max_attempts=3, retry_in_s=600, step="collect")

        store.record_event(RUN_ID, "INFO", "run started")  # below WARNING: not in the report
        store.record_event(RUN_ID, "WARNING", "selector drift: skatteverket/inkomster/tabell matched by fallback #2",
                           case_id="EB-2024-00001",
                           data={"kind": "drift", "portal": "skatteverket", "screen": "inkomster",
                                 "element": "tabell", "strategy": "css=table.income", "strategy_index": 2})
        store.record_event(RUN_ID, "ERROR", FORMULA_MESSAGE, case_id="EB-2024-00004", code=ErrorCode.PORTAL_DOWN)
        other = store.open_run(run_id="20241130-020000-othr", resume=False)
        store.record_event(other.id, "ERROR", "another night's trouble", code=ErrorCode.LOGIN_FAILED)
        clock.advance(60)
        store.finish_run(RUN_ID)
        yield Night(store, db, RUN_ID)


def _rows(ws: Worksheet) -> list[dict[str, Any]]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)]


def _summary_values(ws: Worksheet) -> dict[str, Any]:
    return {row[0].value: row[1].value for row in ws.iter_rows(min_row=2)}


def _report(night: Night, tmp_path: Path) -> Path:
    return build_morning_report(night.store, night.run_id, tmp_path / "reports" / "morgon.xlsx")


def test_workbook_is_written_owner_only_with_the_three_sheets(night: Night, tmp_path: Path) -> None:
    path = _report(night, tmp_path)
    assert path == tmp_path / "reports" / "morgon.xlsx" and path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p != path]  # no temporary file left behind
    wb = load_workbook(path)
    assert wb.sheetnames == list(SHEETS) == ["Sammanfattning", "Ärenden", "Avvikelser och fel",
                                           "Automatiseringsgrad"]


def test_summary_counts_equal_the_store_and_feed_the_chart(night: Night, tmp_path: Path) -> None:
    summary = night.store.run_summary(night.run_id)
    ws = load_workbook(_report(night, tmp_path))["Sammanfattning"]
    values = _summary_values(ws)

    assert values["Körning"] == RUN_ID and values["Status"] == "finished"
    assert values["Startad"] == datetime(2024, 12, 1, 3, 0)  # 02:00 UTC is 03:00 in Stockholm in December
    assert values["Avslutad"] == datetime(2024, 12, 1, 3, 2, 37)
    assert values["Körtid"] == timedelta(minutes=2, seconds=37)
    assert values["Antal ärenden"] == summary.total == 9
    assert values[OUTCOME_LABELS["auto"]] == summary.by_outcome["auto"] == 1
    assert values[OUTCOME_LABELS["partial"]] == summary.by_outcome["partial"] == 3
    assert values[OUTCOME_LABELS["manual"]] == summary.by_outcome["manual"] == 2
    assert values["Fel (systemfel)"] == summary.by_state["failed"] == 1
    assert values["Ej klar"] == summary.open == 2
    for state, label in (("done", "klar (done)"), ("business_exception", "(business_exception)"),
                         ("failed", "(failed)"), ("new", "(new)")):
        assert next(v for k, v in values.items() if k.startswith("Tillstånd") and k.endswith(label)) \
            == summary.by_state.get(state, 0)
    assert values["Tid per klart ärende, median p50 (s)"] == summary.duration_p50_ms / 1000 == 10.0
    assert values["Tid per klart ärende, p95 (s)"] == summary.duration_p95_ms / 1000 == 20.0
    assert values["Varningar och fel (händelser)"] == 2
    assert values["Felkod PORTAL_DOWN"] == 1 and values["Felkod DATA_MISMATCH"] == 1
    # reasons per code, counted per case from the stored reasons (warnings against last month included)
    assert values["Skäl RENT_ABOVE_CAP (ärenden)"] == 1 and values["Skäl HOUSEHOLD_MISMATCH (ärenden)"] == 1
    assert values["Skäl INJECTED (ärenden)"] == 1 and "Skäl INCOME_CHANGED (ärenden)" not in values

    charts = ws._charts
    assert len(charts) == 1 and isinstance(charts[0], BarChart)
    ref = charts[0].series[0].val.numRef.f
    cells = ws[ref.split("!")[1].replace("$", "")]
    labels = [row[0].offset(column=-1).value for row in cells]
    assert labels == [*OUTCOME_LABELS.values(), "Fel (systemfel)", "Ej klar"]
    assert sum(row[0].value for row in cells) == summary.total


def test_one_row_per_case_with_the_right_values(night: Night, tmp_path: Path) -> None:
    ws = load_workbook(_report(night, tmp_path))["Ärenden"]
    assert [c.value for c in ws[1]] == list(CASE_HEADERS)
    rows = {r["Ärende"]: r for r in _rows(ws)}
    assert len(rows) == ws.max_row - 1 == len(night.store.items(night.run_id)) == 9

    auto = rows["EB-2024-00001"]
    assert auto["Personnummer"] == "19850101-XXXX" and auto["Period"] == PERIOD
    assert auto["Utfall"] == "Klar för signering" and auto["Belopp"] == 12345 and auto["Tid (s)"] == 12.0
    assert auto["Försök"] == 1 and auto["Skäl"] is None and auto["Felkod"] is None
    belopp = ws.cell(row=2, column=CASE_HEADERS.index("Belopp") + 1)
    assert belopp.number_format == '#,##0 "kr"' and belopp.data_type == "n"

    partial = rows["EB-2024-00002"]
    assert partial["Personnummer"] == "850202-XXXX"
    assert partial["Utfall"] == "Klar för signering – behöver kompletteras"
    assert partial["Skäl"] == "Hyran är över kommunens tak [RENT_ABOVE_CAP]"
    assert partial["Tomma fält"] == "boende, el"

    manual = rows["EB-2024-00003"]
    assert manual["Utfall"] == "Manuell handläggning" and manual["Felkod"] == "DATA_MISMATCH"
    assert manual["Skäl"] == "Hushållet stämmer inte [HOUSEHOLD_MISMATCH]" and manual["Steg"] == "triage"
    assert rows["EB-2024-00006"]["Utfall"] == "Manuell handläggning"

    failed = rows["EB-2024-00004"]
    assert failed["Utfall"] == "Fel" and failed["Felkod"] == "PORTAL_DOWN" and failed["Steg"] == "collect"
    assert failed["Runbook"] == ErrorCode.PORTAL_DOWN.runbook == "runbooks/PORTAL_DOWN.md"
    assert failed["Felmeddelande"] == "skatteverket: HTTP 502 for /inkomster" and failed["Belopp"] is None

    assert rows["EB-2024-00008"]["Utfall"] == "Ej klar" and rows["EB-2024-00008"]["Felkod"] == "PORTAL_SLOW"
    assert rows["EB-2024-00009"]["Utfall"] == "Ej klar" and rows["EB-2024-00009"]["Försök"] == 0
    assert rows["EB-2024-00009"]["Personnummer"] is None

    skal = ws.cell(row=2, column=CASE_HEADERS.index("Skäl") + 1)
    assert skal.alignment.wrap_text


def test_drift_and_errors_sheet(night: Night, tmp_path: Path) -> None:
    ws = load_workbook(_report(night, tmp_path))["Avvikelser och fel"]
    assert [c.value for c in ws[1]] == list(EVENT_HEADERS)
    rows = _rows(ws)
    assert [r["Nivå"] for r in rows] == ["WARNING", "ERROR"]  # INFO and the other run's event left out
    drift, error = rows
    assert drift["Ärende"] == "EB-2024-00001" and drift["Tid"] == datetime(2024, 12, 1, 3, 1, 37)
    assert (drift["Portal"], drift["Skärm"], drift["Element"], drift["Strategi"]) == \
        ("skatteverket", "inkomster", "tabell", "#2 css=table.income")
    assert error["Felkod"] == "PORTAL_DOWN" and error["Runbook"] == "runbooks/PORTAL_DOWN.md"
    assert error["Portal"] is None and error["Meddelande"] == FORMULA_MESSAGE


def test_formula_looking_text_stays_text(night: Night, tmp_path: Path) -> None:
    path = _report(night, tmp_path)
    wb = load_workbook(path)
    cases = {r[0].value: r for r in wb["Ärenden"].iter_rows(min_row=2)}
    skal = CASE_HEADERS.index("Skäl")
    expected = [
        (cases["EB-2024-00005"][skal], f"{HYPERLINK} [INJECTED]"),
        (cases["EB-2024-00006"][skal], f"{PHONE} [INCOME_DEVIATION]"),
        (cases["EB-2024-00007"][skal], "-5"),
        (cases["EB-2024-00007"][CASE_HEADERS.index("Tomma fält")], "-5"),
        (wb["Avvikelser och fel"]["E3"], FORMULA_MESSAGE),
    ]
    for cell, text in expected:
        assert cell.data_type == "s" and cell.value == text and cell.quotePrefix, cell.coordinate
    # The file itself, not just openpyxl's reading of it: no sheet holds a single formula element.
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == len(SHEETS)
        for name in sheets:
            assert "<f>" not in archive.read(name).decode() and "<f " not in archive.read(name).decode()


def test_every_sheet_has_frozen_bold_header_filter_and_widths(night: Night, tmp_path: Path) -> None:
    wb = load_workbook(_report(night, tmp_path))
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.bold for c in ws[1]), ws.title
        assert ws.auto_filter.ref == f"A1:{ws.cell(row=1, column=ws.max_column).column_letter}{ws.max_row}"
        for column in range(1, ws.max_column + 1):
            width = ws.column_dimensions[ws.cell(row=1, column=column).column_letter].width
            assert 6 <= width <= 60, (ws.title, column, width)
    skal = wb["Ärenden"].column_dimensions["G"].width
    assert skal > len("Skäl") + 2  # sized from the reasons, not the header


def test_no_unmasked_personnummer_anywhere(night: Night, tmp_path: Path) -> None:
    # Something other than the store's own methods wrote unmasked data (an old version, a hand fix): the
    # report masks it anyway.
    with sqlite3.connect(night.db) as conn:
        conn.execute("UPDATE work_items SET masked_pnr = '196512128901' WHERE case_id = 'EB-2024-00008'")
        conn.execute("UPDATE work_items SET reasons_json = ? WHERE case_id = 'EB-2024-00006'",
                     ('[{"code": "X", "text_sv": "Medsökande 8001015555 saknas"}]',))
        conn.execute("UPDATE events SET message = 'ring 19850101-1234' WHERE level = 'ERROR'")
    wb = load_workbook(_report(night, tmp_path))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert not UNMASKED_PNR.search(cell.value), (ws.title, cell.coordinate, cell.value)
    pnrs = [r["Personnummer"] for r in _rows(wb["Ärenden"]) if r["Personnummer"] is not None]
    assert len(pnrs) == 8 and all(MASKED_PNR.match(p) for p in pnrs)
    assert "19651212-XXXX" in pnrs
    assert _rows(wb["Avvikelser och fel"])[1]["Meddelande"] == "ring 19850101-XXXX"


def test_unknown_run_is_a_clear_error(night: Night, tmp_path: Path) -> None:
    target = tmp_path / "out" / "none.xlsx"
    with pytest.raises(RunNotFound, match="no-such-run") as caught:
        build_morning_report(night.store, "no-such-run", target)
    assert isinstance(caught.value, KeyError)
    assert not target.exists()


def test_an_empty_unfinished_run_still_gives_a_report(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        run = store.open_run(run_id="20241202-020000-empt")
        wb = load_workbook(build_morning_report(store, run.id, tmp_path / "r.xlsx"))
    values = _summary_values(wb["Sammanfattning"])
    assert values["Antal ärenden"] == 0 and values["Körtid"] is None and values["Status"] == "running"
    assert wb["Ärenden"].max_row == 1 and wb["Ärenden"].auto_filter.ref == "A1:N1"


def test_rebuilding_replaces_the_report(night: Night, tmp_path: Path) -> None:
    first = _report(night, tmp_path)
    first.chmod(0o644)
    second = _report(night, tmp_path)
    assert second == first and stat.S_IMODE(second.stat().st_mode) == 0o600
