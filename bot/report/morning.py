"""The morning report: what the nightly run did, as an .xlsx a caseworker opens with her coffee.

Built only from the state store (no portal, no browser), so it can be rebuilt for any past run and reads the
same whoever builds it. Four sheets: a summary with a chart, one row per case (with its caseworker, so each
filters her own), the warnings and errors, and the automation rate by month (bot/insights.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.config import InsightsSettings
from bot.errors import ErrorCode, runbook_for
from bot.report.automation_sheet import AUTOMATION_SHEET, build_automation_sheet
from bot.report.xlsx import Value, save_private, write_table
from bot.store.base import Store
from bot.store.models import Event, Run, RunSummary, WorkItem

SUMMARY_SHEET = "Sammanfattning"
CASES_SHEET = "Ärenden"
EVENTS_SHEET = "Avvikelser och fel"
SHEETS: tuple[str, ...] = (SUMMARY_SHEET, CASES_SHEET, EVENTS_SHEET, AUTOMATION_SHEET)

OUTCOME_LABELS: dict[str, str] = {
    "auto": "Klar för signering",
    "partial": "Klar för signering – behöver kompletteras",
    "manual": "Manuell handläggning",
}
FAILED_LABEL = "Fel"
OPEN_LABEL = "Ej klar"
OPEN_STATES: tuple[str, ...] = ("new", "in_progress")
STATE_LABELS: dict[str, str] = {
    "done": "Tillstånd: klar (done)",
    "business_exception": "Tillstånd: till handläggare (business_exception)",
    "failed": "Tillstånd: systemfel (failed)",
    "new": "Tillstånd: ej påbörjad eller väntar på nytt försök (new)",
    "in_progress": "Tillstånd: pågår (in_progress)",
}
REPORTED_LEVELS: tuple[str, ...] = ("WARNING", "ERROR", "CRITICAL")

CASE_HEADERS: tuple[str, ...] = ("Ärende", "Personnummer", "Handläggare", "Period", "Utfall", "Belopp", "Skäl",
                                 "Tomma fält", "Felkod", "Felmeddelande", "Runbook", "Steg", "Försök", "Tid (s)")
EVENT_HEADERS: tuple[str, ...] = ("Tid", "Nivå", "Ärende", "Felkod", "Meddelande", "Runbook", "Portal", "Skärm",
                                  "Element", "Strategi")
# `#,##0` rather than a literal space: Excel puts the reader's own thousands separator there, which for a Swedish
# installation is the space caseworkers expect, and it stays right past a million.
KRONOR_FORMAT = '#,##0 "kr"'
SECONDS_FORMAT = "0.0"
DURATION_FORMAT = "[h]:mm:ss"


def _report_tz() -> tzinfo:
    # The store keeps UTC; caseworkers read Swedish wall-clock time. Without a tz database, UTC and say so.
    try:
        return ZoneInfo("Europe/Stockholm")
    except ZoneInfoNotFoundError:
        return UTC


REPORT_TZ: tzinfo = _report_tz()


class RunNotFound(KeyError):
    """No run with that id in the state store."""

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.run_id = run_id

    def __str__(self) -> str:  # KeyError would show only the repr of its argument
        return f"no run {self.run_id!r} in the state store: nothing to report"


# -- values ---------------------------------------------------------------------------------------------------
def local_time(moment: datetime | None) -> datetime | None:
    """Naive Swedish time: Excel has no time zones, and openpyxl refuses aware datetimes."""
    if moment is None or moment.year < 1900:  # the store's placeholder for a missing time; Excel starts at 1900
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(REPORT_TZ).replace(tzinfo=None)


def outcome_label(item: WorkItem) -> str:
    # The state decides first: a failed or open item may still carry the outcome of nothing, never a verdict.
    if item.state == "failed":
        return FAILED_LABEL
    if item.state in OPEN_STATES:
        return OPEN_LABEL
    return OUTCOME_LABELS.get(item.outcome or "", item.outcome or OPEN_LABEL)


def _swedish_summary(code: str) -> str | None:
    try:
        return ErrorCode(code).summary.split(" / ", 1)[0]
    except ValueError:
        return None


# A Reason dataclass handed to the store unconverted arrives as its repr (mask_value stringifies objects).
_REASON_REPR = re.compile(r"""^\w*Reason\(code=(['"])(?P<code>.*?)\1, text_sv=(['"])(?P<text>.*?)\3[,)]""")


def reason_text(reason: Any) -> str:
    """One reason as a caseworker reads it: the Swedish text, then the code in brackets (as in the case note)."""
    if isinstance(reason, dict):
        code = reason.get("code")
        text = next((reason[k] for k in ("text_sv", "text", "message") if reason.get(k)), None)
        if text is None and code:
            text = _swedish_summary(str(code))
        if text and code:
            return f"{text} [{code}]"
        if text or code:
            return str(text or code)
        return ", ".join(f"{k}: {v}" for k, v in reason.items())
    if isinstance(reason, str):
        match = _REASON_REPR.match(reason)
        return f"{match['text']} [{match['code']}]" if match else reason
    return str(reason)


def _joined(values: Iterable[Any], sep: str) -> str | None:
    parts = [v for v in values if v not in (None, "")]
    return sep.join(parts) if parts else None


def _case_row(item: WorkItem) -> list[Value]:
    return [
        item.case_id,
        item.masked_pnr,  # masked by the store; `put` masks again in case something else wrote the column
        item.caseworker,  # as the case system's inbox shows it, so each caseworker can filter their own cases
        item.period,
        outcome_label(item),
        item.amount,
        _joined((reason_text(r) for r in item.reasons), "\n"),
        _joined((str(f) for f in item.empty_fields), ", "),
        item.last_error_code,
        item.last_error_message,
        runbook_for(item.last_error_code),
        item.step,
        item.attempts,
        item.duration_ms / 1000 if item.duration_ms is not None else None,
    ]


def _event_row(event: Event) -> list[Value]:
    # Drift warnings and broken selectors both name where on which screen; only drift has a winning strategy.
    drift = event.data if isinstance(event.data, dict) else {}
    strategy = drift.get("strategy")
    if strategy is not None and drift.get("strategy_index") is not None:
        strategy = f"#{drift['strategy_index']} {strategy}"  # which fallback matched tells how far the drift went
    return [local_time(event.at), event.level, event.case_id, event.code, event.message, runbook_for(event.code),
            _str_or_none(drift.get("portal")), _str_or_none(drift.get("screen")), _str_or_none(drift.get("element")),
            _str_or_none(strategy)]


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _run_duration(run: Run) -> timedelta | None:
    return run.ended - run.started if run.ended is not None and run.started.year >= 1900 else None


def _seconds(ms: int | None) -> float | None:
    return ms / 1000 if ms is not None else None


# -- sheets ---------------------------------------------------------------------------------------------------
def reason_counts(items: list[WorkItem]) -> dict[str, int]:
    """How many cases each reason code (a change warning included) was given for, in the order first seen."""
    counts: dict[str, int] = {}
    for item in items:
        codes = {r.get("code") for r in item.reasons if isinstance(r, dict) and r.get("code")}
        for code in codes:
            counts[str(code)] = counts.get(str(code), 0) + 1
    return counts


def _summary_sheet(ws: Worksheet, summary: RunSummary, reported_events: int, reasons: dict[str, int]) -> None:
    run = summary.run
    duration = _run_duration(run)
    rows: list[tuple[str, Value, str | None]] = [
        ("Körning", run.id, None),
        ("Status", run.status, None),
        ("Startad", local_time(run.started), None),
        ("Avslutad", local_time(run.ended) if run.ended else "pågår eller avbröts utan avslut", None),
        ("Körtid", duration, DURATION_FORMAT),
        ("Tidszon", str(REPORT_TZ), None),
        ("Antal ärenden", summary.total, None),
    ]
    chart_first = len(rows) + 2  # +1 for the header row, +1 because rows are 1-based
    rows += [(label, summary.by_outcome.get(outcome, 0), None) for outcome, label in OUTCOME_LABELS.items()]
    rows += [
        (f"{FAILED_LABEL} (systemfel)", summary.by_state.get("failed", 0), None),
        (OPEN_LABEL, summary.open, None),
    ]
    chart_last = len(rows) + 1
    rows += [(label, summary.by_state.get(state, 0), None) for state, label in STATE_LABELS.items()]
    rows += [
        ("Tid per klart ärende, median p50 (s)", _seconds(summary.duration_p50_ms), SECONDS_FORMAT),
        ("Tid per klart ärende, p95 (s)", _seconds(summary.duration_p95_ms), SECONDS_FORMAT),
        ("Varningar och fel (händelser)", reported_events, None),
    ]
    rows += [(f"Felkod {code}", count, None) for code, count in sorted(summary.errors_by_code.items())]
    # What held cases back, and what changed since last month: the share a caseworker must still look at.
    rows += [(f"Skäl {code} (ärenden)", count, None) for code, count in sorted(reasons.items())]

    write_table(ws, ("Uppgift", "Värde"), [(label, value) for label, value, _ in rows])
    for row, (_, _, number_format) in enumerate(rows, start=2):
        if number_format:
            ws.cell(row=row, column=2).number_format = number_format

    chart = BarChart()
    chart.type = "bar"  # horizontal: the long Swedish outcome labels stay readable
    chart.title = "Ärenden per utfall"
    chart.legend = None
    chart.y_axis.title = "Antal ärenden"
    # openpyxl 3.1 writes axes as deleted unless told otherwise; a bar chart without its labels says nothing.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.dataLabels = DataLabelList()
    chart.dataLabels.showVal = True
    chart.add_data(Reference(ws, min_col=2, min_row=chart_first, max_row=chart_last))
    chart.set_categories(Reference(ws, min_col=1, min_row=chart_first, max_row=chart_last))
    chart.width, chart.height = 20, 8
    ws.add_chart(chart, "D2")


def _cases_sheet(ws: Worksheet, items: list[WorkItem]) -> None:
    write_table(ws, CASE_HEADERS, (_case_row(i) for i in items),
                number_formats={CASE_HEADERS.index("Belopp") + 1: KRONOR_FORMAT,
                                CASE_HEADERS.index("Tid (s)") + 1: SECONDS_FORMAT},
                wrap_columns=[CASE_HEADERS.index(h) + 1 for h in ("Skäl", "Tomma fält", "Felmeddelande")])


def _events_sheet(ws: Worksheet, events: list[Event]) -> None:
    write_table(ws, EVENT_HEADERS, (_event_row(e) for e in events),
                wrap_columns=[EVENT_HEADERS.index("Meddelande") + 1])


def build_morning_report(store: Store, run_id: str, path: Path, *, insights: InsightsSettings | None = None) -> Path:
    """Write the morning report of run `run_id` to `path` (.xlsx, owner-only) and return the path; `insights`: the
    minutes saved per case for the Automatiseringsgrad sheet (None: the defaults). RunNotFound (a KeyError) if the
    store has no such run."""
    if store.get_run(run_id) is None:
        raise RunNotFound(run_id)
    summary = store.run_summary(run_id)
    items = store.items(run_id)
    events = [e for e in store.events(run_id) if e.level in REPORTED_LEVELS]

    wb = Workbook()
    summary_ws = wb.active
    assert isinstance(summary_ws, Worksheet)
    summary_ws.title = SUMMARY_SHEET
    _summary_sheet(summary_ws, summary, len(events), reason_counts(items))
    _cases_sheet(wb.create_sheet(CASES_SHEET), items)
    _events_sheet(wb.create_sheet(EVENTS_SHEET), events)
    build_automation_sheet(wb.create_sheet(AUTOMATION_SHEET), store, run_id, insights)
    return save_private(wb, Path(path))
