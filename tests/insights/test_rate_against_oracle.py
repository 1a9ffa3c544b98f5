"""The automation rate of a real night equals the sandbox oracle's own counts: computed from the store, shown in
the morning report's Automatiseringsgrad sheet, and printed by `casebot insights --json` in another process.

The oracle (portals/oracle.py) shares no code with the robot; `/_admin/expected` gives each case's outcome and
its reason codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest
from openpyxl import load_workbook

from bot.insights import AutomationRate, MonthRate, rate_from_store
from bot.report.automation_sheet import AUTOMATION_SHEET, HELD_BACK_SECTION, MONTH_SECTION
from tests.insights.conftest import CASES, Night

pytestmark = pytest.mark.browser

# docs/contract.md: the first five change codes are warnings, which leave a case ready for signature.
WARNINGS = {"INCOME_NEW", "INCOME_GONE", "INCOME_CHANGED", "COST_CHANGED", "RENT_RISE_CAPPED"}
MANUAL_CODES = {"FIRST_APPLICATION", "PROTECTED_IDENTITY", "AGENCY_NO_ANSWER", "HOUSEHOLD_MISMATCH",
                "UNKNOWN_INCOME_TYPE"}


def _oracle(night: Night) -> list[dict[str, object]]:
    rows = night.box.admin_get("casesystem", "/_admin/expected")
    assert isinstance(rows, list) and len(rows) == CASES
    return rows


def _period(night: Night) -> str:
    with night.store() as store:
        (run,) = store.list_runs()
        periods = {i.period for i in store.items(run.id)}
    assert len(periods) == 1
    return periods.pop()


def _rate(night: Night) -> AutomationRate:
    with night.store() as store:
        return rate_from_store(store, 1, _period(night), night.config.insights)


def test_the_night_ran_clean(night: Night) -> None:
    assert night.returncode == 0, night.stderr[-3000:]


def test_the_rate_equals_the_oracles_counts(night: Night) -> None:
    oracle = Counter(str(r["outcome"]) for r in _oracle(night))
    assert oracle.keys() == {"auto", "partial", "manual"}  # the seed reaches every outcome: the check means something
    (month,) = _rate(night).months
    assert (month.full, month.partial, month.manual) == (oracle["auto"], oracle["partial"], oracle["manual"])
    assert (month.failed, month.open, month.total_decided) == (0, 0, CASES)
    assert month.share_full == round(oracle["auto"] * 100 / CASES, 1)
    assert month.minutes_saved == oracle["auto"] * 20 + oracle["partial"] * 8


def test_what_held_cases_back_agrees_with_the_oracles_reasons(night: Night) -> None:
    in_partial: Counter[str] = Counter()  # codes of partial cases: these alone kept the case from full preparation
    in_manual: Counter[str] = Counter()
    for row in _oracle(night):
        codes = set(row["reasons"]) - WARNINGS  # type: ignore[arg-type]
        if row["outcome"] == "partial":
            in_partial.update(codes)
        elif row["outcome"] == "manual":
            in_manual.update(codes)
    held = {h.code: h.cases for h in _rate(night).held_back}
    assert in_partial and in_manual and set(held) <= set(in_partial) | set(in_manual)
    for code in MANUAL_CODES | set(in_partial):
        partial_cases, manual_cases = in_partial[code], in_manual[code]
        if code in MANUAL_CODES:
            assert held.get(code, 0) == manual_cases, code
        else:
            # A manual case's partial codes are listed when the robot could still calculate it; once an agency did
            # not answer it stops there (the oracle goes on), so those may be fewer, never more.
            assert partial_cases <= held.get(code, 0) <= partial_cases + manual_cases, code
    assert all(h.kind == "reason" for h in _rate(night).held_back)
    counts = [h.cases for h in _rate(night).held_back]
    assert counts == sorted(counts, reverse=True)


def _sheet_month(night: Night, period: str) -> tuple[dict[str, tuple[object, object]], dict[str, object]]:
    with night.store() as store:
        (run,) = store.list_runs()
    path = night.config.data_dir / "reports" / f"morning-{run.id}.xlsx"
    rows = list(load_workbook(path)[AUTOMATION_SHEET].iter_rows(min_row=2, values_only=True))
    month = {str(r[2]): (r[4], r[5]) for r in rows if r[0] == MONTH_SECTION and r[1] == period}
    held = {str(r[3]): r[4] for r in rows if r[0] == HELD_BACK_SECTION}
    return month, held


def test_the_report_sheet_shows_the_same_figures(night: Night) -> None:
    period = _period(night)
    rate = _rate(night)
    (m,) = rate.months
    month, held = _sheet_month(night, period)
    assert month["Helt förberedda (klar för signering)"] == (m.full, m.share_full)
    assert month["Delvis förberedda (behöver kompletteras)"] == (m.partial, m.share_partial)
    assert month["Manuell handläggning"] == (m.manual, m.share_manual)
    assert month["Fel (systemfel)"] == (0, 0.0)
    assert month["Avgjorda ärenden"][0] == CASES
    assert month["Sparad handläggartid (min)"][0] == m.minutes_saved
    assert held == {h.code: h.cases for h in rate.held_back}


def test_casebot_insights_json_agrees(night: Night) -> None:
    period = _period(night)
    done = subprocess.run([sys.executable, "-m", "bot.cli", "insights", "--config", str(night.config_file),
                           "--months", "3", "--until", period, "--json"],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert len(data["months"]) == 3
    shown = MonthRate(**data["months"][-1])
    assert shown == _rate(night).months[0]
    assert data["months"][0]["total_decided"] == 0  # the two months before: nothing
    assert {h["code"]: h["cases"] for h in data["held_back"]} == {h.code: h.cases for h in _rate(night).held_back}
