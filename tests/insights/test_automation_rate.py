"""The automation rate from hand-built work items (pure), from a real SQLite store, and as the report's sheet.
No browser: the figures are worked out in the comments."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.config import InsightsSettings, load_config
from bot.errors import ErrorCode
from bot.insights import (
    HeldBack,
    automation_items,
    automation_rate,
    latest_items,
    month_window,
    rate_lines,
    share,
)
from bot.report import build_morning_report
from bot.report.automation_sheet import AUTOMATION_SHEET, HEADERS, HELD_BACK_SECTION, MONTH_SECTION
from bot.store import NewWorkItem, SqliteStore, WorkItem
from bot.triage.model import REASON_SUMMARIES_SV
from tests.clock import FakeClock

JAN, FEB, MAR = "2025-01", "2025-02", "2025-03"
RENT = {"code": "RENT_ABOVE_CAP", "text": "Boendekostnaden 9 000 kr är över ...", "outcome": "partial"}
NORM = {"code": "NORM_FIGURE_MISSING", "text": "Uppgift saknas i normen ...", "outcome": "partial"}
FIRST = {"code": "FIRST_APPLICATION", "text": "Nyansökan ...", "outcome": "manual"}
NEW_INCOME = {"code": "INCOME_NEW", "text": "Ny inkomst: lön 3 000 kr", "outcome": "auto"}  # a warning
MOVED = {"code": "ADDRESS_CHANGED", "text": "Ny adress sedan beslutet ...", "outcome": "partial"}  # a change

_ids = iter(range(1, 10_000))


def item(case: str, period: str = JAN, state: str = "done", outcome: str | None = None, *,
         reasons: list[Any] | None = None, code: str | None = None, item_id: int | None = None) -> WorkItem:
    """A work item as the store hands it out; ids grow in creation order as in the store."""
    if outcome is None and state == "done":
        outcome = "auto"
    if state == "business_exception":
        outcome = "manual"
    return WorkItem(id=item_id if item_id is not None else next(_ids), run_id="r1", case_id=case, period=period,
                    state=state, outcome=outcome, attempts=1, last_error_code=code, last_error_message=None,
                    step=None, lease_owner=None, lease_until=None, started=None, ended=None, duration_ms=1000,
                    amount=None, reasons=reasons or [])


def january() -> list[WorkItem]:
    """7 auto, 2 partial, 1 manual, 1 failed, 2 open."""
    return ([item(f"A{n}") for n in range(7)]
            + [item("P1", outcome="partial", reasons=[RENT, RENT, NEW_INCOME]),  # RENT twice: one case
               item("P2", outcome="partial", reasons=[NORM, RENT])]
            + [item("M1", outcome="manual", reasons=[FIRST, RENT])]
            + [item("F1", state="failed", code="PORTAL_DOWN")]
            + [item("O1", state="new"), item("O2", state="in_progress")])


def test_the_shares_are_of_the_decided_cases_with_one_decimal() -> None:
    rate = automation_rate(january(), [JAN])
    (m,) = rate.months
    # decided = 7 + 2 + 1 + 1 = 11; the 2 open ones are shown but not in the shares
    assert (m.full, m.partial, m.manual, m.failed, m.open, m.total_decided) == (7, 2, 1, 1, 2, 11)
    assert m.share_full == 63.6  # 7/11 = 63.636...
    assert m.share_partial == 18.2  # 2/11 = 18.18...
    assert m.share_manual == 9.1 and m.share_failed == 9.1  # 1/11 = 9.09...
    assert m.share_prepared == 81.8  # (7 + 2)/11 = 81.81...
    assert m.minutes_saved == 156  # 7 · 20 + 2 · 8


def test_percentages_round_half_up_as_a_person_does() -> None:
    assert share(1, 16) == 6.3  # 6.25: binary floats would give round(6.25, 1) == 6.2
    assert share(1, 8) == 12.5 and share(2, 3) == 66.7 and share(0, 5) == 0.0
    assert share(0, 0) is None  # nothing decided: no share, not 0 %


def test_what_held_cases_back_counts_each_case_once_per_code_and_skips_warnings() -> None:
    items = [*january(),
             item("A-warned", reasons=[NEW_INCOME]),  # auto with a warning: held nothing back
             item("B1", state="business_exception", code="UNPARSEABLE_AMOUNT"),  # manual without reasons
             item("F2", state="failed", code="PORTAL_DOWN"),
             item("P3", outcome="partial", reasons=[MOVED])]
    held = automation_rate(items, [JAN]).held_back
    # RENT_ABOVE_CAP: P1 (once, though twice in its reasons), P2, M1 = 3; PORTAL_DOWN: F1, F2 = 2 (errors rank after
    # reasons on a tie); the rest 1 each, by code. INCOME_NEW is only ever a warning: not there.
    assert held == [
        HeldBack("RENT_ABOVE_CAP", "Boendekostnaden är över riktlinjernas högsta godtagbara (eller taket saknas)", 3),
        HeldBack("PORTAL_DOWN", "Portalen svarar inte", 2, "error"),
        HeldBack("ADDRESS_CHANGED", "Ny adress sedan förra beslutet: boendekostnaden bedöms på nytt", 1),
        HeldBack("FIRST_APPLICATION", "Nyansökan: första ansökan utreds av handläggare", 1),
        HeldBack("NORM_FIGURE_MISSING", "En riksnormsiffra saknas i normtabellen", 1),
        HeldBack("UNPARSEABLE_AMOUNT", "Beloppet går inte att tolka", 1),
    ]
    # The ranking never repeats a case's own reason text (names, amounts): the generic line only.
    assert not any("9 000" in h.text for h in held)


def test_a_retried_case_counts_once_by_its_latest_item() -> None:
    items = [
        item("C1", state="failed", code="PORTAL_DOWN", item_id=1),  # night 1: failed ...
        item("C1", outcome="auto", item_id=11),  # ... night 2: prepared fully
        item("C2", outcome="partial", reasons=[RENT], item_id=2),  # night 1 partial ...
        item("C2", state="new", item_id=12),  # ... taken again in night 2, not done yet: open
        item("C3", outcome="auto", item_id=20),  # handed out later, listed first: order does not matter
        item("C3", state="failed", code="BROWSER_CRASHED", item_id=3),
    ]
    assert [i.id for i in latest_items(items)] == [11, 12, 20]
    (m,) = automation_rate(items, [JAN]).months
    # C1 full, C2 open, C3 full: 2 decided, both full; the failures are history
    assert (m.full, m.partial, m.failed, m.open, m.total_decided, m.share_full) == (2, 0, 0, 1, 2, 100.0)
    assert automation_rate(items, [JAN]).held_back == []


def test_months_are_kept_apart_and_a_month_without_cases_shows_none() -> None:
    items = [item("J1", JAN), item("J2", JAN, outcome="partial", reasons=[RENT]),
             item("M1", MAR, state="failed", code="PORTAL_SLOW"),
             item("J1", FEB),  # the same case's next month is another application
             item("X", "2024-11")]  # outside the months asked for: left out
    rate = automation_rate(items, month_window(MAR, 3))
    assert [m.month for m in rate.months] == [JAN, FEB, MAR]
    jan, feb, mar = rate.months
    assert (jan.full, jan.partial, jan.total_decided, jan.share_full, jan.share_partial) == (1, 1, 2, 50.0, 50.0)
    assert (feb.full, feb.total_decided, feb.share_full) == (1, 1, 100.0)
    assert (mar.failed, mar.total_decided, mar.share_full, mar.share_failed) == (1, 1, 0.0, 100.0)
    assert automation_rate([], [FEB]).months[0].share_full is None
    # Without months: every period the items have, oldest first.
    assert [m.month for m in automation_rate(items).months] == ["2024-11", JAN, FEB, MAR]


def test_month_windows_cross_the_year() -> None:
    assert month_window("2025-02", 3) == ["2024-12", "2025-01", "2025-02"]
    assert month_window("2025-12", 1) == ["2025-12"]
    with pytest.raises(ValueError):
        month_window("2025-01", 0)


def test_the_time_saved_is_configurable_and_its_assumption_says_so() -> None:
    rate = automation_rate(january(), [JAN], InsightsSettings(minutes_saved_full=30, minutes_saved_partial=5))
    assert rate.months[0].minutes_saved == 7 * 30 + 2 * 5
    assert rate.assumption.startswith("30 min per fully prepared case, 5 per partially prepared: configurable in "
                                      "insights:")
    assert rate.assumption_sv.startswith("30 min per helt förberett ärende, 5 min per delvis förberett")
    default = automation_rate(january(), [JAN])
    assert "20 min per fully prepared case, 8 per partially prepared" in default.assumption
    text = "\n".join(rate_lines(default))
    assert "2 h 36 min" in text  # 156 min
    assert default.assumption in text and "63.6 %" in text and "RENT_ABOVE_CAP" in text


def test_the_insights_section_of_the_config(tmp_path: Path) -> None:
    config = tmp_path / "robot.yaml"
    portals = "\n".join(f"  {p}: {{url: 'http://127.0.0.1:81{n:02d}', username: u}}"
                        for n, p in enumerate(("casesystem", "skv", "fk", "af", "csn")))
    config.write_text(f"insights: {{minutes_saved_full: 25}}\nportals:\n{portals}\n", encoding="utf-8")
    loaded = load_config(config)
    assert (loaded.insights.minutes_saved_full, loaded.insights.minutes_saved_partial) == (25, 8)
    config.write_text(f"insights: {{minutes_saved_full: -1}}\nportals:\n{portals}\n", encoding="utf-8")
    with pytest.raises(Exception, match="minutes_saved_full"):
        load_config(config)


# -- from a real store -------------------------------------------------------------------------------------------
def _night(store: SqliteStore, run_id: str, plan: dict[str, tuple[str, str]]) -> None:
    """One run: each case (period, what happens) handled in order, then the run finished."""
    store.open_run(run_id=run_id, resume=False)
    store.add_work_items(run_id, [NewWorkItem(case, period) for case, (period, _) in plan.items()])
    for case, (_, what) in plan.items():
        claimed = store.claim_next(run_id, "w1")
        assert claimed is not None and claimed.case_id == case
        if what == "failed":
            store.fail(claimed, ErrorCode.PORTAL_DOWN, "down", retryable=False, max_attempts=1)
        elif what == "manual":
            store.business_exception(claimed, ErrorCode.UNPARSEABLE_AMOUNT, "?")
        elif what == "partial":
            store.complete(claimed, "partial", reasons=[RENT])
        else:
            store.complete(claimed, "auto", reasons=[NEW_INCOME])
    store.finish_run(run_id)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    clock = FakeClock()
    clock.now = datetime(2025, 1, 2, 1, 0, tzinfo=UTC)
    with SqliteStore(tmp_path / "data" / "casebot.db", clock=clock) as s:
        _night(s, "night-1", {"EB-1": (JAN, "failed"), "EB-2": (JAN, "auto"), "EB-3": (JAN, "partial"),
                              "EB-OLD": ("2024-06", "auto")})
        clock.advance(86_400)
        _night(s, "night-2", {"EB-1": (JAN, "auto"), "EB-4": (JAN, "manual"), "EB-5": (FEB, "auto")})
        yield s


def test_automation_items_reads_every_run_of_the_months(store: SqliteStore) -> None:
    found = automation_items(store, 2, date(2025, 2, 10))
    assert sorted((i.run_id, i.case_id) for i in found) == [
        ("night-1", "EB-1"), ("night-1", "EB-2"), ("night-1", "EB-3"), ("night-2", "EB-1"), ("night-2", "EB-4"),
        ("night-2", "EB-5")]  # EB-OLD's period is outside the two months
    jan, feb = automation_rate(found, [JAN, FEB]).months
    # EB-1 failed, then auto: counted once, full. January: EB-1, EB-2 full, EB-3 partial, EB-4 manual.
    assert (jan.full, jan.partial, jan.manual, jan.failed, jan.share_full) == (2, 1, 1, 0, 50.0)
    assert (feb.full, feb.total_decided) == (1, 1)


def test_the_report_has_an_automatiseringsgrad_sheet(store: SqliteStore, tmp_path: Path) -> None:
    path = build_morning_report(store, "night-2", tmp_path / "morning.xlsx",
                                insights=InsightsSettings(minutes_saved_full=10, minutes_saved_partial=4))
    ws = load_workbook(path)[AUTOMATION_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    months = {(r[1], r[2]): (r[4], r[5], r[6]) for r in rows[1:] if r[0] == MONTH_SECTION}
    # The six months up to night-2's latest period (2025-02); January as worked out above.
    assert sorted({month for month, _ in months}) == month_window(FEB, 6)
    assert months[(JAN, "Helt förberedda (klar för signering)")][:2] == (2, 50.0)
    assert months[(JAN, "Delvis förberedda (behöver kompletteras)")][:2] == (1, 25.0)
    assert months[(JAN, "Manuell handläggning")][:2] == (1, 25.0)
    assert months[(JAN, "Avgjorda ärenden")][0] == 4
    saved, _, assumption = months[(JAN, "Sparad handläggartid (min)")]
    assert saved == 2 * 10 + 1 * 4 and str(assumption).startswith("10 min per helt förberett ärende, 4 min")
    assert months[("2024-12", "Avgjorda ärenden")][0] == 0 and months[("2024-12", "Helt förberedda (klar för "
                                                                         "signering)")][1] is None
    held = [(r[3], r[4]) for r in rows[1:] if r[0] == HELD_BACK_SECTION]
    assert held == [("RENT_ABOVE_CAP", 1), ("UNPARSEABLE_AMOUNT", 1)]  # EB-1's failure is history


def test_casebot_insights_prints_the_table_and_json(store: SqliteStore, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "robot.yaml"
    portals = "\n".join(f"  {p}: {{url: 'http://127.0.0.1:81{n:02d}', username: u}}"
                        for n, p in enumerate(("casesystem", "skv", "fk", "af", "csn")))
    config.write_text(f"data_dir: data\ninsights: {{minutes_saved_partial: 10}}\nportals:\n{portals}\n",
                      encoding="utf-8")
    assert main(["insights", "--config", str(config), "--months", "2", "--until", FEB]) == 0
    text = capsys.readouterr().out
    assert "2025-01" in text and "50.0 %" in text and "RENT_ABOVE_CAP" in text
    assert "20 min per fully prepared case, 10 per partially prepared" in text
    assert main(["insights", "--config", str(config), "--months", "2", "--until", FEB, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [m["month"] for m in data["months"]] == [JAN, FEB]
    assert data["months"][0]["share_full"] == 50.0 and data["months"][0]["minutes_saved"] == 2 * 20 + 10
    assert data["held_back"][0] == {"code": "RENT_ABOVE_CAP", "text": REASON_SUMMARIES_SV["RENT_ABOVE_CAP"], "cases": 1,
                                    "kind": "reason"}
    with pytest.raises(SystemExit):  # argparse refuses a month that is not YYYY-MM
        main(["insights", "--config", str(config), "--until", "2025-13"])
