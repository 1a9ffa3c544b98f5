"""Changes against last month's decision, worked by hand from the contract ("Changes against last month's
decision"; the 12 % and 500 kr rules as a municipality's Lifecare integration applies them, shared/domain-research.md
§ 7). Every case is a 2026-12 application by a single adult born 1980 (46: Sundsvall's cap without children is
6 800) on assistance since 2025-01 (jobbstimulans window 2025-07 … 2027-06), whose 2026-11 decision is given row by
row. Figures are typed by hand; nothing is computed by the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.facts import Decision, DecisionRow, History
from bot.note import note_from_preparation
from bot.triage.prepare import prepare
from tests.calc.builders import add_months, build, luhn_pnr

ADULT = ("sokande", "1980-05-05")
CHILD = ("barn", "2016-04-01")
ADDRESS = "Storgatan 1, 852 30 Sundsvall"


def decided(rows: dict[str, int | tuple[int, int]], household: tuple[str, ...], address: str = ADDRESS) -> History:
    """Granted 2025-01 … 2026-11; the 2026-11 decision has `rows` (amount, or (applied, approved))."""
    months = [Decision(add_months("2025-01", i), "Beviljat") for i in range(22)]
    cells = tuple(DecisionRow(f, *(a if isinstance(a, tuple) else (a, a))) for f, a in rows.items())
    months.append(Decision("2026-11", "Beviljat", "handlaggare1", None, address, household, cells))
    return History(tuple(months), complete=True)


ME = luhn_pnr(__import__("datetime").date(1980, 5, 5), 100)  # the builder's pnr for the first member
NORM = {"norm_personliga": 3940, "norm_gemensamma": 1280}


@dataclass(frozen=True)
class Change:
    name: str
    last: dict
    outcome: str
    codes: tuple[str, ...]
    costs: dict = field(default_factory=dict)
    incomes: tuple = ()
    fk: tuple = ()
    filled: dict = field(default_factory=dict)  # a few fields to check
    empty: tuple[str, ...] = ()
    text: tuple[str, ...] = ()


CASES = [
    Change("c01_income_up_exactly_12_percent_is_no_warning", {**NORM, "boende": 6000, "a_kassa": 5000},
           # 5 600 − 5 000 = 600; 600 × 100 = 60 000 = 12 × 5 000: not more than 12 %
           "auto", (), costs={"boende": 6000}, incomes=(("A", "a_kassa", 5600),), filled={"a_kassa": 5600}),
    Change("c02_income_up_12_02_percent_warns", {**NORM, "boende": 6000, "a_kassa": 5000},
           # 601 × 100 = 60 100 > 60 000 → INCOME_CHANGED (12,0 %), a warning: still auto
           "auto", ("INCOME_CHANGED",), costs={"boende": 6000}, incomes=(("A", "a_kassa", 5601),),
           filled={"a_kassa": 5601}, text=("A-kassa 5 601 kr nu, 5 000 kr i beslutet för 2026-11",)),
    Change("c03_new_income_type", {**NORM, "boende": 6000},
           "auto", ("INCOME_NEW",), costs={"boende": 6000}, incomes=(("A", "pension", 2000),),
           text=("Ny inkomst: Pension 2 000 kr",)),
    Change("c04_income_gone", {**NORM, "boende": 6000, "a_kassa": 3000},
           "auto", ("INCOME_GONE",), costs={"boende": 6000},
           text=("Inkomst borta: A-kassa ingen nu, 3 000 kr i beslutet för 2026-11",)),
    Change("c05_rent_up_500_is_not_capped", {**NORM, "boende": 6000},
           # 6 500 − 6 000 = 500, not more than 500: the rent counts, a changed cost to see
           "auto", ("COST_CHANGED",), costs={"boende": 6500}, filled={"boende": 6500},
           text=("Hyra/boendekostnad 6 500 kr nu, 6 000 kr i beslutet för 2026-11",)),
    Change("c06_rent_up_501_is_capped_at_last_months", {**NORM, "boende": 6000},
           # 501 > 500 → last month's approved 6 000 is filled; the applied 6 501 is in the text
           "auto", ("RENT_RISE_CAPPED",), costs={"boende": 6501}, filled={"boende": 6000},
           text=("Kapad kostnad: ansökt 6 501 kr, beviljat 6 000 kr",)),
    Change("c07_capped_last_month_compared_with_the_approved", {**NORM, "boende": (7200, 6800)},
           # last month: applied 7 200, approved 6 800 (capped then). Now 7 200 again: against the APPLIED
           # 7 200 no cost change; against the APPROVED 6 800 a rise of 400 ≤ 500: not capped, 7 200 > 6 800
           # cap → RENT_ABOVE_CAP leaves boende empty as before
           "partial", ("RENT_ABOVE_CAP",), costs={"boende": 7200}, empty=("boende",)),
    Change("c08_rent_rise_above_the_cap_is_the_caps_rule", {**NORM, "boende": 6000},
           # 7 000 > 6 800 (cap): RENT_ABOVE_CAP (empty); the rise cap does not apply, the change is listed
           "partial", ("RENT_ABOVE_CAP", "COST_CHANGED"), costs={"boende": 7000}, empty=("boende",)),
    Change("c08b_a_first_rent_is_a_new_cost_not_a_rise", {**NORM},
           # last month no rent row (0 approved): 6 000 now is a new cost (COST_CHANGED), not capped at 0
           "auto", ("COST_CHANGED",), costs={"boende": 6000}, filled={"boende": 6000}),
    Change("c09_agency_figure_is_what_is_compared", {**NORM, "boende": 6000, "bostadsbidrag": 2000},
           # FK pays 2 400 now (declared 2 400 too): 400 / 2 000 = 20 % > 12 %
           "auto", ("INCOME_CHANGED",), costs={"boende": 6000}, incomes=(("A", "bostadsbidrag", 2400),),
           fk=(("A", "bostadsbidrag", 2400),), filled={"bostadsbidrag": 2400}),
    Change("c10_counted_wage_after_jobbstimulans_is_compared", {**NORM, "boende": 6000, "lon": 6000},
           # declared 8 000, window month 18 → 8 000 − 2 000 = 6 000 counted = last month's 6 000: no change
           "auto", (), costs={"boende": 6000}, incomes=(("A", "lon", 8000),), filled={"lon": 6000}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_changes_by_hand(case: Change, guidelines, norms) -> None:
    facts = build("2026-12", {"A": ADULT}, costs=case.costs, incomes=case.incomes, fk=case.fk,
                  history=decided(case.last, (ME,)), address=ADDRESS)
    prep = prepare(facts, guidelines, norms)
    assert (prep.outcome, prep.triage.codes, prep.left_empty) == (case.outcome, case.codes, case.empty)
    for key, amount in case.filled.items():
        assert prep.to_fill[key] == amount
    texts = " | ".join(r.text_sv for r in prep.triage.reasons)
    for phrase in case.text:
        assert phrase in texts


def test_a_child_added_since_last_month(guidelines, norms) -> None:
    # last month the applicant alone; now a child is declared (and registered): the household changed → partial,
    # nothing left empty (the caseworker checks the norm, incomes and housing)
    facts = build("2026-12", {"A": ADULT, "K": CHILD}, costs={"boende": 6000},
                  history=decided({**NORM, "boende": 6000}, (ME,)), address=ADDRESS)
    prep = prepare(facts, guidelines, norms)
    assert (prep.outcome, prep.triage.codes, prep.left_empty) == ("partial", ("HOUSEHOLD_CHANGED",), ())
    assert "tillkommit barn 20160401-XXXX" in prep.triage.reasons[0].text_sv
    assert prep.to_fill["norm_personliga"] == 3940 + 3820  # the child is 10: 7–10 år 3 820


def test_a_new_address(guidelines, norms) -> None:
    facts = build("2026-12", {"A": ADULT}, costs={"boende": 6000},
                  history=decided({**NORM, "boende": 6000}, (ME,)), address="Nygatan 2, 852 31 Sundsvall")
    prep = prepare(facts, guidelines, norms)
    assert (prep.outcome, prep.triage.codes, prep.left_empty) == ("partial", ("ADDRESS_CHANGED",), ("boende",))


def test_the_note_shows_last_months_figure_beside_this_months(guidelines, norms) -> None:
    facts = build("2026-12", {"A": ADULT}, costs={"boende": 6501}, incomes=(("A", "a_kassa", 5601),),
                  history=decided({**NORM, "boende": 6000, "a_kassa": 5000}, (ME,)), address=ADDRESS)
    note = note_from_preparation("EB-2026-00001", "2026-12", prepare(facts, guidelines, norms), "natt")
    assert "A-kassa: 5 601 kr." in note and "förra beslutet (2026-11): 5 000 kr" in note
    assert "Hyra/boendekostnad: 6 000 kr. Kapad kostnad: ansökt 6 501 kr, beviljat 6 000 kr" in note
    assert "[RENT_RISE_CAPPED]" in note and "[INCOME_CHANGED]" in note


def test_no_decided_calculation_no_change_reasons(guidelines, norms) -> None:
    facts = build("2026-12", {"A": ADULT}, costs={"boende": 6000}, incomes=(("A", "a_kassa", 5000),),
                  bistand_sedan="2025-01")  # a history of months only, no decided rows
    assert prepare(facts, guidelines, norms).triage.codes == ()
