"""Bad input fails at once with a message that names the field."""

from __future__ import annotations

from datetime import date

import pytest

from bot.calc import calculate
from bot.calc.errors import AgencyAnswerMissing, CalcInputError, NormTableMissing, UnknownIncomeType
from bot.facts import (
    Application,
    CaseFacts,
    CsnPayment,
    DeclaredCost,
    DeclaredIncome,
    FactsError,
    FkAnswer,
    FkPayment,
    Member,
    NoAnswer,
    Register,
    pnr_key,
)
from bot.masking import mask_pnr
from tests.calc.builders import build

A = "19800505-1234"


def app(period: str = "2024-12", **kw) -> Application:
    return Application("EB-2024-00001", "Återansökan", period, **kw)


def test_negative_cost_names_the_field() -> None:
    with pytest.raises(FactsError, match=r"DeclaredCost\.amount.*negative"):
        DeclaredCost("boende", -1)


def test_negative_income_and_payments_name_the_field() -> None:
    with pytest.raises(FactsError, match=r"DeclaredIncome\.amount"):
        DeclaredIncome(A, "lon", -500)
    with pytest.raises(FactsError, match=r"FkPayment\.amount"):
        FkPayment("barnbidrag", "2024-12", -1250)
    with pytest.raises(FactsError, match=r"CsnPayment\.amount"):
        CsnPayment("2024-12", "studiehjalp", -1)


def test_float_money_is_refused() -> None:
    with pytest.raises(FactsError, match=r"DeclaredCost\.amount: expected whole kronor as int, got float"):
        DeclaredCost("boende", 4200.5)  # type: ignore[arg-type]


def test_birth_date_after_the_period_names_the_member() -> None:
    members = (Member(A, "sokande", date(1980, 5, 5)), Member("20250101-0001", "barn", date(2025, 1, 1)))
    with pytest.raises(FactsError, match=r"members\[1\]\.birth_date: 2025-01-01 is after the period's last day"):
        CaseFacts(app(), members)


def test_birth_on_the_last_day_is_fine() -> None:
    CaseFacts(app(), (Member(A, "sokande", date(1980, 5, 5)), Member("20241231-0001", "barn", date(2024, 12, 31))))


@pytest.mark.parametrize("period", ["2024-13", "2024/12", "24-12", ""])
def test_malformed_period_names_the_field(period: str) -> None:
    with pytest.raises(FactsError, match=r"application\.period"):
        app(period)


def test_bistand_sedan_after_the_period() -> None:
    with pytest.raises(FactsError, match=r"application\.bistand_sedan"):
        app(bistand_sedan="2025-01")


def test_unknown_role_and_application_type() -> None:
    with pytest.raises(FactsError, match=r"Member\.role"):
        Member(A, "granne", date(1980, 1, 1))  # type: ignore[arg-type]
    with pytest.raises(FactsError, match=r"application\.application_type"):
        Application("EB-1", "Tilläggsansökan", "2024-12")  # type: ignore[arg-type]


def test_household_shape_errors() -> None:
    with pytest.raises(FactsError, match=r"members: expected exactly one sokande, got 2"):
        CaseFacts(app(), (Member(A, "sokande", date(1980, 1, 1)), Member("19810101-0002", "sokande",
                                                                           date(1981, 1, 1))))
    with pytest.raises(FactsError, match=r"members\[1\]\.pnr: the same person"):
        CaseFacts(app(), (Member(A, "sokande", date(1980, 1, 1)), Member("800505-1234", "barn", date(2010, 1, 1))))


def test_income_of_someone_not_declared() -> None:
    with pytest.raises(FactsError, match=r"incomes\[0\]\.pnr"):
        CaseFacts(app(), (Member(A, "sokande", date(1980, 1, 1)),), incomes=(DeclaredIncome("19990101-0000",
                                                                                             "lon", 100),))


def test_answer_filed_under_the_wrong_agency() -> None:
    with pytest.raises(FactsError, match=r"fk\[0\]\.agency"):
        CaseFacts(app(), (Member(A, "sokande", date(1980, 1, 1)),), fk=(NoAnswer("csn", A),))
    with pytest.raises(FactsError, match=r"fk\[1\]\.pnr: two answers"):
        CaseFacts(app(), (Member(A, "sokande", date(1980, 1, 1)),), fk=(FkAnswer(A), FkAnswer(A)))


def test_register_gap_must_be_an_skv_no_answer() -> None:
    with pytest.raises(FactsError, match=r"register\.unanswered\[0\]"):
        Register(unanswered=(NoAnswer("fk", A),))


def test_unknown_income_type_names_the_field(guidelines, norms) -> None:
    facts = build("2024-12", {"A": ("sokande", "1980-05-05")}, incomes=[("A", "lon", 100), ("A", "vinst", 5000)])
    with pytest.raises(UnknownIncomeType, match=r"incomes\[1\]\.type: 'vinst' is not an income type") as err:
        calculate(facts, guidelines, norms)
    assert err.value.field == "incomes[1].type"


def test_unknown_cost_field_names_the_field(guidelines, norms) -> None:
    facts = build("2024-12", {"A": ("sokande", "1980-05-05")}, costs=[("boende", 4000), ("bredband", 300)])
    with pytest.raises(CalcInputError, match=r"costs\[1\]\.field: 'bredband' is not a cost field"):
        calculate(facts, guidelines, norms)


def test_period_outside_the_tables(guidelines, norms) -> None:
    facts = build("2027-01", {"A": ("sokande", "1980-05-05")})
    with pytest.raises(NormTableMissing, match=r"period: no riksnorm table for 2027 \(period 2027-01\)") as err:
        calculate(facts, guidelines, norms)
    assert err.value.field == "period"
    assert "2027.yaml" in str(err.value) and "casebot norms check" in str(err.value)


def test_a_barn_of_21_is_a_data_error(guidelines, norms) -> None:
    facts = build("2024-12", {"A": ("sokande", "1970-05-05"), "K": ("barn", "2003-01-01")})
    with pytest.raises(CalcInputError, match=r"members\[1\]\.birth_date: a barn is 21"):
        calculate(facts, guidelines, norms)


def test_agency_without_answer_is_never_read_as_nothing_paid(guidelines, norms) -> None:
    facts = build("2024-12", {"A": ("sokande", "1980-05-05")}, no_answer=[("fk", "A")])
    with pytest.raises(AgencyAnswerMissing, match=r"fk: Försäkringskassan could not answer for members\[0\]"):
        calculate(facts, guidelines, norms)
    facts = build("2024-12", {"A": ("sokande", "1980-05-05")}, unasked=[("csn", "A")])
    with pytest.raises(AgencyAnswerMissing, match=r"csn: CSN was not asked for members\[0\]"):
        calculate(facts, guidelines, norms)


def test_error_messages_carry_no_personnummer(guidelines, norms) -> None:
    facts = build("2024-12", {"A": ("sokande", "1980-05-05")}, no_answer=[("fk", "A")])
    with pytest.raises(AgencyAnswerMissing) as err:
        calculate(facts, guidelines, norms)
    assert facts.members[0].pnr not in str(err.value)
    assert pnr_key(facts.members[0].pnr) not in str(err.value)


def test_pnr_helpers() -> None:
    assert pnr_key("19850312-2387") == pnr_key("850312-2387") == pnr_key("198503122387")
    assert mask_pnr("19850312-2387") == "19850312-XXXX"
    assert mask_pnr("850312-2387") == "850312-XXXX"
