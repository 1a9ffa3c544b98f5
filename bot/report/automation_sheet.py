"""The morning report's Automatiseringsgrad sheet: per application month up to the run's, the share of applications
the robot prepared fully, partially or left to a caseworker, what held cases back, and the time saved with its
assumption written out (the figure is an estimate and must never stand without it)."""

from __future__ import annotations

from openpyxl.worksheet.worksheet import Worksheet

from bot.config import InsightsSettings
from bot.insights import AutomationRate, MonthRate, month_of, rate_from_store, share
from bot.report.xlsx import Value, write_table
from bot.store.base import Store

AUTOMATION_SHEET = "Automatiseringsgrad"
MONTHS_SHOWN = 6
# One table, long rather than wide, so the sheet filters like every other sheet of the report: by month, or by
# section to see only what held cases back.
HEADERS: tuple[str, ...] = ("Avsnitt", "Månad", "Uppgift", "Kod", "Antal", "Andel av avgjorda (%)", "Förklaring")
MONTH_SECTION = "Per månad"
HELD_BACK_SECTION = "Hindrade full förberedelse"
KIND_LABELS = {"reason": "skäl (triage eller ändring sedan förra beslutet)", "error": "fel (systemfel)"}
DECIDED_LABEL = "Avgjorda ärenden"
FULL_LABEL = "Helt förberedda (klar för signering)"
PARTIAL_LABEL = "Delvis förberedda (behöver kompletteras)"
MANUAL_LABEL = "Manuell handläggning"
FAILED_LABEL = "Fel (systemfel)"
PREPARED_LABEL = "Förberedda helt eller delvis"
OPEN_LABEL = "Ej klara"
SAVED_LABEL = "Sparad handläggartid (min)"
PERCENT_FORMAT = "0.0"


def run_month(store: Store, run_id: str) -> str:
    """The run's application month: the latest period among its cases, else the month it started."""
    periods = [item.period for item in store.items(run_id)]
    if periods:
        return max(periods)
    run = store.get_run(run_id)
    if run is None:
        raise KeyError(run_id)
    return month_of(run.started)


def _month_rows(m: MonthRate, assumption: str) -> list[list[Value]]:
    decided = "helt + delvis + manuell + fel; varje ansökan räknas en gång, efter sitt senaste försök"
    return [
        [MONTH_SECTION, m.month, DECIDED_LABEL, None, m.total_decided, None, decided],
        [MONTH_SECTION, m.month, FULL_LABEL, None, m.full, m.share_full, None],
        [MONTH_SECTION, m.month, PARTIAL_LABEL, None, m.partial, m.share_partial, None],
        [MONTH_SECTION, m.month, MANUAL_LABEL, None, m.manual, m.share_manual, None],
        [MONTH_SECTION, m.month, FAILED_LABEL, None, m.failed, m.share_failed, None],
        [MONTH_SECTION, m.month, PREPARED_LABEL, None, m.full + m.partial, m.share_prepared, None],
        [MONTH_SECTION, m.month, OPEN_LABEL, None, m.open, None, "ingår inte i andelarna"],
        [MONTH_SECTION, m.month, SAVED_LABEL, None, m.minutes_saved, None, assumption],
    ]


def _rows(rate: AutomationRate) -> list[list[Value]]:
    rows = [row for m in rate.months for row in _month_rows(m, rate.assumption_sv)]
    span = f"{rate.months[0].month} – {rate.months[-1].month}" if rate.months else None
    decided = sum(m.total_decided for m in rate.months)
    rows += [[HELD_BACK_SECTION, span, held.text, held.code, held.cases, share(held.cases, decided),
              KIND_LABELS.get(held.kind, held.kind)] for held in rate.held_back]
    return rows


def write_automation_sheet(ws: Worksheet, rate: AutomationRate) -> None:
    write_table(ws, HEADERS, _rows(rate),
                number_formats={HEADERS.index("Andel av avgjorda (%)") + 1: PERCENT_FORMAT},
                wrap_columns=[HEADERS.index("Förklaring") + 1])


def build_automation_sheet(ws: Worksheet, store: Store, run_id: str, settings: InsightsSettings | None = None,
                           months: int = MONTHS_SHOWN) -> AutomationRate:
    """Fill `ws` with the automation rate of the `months` months up to the run's; returns the figures shown."""
    rate = rate_from_store(store, months, run_month(store, run_id), settings)
    write_automation_sheet(ws, rate)
    return rate
