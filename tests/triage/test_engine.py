from __future__ import annotations

from bot.calc.fields import ALL_FIELDS
from bot.triage import RULES, triage
from bot.triage.model import Reason, combine, manual, partial
from tests.calc.builders import build

A = ("sokande", "1980-05-05")
CODES = ["FIRST_APPLICATION", "PROTECTED_IDENTITY", "AGENCY_NO_ANSWER", "HOUSEHOLD_MISMATCH", "UNKNOWN_INCOME_TYPE",
         "INCOME_DEVIATION", "RENT_ABOVE_CAP", "YOUNG_ADULT_SCHOOL", "NORM_FIGURE_MISSING"]


def test_a_clean_case_is_auto(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A, "K": ("barn", "2015-01-01")}, costs={"boende": 5000},
                  incomes=[("A", "barnbidrag", 1250)], fk=[("A", "barnbidrag", 1250)])
    result = triage(facts, guidelines, norms)
    assert (result.outcome, result.reasons, result.empty_fields) == ("auto", (), ())


def test_partial_reasons_add_up_their_fields_in_form_order(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A, "K": ("barn", "2005-06-01")}, costs={"boende": 9000},
                  incomes=[("A", "bostadsbidrag", 1000)], fk=[("A", "bostadsbidrag", 2400)])
    result = triage(facts, guidelines, norms)
    assert result.outcome == "partial"
    assert result.codes == ("INCOME_DEVIATION", "RENT_ABOVE_CAP", "YOUNG_ADULT_SCHOOL")
    assert result.empty_fields == ("norm_personliga", "boende", "bostadsbidrag")


def test_manual_wins_and_keeps_every_reason(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A}, costs={"boende": 9000}, application_type="Nyansökan",
                  incomes=[("A", "vinst", 100)])
    result = triage(facts, guidelines, norms)
    assert result.outcome == "manual"
    assert result.codes == ("FIRST_APPLICATION", "UNKNOWN_INCOME_TYPE", "RENT_ABOVE_CAP")
    assert result.empty_fields == ALL_FIELDS


def test_combine_severity() -> None:
    p = partial("RENT_ABOVE_CAP", "x", "boende")
    m = manual("FIRST_APPLICATION", "y")
    assert combine([]).outcome == "auto"
    assert combine([p]).outcome == "partial"
    assert combine([p, m]).outcome == combine([m, p]).outcome == "manual"
    assert combine([p, p]).empty_fields == ("boende",)
    assert isinstance(p, Reason) and p.empty_fields == ("boende",)


def test_every_contract_code_has_a_rule(guidelines, norms) -> None:
    """Each rule fires on the one case built for it, under its own code."""
    cases = {
        "FIRST_APPLICATION": build("2024-12", {"A": A}, application_type="Nyansökan"),
        "PROTECTED_IDENTITY": build("2024-12", {"A": A}, protected=["A"]),
        "AGENCY_NO_ANSWER": build("2024-12", {"A": A}, no_answer=[("csn", "A")]),
        "HOUSEHOLD_MISMATCH": build("2024-12", {"A": A}, unregistered=["A"]),
        "UNKNOWN_INCOME_TYPE": build("2024-12", {"A": A}, incomes=[("A", "vinst", 10)]),
        "INCOME_DEVIATION": build("2024-12", {"A": A}, fk=[("A", "sjukpenning", 900)]),
        "RENT_ABOVE_CAP": build("2024-12", {"A": A}, costs={"boende": 5000}),
        "YOUNG_ADULT_SCHOOL": build("2024-12", {"A": A, "K": ("barn", "2005-01-01")}),
        "NORM_FIGURE_MISSING": build("2024-12", {"A": A, "K": ("barn", "2022-01-01", True)}),
    }
    assert len(RULES) == len(CODES)
    for code, facts in cases.items():
        assert triage(facts, guidelines, norms).codes == (code,), code
