"""This month against last month's decision (docs/contract.md, "Changes against last month's decision").

A monthly re-application is mostly last month again; what a caseworker checks first is what changed. Each change
is a reason with a code and a Swedish text that shows last month's figure beside this month's. Most are warnings
(the case stays *Klar för signering*, the warning is listed); a changed household or address needs the
caseworker (partial). Pure functions of the facts, the calculation and the guidelines, like the other rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.calc.calculate import Calculation, calculate
from bot.calc.errors import CalcInputError
from bot.calc.fields import COST_FIELDS, INCOME_FIELDS, label
from bot.calc.guidelines import Guidelines
from bot.calc.money import format_kr
from bot.calc.norms import NormTables
from bot.facts import CaseFacts, Decision, pnr_key
from bot.triage.model import (
    ADDRESS_CHANGED,
    COST_CHANGED,
    HOUSEHOLD_CHANGED,
    INCOME_CHANGED,
    INCOME_GONE,
    INCOME_NEW,
    RENT_RISE_CAPPED,
    Reason,
    partial,
)
from bot.triage.rules import person

CHANGE_CODES = (INCOME_NEW, INCOME_GONE, INCOME_CHANGED, COST_CHANGED, RENT_RISE_CAPPED, HOUSEHOLD_CHANGED,
                ADDRESS_CHANGED)


def warning(code: str, text_sv: str) -> Reason:
    """A change the caseworker should see that does not stop the case from being Klar för signering."""
    return Reason(code, text_sv, "auto", ())


@dataclass(frozen=True)
class Previous:
    """Last month's decided figures for the form's rows, as the note shows them beside this month's."""

    month: str
    amounts: dict[str, int]  # form field → approved (incomes, norm) or applied (costs) amount


def previous_figures(facts: CaseFacts) -> Previous | None:
    last = facts.history.last if facts.history is not None else None
    if last is None:
        return None
    amounts = {f: last.applied(f) for f in COST_FIELDS}
    amounts |= {r.field: r.approved for r in last.rows if r.field not in COST_FIELDS}
    return Previous(last.month, {f: a for f, a in amounts.items() if a})


def _kr(amount: int) -> str:
    return format_kr(amount)


def _income_changes(facts: CaseFacts, guidelines: Guidelines, calc: Calculation, last: Decision) -> list[Reason]:
    reasons: list[tuple[int, Reason]] = []
    percent = guidelines.changes.income_change_percent
    for key in INCOME_FIELDS:
        line = calc.line(key)
        if line is not None and line.amount is None:
            continue  # not known this month (a missing figure): nothing to compare
        now = line.amount if line is not None and line.amount is not None else 0
        before = last.approved(key)
        name = label(key)
        if now > 0 and before == 0:
            reasons.append((0, warning(INCOME_NEW, f"Ny inkomst: {name} {_kr(now)} (ingen i beslutet för "
                                                   f"{last.month})")))
        elif now == 0 and before > 0:
            reasons.append((1, warning(INCOME_GONE, f"Inkomst borta: {name} ingen nu, {_kr(before)} i beslutet "
                                                    f"för {last.month}")))
        elif now > 0 and abs(now - before) * 100 > percent * before:
            share = f"{abs(now - before) * 100 / before:.1f}".replace(".", ",")
            reasons.append((2, warning(INCOME_CHANGED,
                                       f"Ändrad inkomst: {name} {_kr(now)} nu, {_kr(before)} i beslutet för "
                                       f"{last.month} ({share} %, gränsen är {percent} %)")))
    return [r for _, r in sorted(reasons, key=lambda item: item[0])]


def _cost_changes(facts: CaseFacts, calc: Calculation, last: Decision) -> list[Reason]:
    declared: dict[str, int] = {}
    for cost in facts.costs:
        declared[cost.field] = declared.get(cost.field, 0) + cost.amount
    capped = calc.rent_rise  # the calculation decided it: one rule, in one place
    changed = []
    for key in COST_FIELDS:
        now, before = declared.get(key, 0), last.applied(key)
        if now == before or (key == "boende" and capped is not None):
            continue
        changed.append(warning(COST_CHANGED, f"Ändrad kostnad: {label(key)} {_kr(now)} nu, {_kr(before)} i "
                                             f"beslutet för {last.month}"))
    if capped is not None:
        changed.append(warning(RENT_RISE_CAPPED, capped.text))
    return changed


def _household_changes(facts: CaseFacts, last: Decision) -> list[Reason]:
    reasons = []
    now = {pnr_key(m.pnr) for m in facts.members}
    before = {pnr_key(p) for p in last.household}
    if last.household and now != before:
        added = sorted(m.pnr for m in facts.members if pnr_key(m.pnr) not in before)
        gone = sorted(p for p in last.household if pnr_key(p) not in now)
        parts = [f"tillkommit {', '.join(person(facts, p) for p in added)}" if added else "",
                 f"inte längre med {', '.join(person(facts, p) for p in gone)}" if gone else ""]
        reasons.append(partial(HOUSEHOLD_CHANGED, f"Hushållet har ändrats sedan beslutet för {last.month}: "
                                                  + "; ".join(p for p in parts if p)
                                                  + ". Kontrollera normen, inkomsterna och boendet"))
    if facts.address and last.address and facts.address.strip() != last.address.strip():
        reasons.append(partial(ADDRESS_CHANGED, f"Ny adress sedan beslutet för {last.month}: boendekostnaden "
                                                "behöver bedömas på nytt", "boende"))
    return reasons


def changes(facts: CaseFacts, guidelines: Guidelines, norms: NormTables) -> list[Reason]:
    """Every change against the newest decision in the history, in the contract's order; none without one."""
    last = facts.history.last if facts.history is not None else None
    if last is None:
        return []
    try:
        calc = calculate(facts, guidelines, norms, allow_missing_figures=True)
    except CalcInputError:
        return []
    # A decision whose calculation the history does not show has no figures to compare with.
    figures = [*_income_changes(facts, guidelines, calc, last), *_cost_changes(facts, calc, last)] \
        if last.rows else []
    found = [*figures, *_household_changes(facts, last)]
    return sorted(found, key=lambda r: CHANGE_CODES.index(r.code))

