"""The pure parts of processing a case: what the form must show after saving, and the manual-handling reason."""

from __future__ import annotations

from datetime import date

from bot.calc.fields import ALL_FIELDS
from bot.facts import (
    Application,
    CaseFacts,
    CsnAnswer,
    DeclaredCost,
    DeclaredIncome,
    FkAnswer,
    FkPayment,
    Member,
    Register,
    RegisteredPerson,
)
from bot.run.case import MANUAL_REASON_MAX, intended_form, manual_reason_text, readback_differences
from bot.triage.prepare import prepare

A = "19850312-2387"


def facts(app_type: str = "Återansökan", declared_bostadsbidrag: int = 1850) -> CaseFacts:
    return CaseFacts(
        application=Application("EB-2024-00001", app_type, "2024-12", bistand_sedan="2024-03"),  # type: ignore[arg-type]
        members=(Member(A, "sokande", date(1985, 3, 12)),),
        costs=(DeclaredCost("boende", 4000),),
        incomes=(DeclaredIncome(A, "bostadsbidrag", declared_bostadsbidrag),),
        register=Register(at_address=(RegisteredPerson(A, date(2019, 5, 1)),)),
        fk=(FkAnswer(A, (FkPayment("bostadsbidrag", "2024-12", 2400),)),),
        csn=(CsnAnswer(A),),
    )


def test_partial_form_leaves_exactly_the_uncertain_fields_empty() -> None:
    prep = prepare(facts())
    assert prep.outcome == "partial"
    form = intended_form(prep)
    assert set(form) == set(ALL_FIELDS)
    assert [k for k, v in form.items() if v is None] == ["bostadsbidrag"]
    assert form["norm_personliga"] == 3800 and form["boende"] == 4000  # 2024 single adult; declared rent


def test_readback_equal_is_clean_and_any_difference_is_named() -> None:
    prep = prepare(facts(declared_bostadsbidrag=2400))
    assert prep.outcome == "auto"
    shown: dict[str, int | None] = {**intended_form(prep), **prep.calculation.totals}  # type: ignore[union-attr]
    assert readback_differences(prep, shown) == []
    shown["boende"] = 40000  # a digit too many, as a slipping keyboard would type
    shown["att_betala"] = None
    problems = readback_differences(prep, shown)
    assert len(problems) == 2
    assert problems[0] == "boende: meant 4000, form shows 40000"
    assert problems[1].startswith("att_betala: meant")


def test_a_value_where_emptiness_was_meant_is_a_difference() -> None:
    prep = prepare(facts())
    shown: dict[str, int | None] = {**intended_form(prep), "bostadsbidrag": 0}
    assert readback_differences(prep, shown) == ["bostadsbidrag: meant None, form shows 0"]


def test_manual_reason_names_every_rule_and_fits_the_field() -> None:
    prep = prepare(facts(app_type="Nyansökan"))
    text = manual_reason_text(prep)
    assert prep.outcome == "manual" and "[FIRST_APPLICATION]" in text and text.startswith("casebot: ")
    long = prepare(facts(app_type="Nyansökan", declared_bostadsbidrag=1))
    assert len(manual_reason_text(long)) <= MANUAL_REASON_MAX
