"""prepare(): triage + calculation → the fields the robot fills and the ones it leaves."""

from __future__ import annotations

import pytest

from bot.calc.errors import CalcInputError
from bot.calc.fields import ALL_FIELDS
from bot.triage.prepare import prepare
from tests.calc.builders import build

A = ("sokande", "1980-05-05")


def zeros(*except_fields: str) -> dict[str, int]:
    """Every form field at 0: what the robot writes where nothing is declared or reported."""
    return {f: 0 for f in ALL_FIELDS if f not in except_fields}


def test_auto_fills_every_line(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A, "K": ("barn", "2016-05-10")}, costs={"boende": 6000},
                  incomes=[("A", "barnbidrag", 1250)], fk=[("A", "barnbidrag", 1250)])
    prep = prepare(facts, guidelines, norms)
    assert prep.outcome == "auto"
    # 3 800 + 3 680 = 7 480; 2 personer 1 360
    assert prep.to_fill == {**zeros(), "norm_personliga": 7480, "norm_gemensamma": 1360, "boende": 6000,
                            "barnbidrag": 1250}
    assert list(prep.to_fill) == list(ALL_FIELDS)
    assert prep.left_empty == ()
    assert prep.calculation.att_betala == 7480 + 1360 + 6000 - 1250


def test_partial_leaves_the_uncertain_fields_and_fills_the_rest(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A}, costs={"boende": 5000, "hushallsel": 300},
                  incomes=[("A", "bostadsbidrag", 1850), ("A", "sjukpenning", 2000)],
                  fk=[("A", "bostadsbidrag", 2400), ("A", "sjukpenning", 2040)])
    prep = prepare(facts, guidelines, norms)
    assert prep.outcome == "partial"
    assert prep.left_empty == ("boende", "bostadsbidrag")
    # sjukpenning: declared 2 000, FK 2 040 — within the threshold, so FK's figure is filled
    assert prep.to_fill == {**zeros("boende", "bostadsbidrag"), "norm_personliga": 3800, "norm_gemensamma": 1230,
                            "hushallsel": 300, "sjukpenning": 2040}
    # the proposal still holds the capped rent and FK's housing allowance for the caseworker's note
    assert prep.calculation.amount("boende") == 4474
    assert prep.calculation.amount("bostadsbidrag") == 2400


def test_missing_norm_figure_leaves_personal_costs(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A, "K": ("barn", "2021-06-01", True)})
    prep = prepare(facts, guidelines, norms)
    assert prep.outcome == "partial" and prep.left_empty == ("norm_personliga",)
    assert prep.to_fill == {**zeros("norm_personliga"), "norm_gemensamma": 1360}
    assert prep.calculation.missing_figures


def test_manual_fills_nothing_but_keeps_the_proposal(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A}, costs={"boende": 4000}, application_type="Nyansökan")
    prep = prepare(facts, guidelines, norms)
    assert prep.outcome == "manual"
    assert prep.to_fill == {}
    assert prep.left_empty == ALL_FIELDS
    assert prep.calculation is not None and prep.calculation.att_betala == 5030 + 4000


def test_manual_without_a_calculation(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A}, incomes=[("A", "inkomst_utland", 3000)])
    prep = prepare(facts, guidelines, norms)
    assert (prep.outcome, prep.calculation, prep.to_fill) == ("manual", None, {})
    assert prep.triage.codes == ("UNKNOWN_INCOME_TYPE",)
    facts = build("2024-12", {"A": A}, no_answer=[("fk", "A")])
    assert prepare(facts, guidelines, norms).calculation is None


def test_facts_that_cannot_be_calculated_are_not_hidden(guidelines, norms) -> None:
    facts = build("2024-12", {"A": ("sokande", "1960-01-01"), "K": ("barn", "2002-01-01")})
    with pytest.raises(CalcInputError, match=r"members\[1\]\.birth_date"):
        prepare(facts, guidelines, norms)


def test_defaults_are_the_packaged_files() -> None:
    prep = prepare(build("2024-12", {"A": A}))
    assert prep.to_fill == {**zeros(), "norm_personliga": 3800, "norm_gemensamma": 1230}
