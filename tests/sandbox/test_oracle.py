"""The oracle against cases worked out by hand (the decision history, jobbstimulans and the change reasons:
test_oracle_history.py) (2024 figures, Götene's copy; 2021 from SFS 2020:1013; 2025 and 2026
as docs/contract.md "Norm figures" gives them).

2024: single 3 800, sambor 6 850; children <1 2 640, 1–2 2 940, 3 2 620, 4–6 2 940, 7–10 3 680, 11–14 4 230,
15–18 4 780, 19–20 4 820; common costs for 1..7 persons 1 230, 1 360, 1 720, 1 950, 2 240, 2 540, 2 730.
2025: no figure at all. 2026: single 3 940, sambor 7 100; children 7–10 3 820, 11–14 4 390; common costs for 1, 2,
4, 5 persons 1 280, 1 410, 2 030, 2 330; nothing else (no child under 7 or over 14, no "utan lunch", no common(3),
common(6), common(7)).
Rent caps up to 2025-12 (Högsby 2023): 1 adult 4 474, 2 adults 5 581, + 1 child 6 192, 2 7 416, 3 8 046, 4 8 650,
5+ 9 255. From 2026-01 (Sundsvall 2026): no children, sokande ≤ 28 at the period end 5 800, ≥ 29 6 800; 1–2
children 7 900, 3–4 9 900, 5–6 11 000, 7+ 14 200.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from portals import db, oracle
from portals.oracle import CaseFacts, Decision, Member

PERIOD = "2024-12"


def born(age: int, period: str = PERIOD) -> dt.date:
    """A birthday in mid-June: `age` completed years on the last day of any period month from June on."""
    return dt.date(int(period[:4]) - age, 6, 15)


def m(pnr: str, role: str, age: int, lunch: bool = False, period: str = PERIOD) -> Member:
    return Member(pnr, role, born(age, period), lunch)


def facts(members: Iterable[Member], costs: dict[str, int] | None = None,
          incomes: Iterable[tuple[str, str, int]] = (), reported: dict[tuple[str, str], int] | None = None,
          **extra: object) -> CaseFacts:
    values: dict[str, object] = {"case_id": "EB-TEST", "period": PERIOD, "application_type": "Återansökan",
                                 "bistand_sedan": "2024-11"}
    values.update(extra)
    return CaseFacts(members=tuple(members), costs=costs or {}, incomes=tuple(incomes), reported=reported or {},
                     **values)  # type: ignore[arg-type]


def spell(period: str, months: int, household: Iterable[str], **approved: int) -> tuple[Decision, ...]:
    """`months` Beviljat decisions in a row up to the month before `period`, each with the household and the
    approved (= applied) amounts given: a complete history whose last month looks like this one."""
    year, month = int(period[:4]), int(period[5:7])
    return tuple(Decision(f"{(year * 12 + month - 1 - k) // 12:04d}-{(year * 12 + month - 1 - k) % 12 + 1:02d}",
                          oracle.BEVILJAT, "", frozenset(household), approved, approved)
                 for k in range(1, months + 1))


def zeros(**nonzero: int) -> dict[str, int]:
    """Every form field, 0 unless given: what the robot writes on a fully automatic case."""
    return {**dict.fromkeys(oracle.FORM_FIELDS, 0), **nonzero}


# -- 1. a single adult with no income -----------------------------------------------------------------------

def test_single_adult_without_income() -> None:
    result = oracle.expected_outcome(facts(
        [m("A", "sokande", 34)], costs={"boende": 4200, "hushallsel": 300, "hemforsakring": 150}))
    assert result.outcome == "auto" and result.reasons == () and result.empty_fields == ()
    # single 3 800 + common(1) 1 230 + rent 4 200 + el 300 + insurance 150 = 9 680
    assert result.fields == zeros(norm_personliga=3800, norm_gemensamma=1230, boende=4200, hushallsel=300,
                                  hemforsakring=150)
    assert result.att_betala == 9680


# -- 2. a single parent with two children and FK benefits ------------------------------------------------

def test_single_parent_with_barnbidrag_and_underhallsstod() -> None:
    members = [m("A", "sokande", 31), m("B1", "barn", 9), m("B2", "barn", 4)]
    fk = {("A", "barnbidrag"): 2650, ("A", "underhallsstod"): 3346}  # 2 × 1 250 + 150; 2 × 1 673
    result = oracle.expected_outcome(facts(
        members, costs={"boende": 6900, "hushallsel": 400},
        incomes=[("A", "barnbidrag", 2650), ("A", "underhallsstod", 3346)], reported=fk))
    assert result.outcome == "auto"
    # personal: 3 800 + 3 680 (9 y) + 2 940 (4 y) = 10 420; common(3) = 1 720
    # 10 420 + 1 720 + 6 900 + 400 − 2 650 − 3 346 = 13 444
    assert result.fields == zeros(norm_personliga=10420, norm_gemensamma=1720, boende=6900, hushallsel=400,
                                  barnbidrag=2650, underhallsstod=3346)
    assert result.att_betala == 13444


# -- 3. a couple with earned income: jobbstimulans ------------------------------------------------------------

@pytest.mark.parametrize(("months", "lon_counted", "last_lon"), [
    (5, 11002, 11002),  # P is month 6 of the spell: not yet; 7 002 + 4 000 counted in full, as last month
    (6, 8251, 11002),   # month 7: six Beviljat months in a row up to P − 1 open the window, P is its first month
    (10, 8251, 8251),
    (29, 8251, 8251),   # month 30: the window's 24th and last month
    (30, 11002, 8251),  # month 31: the 24 months are used up, and the six new ones are not there yet
])
def test_couple_with_lon_and_jobbstimulans(months: int, lon_counted: int, last_lon: int) -> None:
    # Last month's decision as this month but for the wage, counted as jobbstimulans counted it then.
    history = spell(PERIOD, months, ("A", "P"), norm_personliga=6850, norm_gemensamma=1360, boende=5000,
                    lon=last_lon)
    result = oracle.expected_outcome(facts(
        [m("A", "sokande", 40), m("P", "medsokande", 38)], costs={"boende": 5000},
        incomes=[("A", "lon", 7002), ("P", "lon", 4000)], decisions=history))
    # Exempt 25 %, rounded half up per person: 7 002 → 1 750,5 → 1 751 (5 251 counted); 4 000 → 1 000 (3 000).
    # 5 251 + 3 000 = 8 251. Where a window opens or ends the wage counted changes by a quarter or a third: more
    # than 12 %, a warning that keeps the case automatic.
    assert result.outcome == "auto"
    assert result.reasons == (() if lon_counted == last_lon else (oracle.INCOME_CHANGED,))
    assert result.fields["lon"] == lon_counted
    # sambor 6 850 + common(2) 1 360 + rent 5 000 − lon
    assert result.fields["norm_personliga"] == 6850 and result.fields["norm_gemensamma"] == 1360
    assert result.att_betala == 6850 + 1360 + 5000 - lon_counted


def test_no_jobbstimulans_on_a_first_month_or_without_spell() -> None:
    result = oracle.expected_outcome(facts([m("A", "sokande", 40)], incomes=[("A", "lon", 4002)],
                                           bistand_sedan=None))
    assert result.fields["lon"] == 4002


# -- 4. an ovrig_vuxen sharing the flat ---------------------------------------------------------------------

def test_ovrig_vuxen_shares_common_costs_and_keeps_own_income() -> None:
    members = [m("A", "sokande", 35), m("B1", "barn", 7), m("B2", "barn", 2), m("G", "ovrig_vuxen", 62)]
    result = oracle.expected_outcome(facts(
        members, costs={"boende": 7000},
        # The grandmother's own lön and sickness benefit are hers: not the family's income.
        incomes=[("A", "barnbidrag", 2650), ("G", "lon", 3000)],
        reported={("A", "barnbidrag"): 2650, ("G", "sjukpenning"): 9000}))
    assert result.outcome == "auto"
    # family 3 of N = 4: common(4) 1 950 × 3 ÷ 4 = 1 462,5 → 1 463 (half up)
    # personal: 3 800 + 3 680 (7 y) + 2 940 (2 y) = 10 420; rent cap 2 children 7 416 ≥ 7 000
    # 10 420 + 1 463 + 7 000 − 2 650 = 16 233
    assert result.fields == zeros(norm_personliga=10420, norm_gemensamma=1463, boende=7000, barnbidrag=2650)
    assert result.att_betala == 16233


def test_rounding_half_up_as_socialstyrelsen() -> None:
    assert oracle.half_up(1710, 5) == 342  # Socialstyrelsen's 2014 example: 1 710 ÷ 5
    assert oracle.half_up(5, 2) == 3 and oracle.half_up(3, 2) == 2 and oracle.half_up(7, 4) == 2


# -- 5. a large family (9 persons) ----------------------------------------------------------------------------

def test_large_family_over_seven_persons() -> None:
    ages = [16, 12, 8, 5, 3, 1, 0]
    members = [m("A", "sokande", 41), m("P", "medsokande", 43)] + [m(f"B{a}", "barn", a) for a in ages]
    # FK: 6 children under 16 + 1 with studiehjälp → flerbarnstillägg for 7: 2 990 + 2 × 1 250 = 5 490;
    # barnbidrag 6 × 1 250 = 7 500 → 12 990.
    reported = {("A", "barnbidrag"): 12990, ("A", "bostadsbidrag"): 3400, ("B16", "studiestod"): 1250}
    result = oracle.expected_outcome(facts(
        members, costs={"boende": 9255, "hushallsel": 900},
        incomes=[("A", "barnbidrag", 12990), ("A", "bostadsbidrag", 3400), ("B16", "studiestod", 1250)],
        reported=reported))
    assert result.outcome == "auto"
    # personal: 6 850 + 4 780 (16) + 4 230 (12) + 3 680 (8) + 2 940 (5) + 2 620 (3) + 2 940 (1) + 2 640 (0) = 30 680
    # common: 9 persons = 2 730 + 2 × (2 730 − 2 540) = 3 110
    # rent 9 255 is exactly the cap for 5+ children: allowed
    # 30 680 + 3 110 + 9 255 + 900 − 12 990 − 3 400 − 1 250 = 26 305
    assert result.fields == zeros(norm_personliga=30680, norm_gemensamma=3110, boende=9255, hushallsel=900,
                                  barnbidrag=12990, bostadsbidrag=3400, studiestod=1250)
    assert result.att_betala == 26305


# -- 6. partial cases: a young adult, a lunch flag --------------------------------------------------------------

def test_young_adult_at_home_leaves_norm_personliga_empty() -> None:
    members = [m("A", "sokande", 45), m("B", "barn", 19)]
    result = oracle.expected_outcome(facts(
        members, costs={"boende": 6000}, incomes=[("B", "studiestod", 1250)],
        reported={("B", "studiestod"): 1250}))
    assert result.outcome == "partial" and result.reasons == (oracle.YOUNG_ADULT_SCHOOL,)
    assert result.empty_fields == ("norm_personliga",)
    # Everything else is still written: common(2) 1 360, rent, CSN's 1 250.
    expected = zeros(norm_gemensamma=1360, boende=6000, studiestod=1250)
    del expected["norm_personliga"]
    assert result.fields == expected
    assert result.att_betala is None


def test_age_is_counted_on_the_last_day_of_the_period_month() -> None:
    turns_18 = Member("B", "barn", dt.date(2006, 12, 31))
    still_17 = Member("B", "barn", dt.date(2007, 1, 1))
    assert oracle.expected_outcome(facts([m("A", "sokande", 45), turns_18])).outcome == "partial"
    result = oracle.expected_outcome(facts([m("A", "sokande", 45), still_17]))
    assert result.outcome == "auto" and result.fields["norm_personliga"] == 3800 + 4780
    newborn = Member("B", "barn", dt.date(2024, 12, 31))  # born in the period month: 0 years
    assert oracle.expected_outcome(facts([m("A", "sokande", 30), newborn])).fields["norm_personliga"] == 3800 + 2640
    with pytest.raises(ValueError):
        oracle.expected_outcome(facts([m("A", "sokande", 30), Member("B", "barn", dt.date(2025, 1, 1))]))


def test_lunch_at_preschool_2024_lacks_the_figure() -> None:
    result = oracle.expected_outcome(facts([m("A", "sokande", 30), m("B", "barn", 4, lunch=True)],
                                           costs={"boende": 5000}))
    assert result.outcome == "partial" and result.reasons == (oracle.NORM_FIGURE_MISSING,)
    assert "norm_personliga" not in result.fields and result.fields["norm_gemensamma"] == 1360


def test_lunch_at_preschool_2021_uses_the_lower_figure() -> None:
    period = "2021-06"
    members = [m("A", "sokande", 30, period=period), m("B", "barn", 4, lunch=True, period=period)]
    result = oracle.expected_outcome(facts(members, costs={"boende": 5000}, period=period, bistand_sedan="2021-05"))
    assert result.outcome == "auto"
    # 2021: single 3 160 + 4–6 y without lunch 2 170 = 5 330; common(2) 1 130
    assert result.fields["norm_personliga"] == 5330 and result.fields["norm_gemensamma"] == 1130
    assert result.att_betala == 5330 + 1130 + 5000


# -- 7. rent against the caps -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("roles", "rent", "above"), [
    (["sokande"], 4474, False),
    (["sokande"], 4475, True),
    (["sokande", "medsokande"], 5581, False),
    (["sokande", "medsokande"], 5582, True),
    (["sokande", "ovrig_vuxen"], 4475, True),  # an ovrig_vuxen is not an adult of the family: 1-adult cap
    (["sokande", "barn"], 6192, False),
    (["sokande", "medsokande", "barn", "barn"], 7417, True),
    (["sokande"] + ["barn"] * 6, 9255, False),
])
def test_rent_cap(roles: list[str], rent: int, above: bool) -> None:
    members = [m(f"P{i}", role, 40 if role != "barn" else 8) for i, role in enumerate(roles)]
    result = oracle.expected_outcome(facts(members, costs={"boende": rent}))
    assert (oracle.RENT_ABOVE_CAP in result.reasons) is above
    assert ("boende" in result.empty_fields) is above
    if not above:
        assert result.fields["boende"] == rent


# -- 8. declared incomes against the agencies' figures -----------------------------------------------------------

def test_income_deviation_and_the_reported_figure() -> None:
    members = [m("A", "sokande", 30), m("B", "barn", 5)]

    def run(declared: list[tuple[str, str, int]], reported: dict[tuple[str, str], int]) -> oracle.Expected:
        return oracle.expected_outcome(facts(members, costs={"boende": 5000}, incomes=declared, reported=reported))

    # 2 400 declared, 1 850 paid: |550| > max(100, 92,5) → the field is left for the caseworker
    r = run([("A", "bostadsbidrag", 2400)], {("A", "bostadsbidrag"): 1850})
    assert r.outcome == "partial" and r.reasons == (oracle.INCOME_DEVIATION,) and r.empty_fields == ("bostadsbidrag",)
    # 1 900 declared, 1 850 paid: within 100 kr → FK's 1 850 is written, not the declared figure
    r = run([("A", "bostadsbidrag", 1900)], {("A", "bostadsbidrag"): 1850})
    assert r.outcome == "auto" and r.fields["bostadsbidrag"] == 1850
    # 5 % of 4 000 = 200: a difference of exactly 200 is allowed, 201 is not
    assert run([("A", "sjukpenning", 4200)], {("A", "sjukpenning"): 4000}).outcome == "auto"
    assert run([("A", "sjukpenning", 4201)], {("A", "sjukpenning"): 4000}).outcome == "partial"
    # paid but not declared
    r = run([], {("A", "foraldrapenning"): 3000})
    assert r.reasons == (oracle.INCOME_DEVIATION,) and r.empty_fields == ("foraldrapenning",)
    # declared but nothing paid for the period month
    assert run([("A", "aktivitetsstod", 5000)], {}).empty_fields == ("aktivitetsstod",)
    # CSN's figure is the sum of bidrag and lån; a barn's studiehjälp counts as family income
    r = run([("A", "studiestod", 13204)], {("A", "studiestod"): 13204})
    assert r.outcome == "auto" and r.fields["studiestod"] == 13204


# -- 9. manual cases ---------------------------------------------------------------------------------------------

def test_first_application_is_manual_with_nothing_written() -> None:
    result = oracle.expected_outcome(facts([m("A", "sokande", 30)], costs={"boende": 4000},
                                           application_type="Nyansökan", bistand_sedan=None))
    assert result.outcome == "manual" and result.reasons == (oracle.FIRST_APPLICATION,)
    assert result.fields == {} and result.empty_fields == oracle.FORM_FIELDS


def test_every_reason_is_reported_in_contract_order() -> None:
    members = [m("A", "sokande", 30), m("B", "barn", 19)]
    result = oracle.expected_outcome(facts(
        members, costs={"boende": 9999}, incomes=[("A", "inkomst_utland", 2000), ("A", "sjukpenning", 1000)],
        application_type="Nyansökan", bistand_sedan=None,
        registered=frozenset({"A", "B", "X"}), protected=frozenset({"B"}), gaps=frozenset({"A"})))
    assert result.outcome == "manual"
    assert result.reasons == (oracle.FIRST_APPLICATION, oracle.PROTECTED_IDENTITY, oracle.AGENCY_NO_ANSWER,
                              oracle.HOUSEHOLD_MISMATCH, oracle.UNKNOWN_INCOME_TYPE, oracle.INCOME_DEVIATION,
                              oracle.RENT_ABOVE_CAP, oracle.YOUNG_ADULT_SCHOOL)


def test_a_protected_person_at_the_address_not_on_the_application() -> None:
    result = oracle.expected_outcome(facts([m("A", "sokande", 30)], registered=frozenset({"A", "S"}),
                                           protected=frozenset({"S"})))
    assert result.reasons == (oracle.PROTECTED_IDENTITY, oracle.HOUSEHOLD_MISMATCH)
    moved_out = oracle.expected_outcome(facts([m("A", "sokande", 30), m("P", "medsokande", 30)],
                                              registered=frozenset({"A"})))
    assert moved_out.reasons == (oracle.HOUSEHOLD_MISMATCH,)


def test_the_amount_is_never_negative() -> None:
    result = oracle.expected_outcome(facts([m("A", "sokande", 30)], costs={"boende": 4000},
                                           incomes=[("A", "lon", 20000)], bistand_sedan="2024-11"))
    assert result.outcome == "auto" and result.fields["lon"] == 20000 and result.att_betala == 0


@pytest.mark.parametrize("period", ["2019-05", "2027-01"])
def test_a_year_without_a_table_is_an_error(period: str) -> None:
    with pytest.raises(ValueError):
        oracle.expected_outcome(facts([m("A", "sokande", 30, period=period)], period=period))


# -- 10. reading the facts from the database -----------------------------------------------------------------------

def test_load_case_facts_reads_the_portals_view(tmp_path) -> None:  # type: ignore[no-untyped-def]
    conn = db.connect(tmp_path / "t.db")
    db.init_schema(conn)
    home, other = "Storgatan 1 lgh 1001, 231 31 Trelleborg", "Amiralsgatan 2 lgh 1101, 214 37 Malmö"
    rows: dict[str, Sequence[tuple[Any, ...]]] = {
        "cs_cases": [("EB-2024-00001", "A", "Återansökan", PERIOD, "2024-11-28", "handlaggare1", "inkommen", 1,
                      "2024-03", home, None, 0, None)],
        "cs_household": [("EB-2024-00001", 1, "A", "Eva", "Ek", "sokande", 0),
                         ("EB-2024-00001", 2, "B", "Bo", "Ek", "barn", 0)],
        "cs_declared_costs": [("EB-2024-00001", "boende", 6000)],
        "cs_declared_incomes": [("EB-2024-00001", "A", "lon", 6002), ("EB-2024-00001", "A", "barnbidrag", 1250),
                                ("EB-2024-00001", "B", "studiestod", 1250)],
        "skv_persons": [("A", "Eva", "Ek", "1990-02-02", 0), ("B", "Bo", "Ek", "2010-03-03", 0),
                        ("L", "Lo", "Ek", "1985-04-04", 0), ("F", "Fia", "Ek", "1988-05-05", 0)],
        "skv_registrations": [("A", other, "2015-01-01"), ("A", home, "2020-01-01"), ("B", home, "2020-01-01"),
                              ("L", home, "2019-01-01"), ("L", other, "2023-06-01"),  # moved out: not counted
                              ("F", home, "2025-01-15")],  # moves in after the period: not counted
        "fk_payments": [("A", "barnbidrag", "2024-12-20", 1250), ("A", "barnbidrag", "2024-11", 1250),
                        ("A", "sjukpenning", "2024-11", 5000)],  # stopped before the period month
        "csn_payments": [("B", "2024-12", "studiehjalp", 1250), ("B", "2024-11", "studiehjalp", 1250)],
        # Beviljat 2024-03 … 2024-11, nothing before: a window 2024-09 … 2026-08 (six in a row up to 2024-08).
        "cs_history": [("EB-2024-00001", "finns_inte")],
        "cs_decisions": [("EB-2024-00001", f"2024-{mm:02d}", "Beviljat", "handlaggare2", f"2024-{mm:02d}-03", home)
                         for mm in range(3, 12)],
        "cs_decision_household": [("EB-2024-00001", f"2024-{mm:02d}", pos, pnr) for mm in range(3, 12)
                                  for pos, pnr in ((1, "A"), (2, "B"))],
        "cs_decision_rows": [("EB-2024-00001", "2024-11", key, amount, amount) for key, amount in (
            ("norm_personliga", 8030), ("norm_gemensamma", 1360), ("boende", 6000), ("lon", 4501),
            ("barnbidrag", 1250), ("studiestod", 1250))] + [("EB-2024-00001", "2024-10", "boende", 6500, 6192)],
    }
    for table, values in rows.items():
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(values[0]))})", values)
    f = oracle.load_case_facts(conn, "EB-2024-00001")
    assert f.registered == frozenset({"A", "B"}) and f.protected == frozenset() and f.gaps == frozenset()
    assert f.reported == {("A", "barnbidrag"): 1250, ("B", "studiestod"): 1250}
    assert f.address == home and f.history_complete and [d.month for d in f.decisions][:2] == ["2024-11", "2024-10"]
    assert len(f.decisions) == 9 and all(d.household == {"A", "B"} and d.address == home for d in f.decisions)
    assert (f.decisions[1].applied, f.decisions[1].approved) == ({"boende": 6500}, {"boende": 6192})
    result = oracle.expected_outcome(f)
    # 2024-12 is the window's 4th month → lon 6 002 − 1 501 (1 500,5 rounded up) = 4 501; last month's decision
    # (2024-11) has every figure this month has, the same household and address: no change reason
    # personal 3 800 + 4 230 (14 y) = 8 030; common(2) 1 360; rent 6 000 (cap 1 child 6 192)
    # 8 030 + 1 360 + 6 000 − 4 501 − 1 250 − 1 250 = 8 389
    assert result.outcome == "auto" and result.reasons == () and result.att_betala == 8389
    conn.execute("UPDATE cs_history SET older = 'gallrade'")
    # Thinned out before 2024-03: nine Beviljat months cannot tell where a window older than them stood.
    assert oracle.expected_outcome(oracle.load_case_facts(conn, "EB-2024-00001")).reasons == (
        oracle.JOBBSTIMULANS_UNKNOWN,)
    conn.execute("UPDATE cs_history SET older = 'finns_inte'")
    conn.execute("INSERT INTO agency_gaps VALUES ('csn', 'B')")
    conn.execute("UPDATE skv_persons SET protected = 1 WHERE pnr = 'B'")
    assert oracle.expected_outcome(oracle.load_case_facts(conn, "EB-2024-00001")).reasons == (
        oracle.PROTECTED_IDENTITY, oracle.AGENCY_NO_ANSWER)
    conn.close()


# -- 11. 2026: the figures Lifecare's catalogue and the government give, and the ones nobody gives --------------------

P26 = "2026-12"
P25 = "2025-06"


def facts26(members: Iterable[Member], costs: dict[str, int] | None = None,
            incomes: Iterable[tuple[str, str, int]] = (), reported: dict[tuple[str, str], int] | None = None,
            **extra: object) -> CaseFacts:
    """A 2026-12 case, on assistance since the month before unless told."""
    extra.setdefault("bistand_sedan", "2026-11")
    return facts(members, costs, incomes, reported, period=P26, **extra)


def m26(pnr: str, role: str, age: int, lunch: bool = False) -> Member:
    return m(pnr, role, age, lunch, period=P26)


def without(fields: dict[str, int], *keys: str) -> dict[str, int]:
    return {k: v for k, v in fields.items() if k not in keys}


def test_2026_single_adult_is_the_governments_headline_total() -> None:
    result = oracle.expected_outcome(facts26(
        [m26("A", "sokande", 40)], costs={"boende": 6500, "hushallsel": 350, "hemforsakring": 160}))
    assert result.outcome == "auto" and result.reasons == () and result.empty_fields == ()
    # single 3 940 + common(1) 1 280 = 5 220 (regeringen.se: the 2026 norm for a single person)
    # rent 6 500 ≤ 6 800 (no children, sokande 40 ≥ 29)
    # 5 220 + 6 500 + 350 + 160 = 12 230
    assert result.fields == zeros(norm_personliga=3940, norm_gemensamma=1280, boende=6500, hushallsel=350,
                                  hemforsakring=160)
    assert result.att_betala == 12230


def test_2026_couple_is_the_governments_cohabitant_total() -> None:
    result = oracle.expected_outcome(facts26(
        [m26("A", "sokande", 35), m26("P", "medsokande", 33)], costs={"boende": 6800},
        incomes=[("A", "a_kassa", 6000), ("P", "lon", 4000)], bistand_sedan="2026-02",
        decisions=spell(P26, 10, ("A", "P"), norm_personliga=7100, norm_gemensamma=1410, boende=6800, a_kassa=6000,
                        lon=3000)))
    assert result.outcome == "auto" and result.reasons == ()
    # sambor 7 100 + common(2) 1 410 = 8 510 (regeringen.se: the 2026 norm for cohabitants)
    # rent 6 800: exactly the cap for no children and a sokande of 29 or more, allowed
    # Beviljat 2026-02 … 2026-11 (10 months): six in a row up to 2026-07 open the window 2026-08 … 2028-07, so
    # 2026-12 is its 5th month: 25 % of 4 000 = 1 000 exempt, 3 000 counted (last month the same: no change)
    # 8 510 + 6 800 − 6 000 − 3 000 = 6 310
    assert result.fields == zeros(norm_personliga=7100, norm_gemensamma=1410, boende=6800, a_kassa=6000, lon=3000)
    assert result.att_betala == 6310


def test_2026_couple_with_children_8_and_12() -> None:
    members = [m26("A", "sokande", 38), m26("P", "medsokande", 36), m26("B8", "barn", 8), m26("B12", "barn", 12)]
    result = oracle.expected_outcome(facts26(
        members, costs={"boende": 7900, "hushallsel": 500},
        incomes=[("P", "barnbidrag", 2650)], reported={("P", "barnbidrag"): 2650}))  # 2 × 1 250 + 150
    assert result.outcome == "auto"
    # personal: 7 100 + 3 820 (8 y, band 7–10) + 4 390 (12 y, band 11–14) = 15 310; common(4) 2 030
    # rent 7 900: exactly the cap for 1–2 children
    # 15 310 + 2 030 + 7 900 + 500 − 2 650 = 23 090
    assert result.fields == zeros(norm_personliga=15310, norm_gemensamma=2030, boende=7900, hushallsel=500,
                                  barnbidrag=2650)
    assert result.att_betala == 23090


def test_2026_single_parent_with_two_children_lacks_common_costs_for_three() -> None:
    members = [m26("A", "sokande", 34), m26("B9", "barn", 9), m26("B13", "barn", 13)]
    reported = {("A", "barnbidrag"): 2650, ("A", "underhallsstod"): 3646}
    result = oracle.expected_outcome(facts26(
        members, costs={"boende": 7500, "hushallsel": 400},
        incomes=[("A", "barnbidrag", 2650), ("A", "underhallsstod", 3646)], reported=reported))
    # 3 persons: common(3) is not in the 2026 table → norm_gemensamma stays empty for the caseworker.
    # personal: 3 940 + 3 820 (9 y) + 4 390 (13 y) = 12 150, written; rent 7 500 ≤ 7 900; incomes as reported.
    assert result.outcome == "partial" and result.reasons == (oracle.NORM_FIGURE_MISSING,)
    assert result.empty_fields == ("norm_gemensamma",)
    assert result.fields == without(zeros(norm_personliga=12150, boende=7500, hushallsel=400, barnbidrag=2650,
                                           underhallsstod=3646), "norm_gemensamma")
    assert result.att_betala is None


@pytest.mark.parametrize(("age", "lunch", "personal"), [
    (4, False, None),   # barn 4–6: not in the 2026 table
    (4, True, None),    # nor its "utan lunch" figure
    (0, False, None), (1, True, None), (3, False, None), (6, True, None), (15, False, None),
    (7, False, 3940 + 3820),   # 7 760
    (7, True, 3940 + 3820),    # lunch at preschool counts for 0–6 only: a 7-year-old has the ordinary figure
    (10, False, 3940 + 3820),  # 7 760
    (11, False, 3940 + 4390),  # 8 330
    (14, False, 3940 + 4390),  # 8 330
])
def test_2026_a_child_outside_the_known_bands_leaves_norm_personliga_empty(age: int, lunch: bool,
                                                                           personal: int | None) -> None:
    result = oracle.expected_outcome(facts26([m26("A", "sokande", 30), m26("B", "barn", age, lunch)],
                                             costs={"boende": 6000}))
    # 2 persons: common(2) 1 410 is known and written either way; rent 6 000 ≤ 7 900 (1 child).
    assert result.fields["norm_gemensamma"] == 1410 and result.fields["boende"] == 6000
    if personal is None:
        assert result.outcome == "partial" and result.reasons == (oracle.NORM_FIGURE_MISSING,)
        assert result.empty_fields == ("norm_personliga",)
    else:
        assert result.outcome == "auto" and result.fields["norm_personliga"] == personal
        assert result.att_betala == personal + 1410 + 6000


def test_2026_household_with_a_four_year_old_at_preschool() -> None:
    members = [m26("A", "sokande", 31), m26("P", "medsokande", 29), m26("B", "barn", 4, lunch=True)]
    result = oracle.expected_outcome(facts26(members, costs={"boende": 7000, "barnomsorg": 600}))
    # personal needs 4–6 "utan lunch" (missing); common needs common(3) (missing): both norm fields stay empty,
    # one reason; rent 7 000 ≤ 7 900 and barnomsorg are still written.
    assert result.outcome == "partial" and result.reasons == (oracle.NORM_FIGURE_MISSING,)
    assert result.empty_fields == ("norm_personliga", "norm_gemensamma")
    assert result.fields == without(zeros(boende=7000, barnomsorg=600), "norm_personliga", "norm_gemensamma")


def test_2026_young_adult_at_home_also_lacks_the_figure() -> None:
    result = oracle.expected_outcome(facts26([m26("A", "sokande", 45), m26("B", "barn", 19)], costs={"boende": 6000},
                                             incomes=[("B", "studiestod", 1250)], reported={("B", "studiestod"): 1250}))
    # 19–20 is not in the 2026 table: both reasons, in the contract's order; common(2) 1 410 still written.
    assert result.reasons == (oracle.YOUNG_ADULT_SCHOOL, oracle.NORM_FIGURE_MISSING)
    assert result.outcome == "partial" and result.empty_fields == ("norm_personliga",)
    assert result.fields == without(zeros(norm_gemensamma=1410, boende=6000, studiestod=1250), "norm_personliga")


def test_2026_ovrig_vuxen_share_uses_the_household_size() -> None:
    members = [m26("A", "sokande", 40), m26("P", "medsokande", 38), m26("B10", "barn", 10), m26("B12", "barn", 12),
               m26("G", "ovrig_vuxen", 66)]
    result = oracle.expected_outcome(facts26(members, costs={"boende": 7900}))
    # N = 5, family 4: common(5) 2 330 × 4 ÷ 5 = 1 864; personal 7 100 + 3 820 + 4 390 = 15 310
    # 15 310 + 1 864 + 7 900 = 25 074
    assert result.outcome == "auto"
    assert result.fields == zeros(norm_personliga=15310, norm_gemensamma=1864, boende=7900)
    assert result.att_betala == 25074
    # A family of 2 (common(2) known) sharing with one more adult: N = 3, common(3) missing → empty.
    small = oracle.expected_outcome(facts26([m26("A", "sokande", 40), m26("B", "barn", 8),
                                             m26("G", "ovrig_vuxen", 44)], costs={"boende": 6000}))
    assert small.reasons == (oracle.NORM_FIGURE_MISSING,) and small.empty_fields == ("norm_gemensamma",)
    assert small.fields["norm_personliga"] == 3940 + 3820  # 7 760


def test_2026_over_seven_persons_needs_common_six_and_seven() -> None:
    ages = [7, 8, 9, 11, 12, 13]
    members = [m26("A", "sokande", 41), m26("P", "medsokande", 40)] + [m26(f"B{a}", "barn", a) for a in ages]
    result = oracle.expected_outcome(facts26(members, costs={"boende": 10500}))
    # 8 persons: common(7) + 1 × (common(7) − common(6)), neither in the 2026 table → norm_gemensamma empty.
    # personal: 7 100 + 3 × 3 820 (7, 8, 9 y) + 3 × 4 390 (11, 12, 13 y) = 7 100 + 11 460 + 13 170 = 31 730
    # rent 10 500 ≤ 11 000 (5–6 children)
    assert result.reasons == (oracle.NORM_FIGURE_MISSING,) and result.empty_fields == ("norm_gemensamma",)
    assert result.fields["norm_personliga"] == 31730 and result.fields["boende"] == 10500


def test_2026_every_reason_in_contract_order() -> None:
    members = [m26("A", "sokande", 30), m26("B", "barn", 19)]
    result = oracle.expected_outcome(facts26(
        members, costs={"boende": 9999}, incomes=[("A", "inkomst_utland", 2000), ("A", "sjukpenning", 1000)],
        application_type="Nyansökan", bistand_sedan=None,
        registered=frozenset({"A", "B", "X"}), protected=frozenset({"B"}), gaps=frozenset({"A"})))
    assert result.outcome == "manual" and result.fields == {} and result.empty_fields == oracle.FORM_FIELDS
    assert result.reasons == (oracle.FIRST_APPLICATION, oracle.PROTECTED_IDENTITY, oracle.AGENCY_NO_ANSWER,
                              oracle.HOUSEHOLD_MISMATCH, oracle.UNKNOWN_INCOME_TYPE, oracle.INCOME_DEVIATION,
                              oracle.RENT_ABOVE_CAP, oracle.YOUNG_ADULT_SCHOOL, oracle.NORM_FIGURE_MISSING)


# -- 12. 2025: no figure at all ------------------------------------------------------------------------------------

def test_2025_household_gets_both_norm_fields_empty() -> None:
    members = [m("A", "sokande", 45, period=P25), m("B", "barn", 9, period=P25)]
    result = oracle.expected_outcome(facts(
        members, costs={"boende": 6000, "hushallsel": 300}, incomes=[("A", "barnbidrag", 1250)],
        reported={("A", "barnbidrag"): 1250}, period=P25, bistand_sedan="2025-01"))
    # No 2025 amounts in any source: neither the single adult's + 9 y figure nor common(2) → both empty.
    # Rent 6 000 ≤ 6 192 (Högsby, 1 adult + 1 child: the 2025 cap); costs and incomes are written as usual.
    assert result.outcome == "partial" and result.reasons == (oracle.NORM_FIGURE_MISSING,)
    assert result.empty_fields == ("norm_personliga", "norm_gemensamma")
    assert result.fields == without(zeros(boende=6000, hushallsel=300, barnbidrag=1250),
                                    "norm_personliga", "norm_gemensamma")


def test_2025_a_manual_reason_still_makes_the_whole_case_manual() -> None:
    result = oracle.expected_outcome(facts([m("A", "sokande", 30, period=P25)], costs={"boende": 4000},
                                           application_type="Nyansökan", bistand_sedan=None, period=P25))
    assert result.outcome == "manual" and result.reasons == (oracle.FIRST_APPLICATION, oracle.NORM_FIGURE_MISSING)
    assert result.fields == {} and result.empty_fields == oracle.FORM_FIELDS


# -- 13. rent caps by period: Högsby up to 2025-12, Sundsvall from 2026-01 --------------------------------------------

def add_month(period: str, delta: int) -> str:
    index = int(period[:4]) * 12 + int(period[5:7]) - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _rent_case(period: str, members: list[Member], rent: int) -> oracle.Expected:
    return oracle.expected_outcome(facts(members, costs={"boende": rent}, period=period,
                                         bistand_sedan=add_month(period, -1)))


@pytest.mark.parametrize(("birth", "rent", "above"), [
    (dt.date(1998, 1, 1), 5800, False),    # 28 on 2026-12-31: cap 5 800
    (dt.date(1998, 1, 1), 5801, True),
    (dt.date(1997, 12, 31), 5801, False),  # turns 29 on the period's last day: cap 6 800
    (dt.date(1997, 12, 31), 6800, False),
    (dt.date(1997, 12, 31), 6801, True),
])
def test_2026_rent_cap_without_children_goes_by_the_sokandes_age(birth: dt.date, rent: int, above: bool) -> None:
    result = _rent_case(P26, [Member("A", "sokande", birth)], rent)
    assert (oracle.RENT_ABOVE_CAP in result.reasons) is above and ("boende" in result.empty_fields) is above


@pytest.mark.parametrize(("roles_ages", "rent", "above"), [
    ([("sokande", 25), ("medsokande", 40)], 5801, True),    # two adults alike: the sokande's age decides
    ([("sokande", 40), ("medsokande", 25)], 6800, False),
    ([("sokande", 25), ("ovrig_vuxen", 50)], 5801, True),   # an ovrig_vuxen is neither adult nor child here
    ([("sokande", 25), ("barn", 8)], 7900, False),          # 1–2 children: 7 900, whatever the age
    ([("sokande", 40), ("barn", 8), ("barn", 9)], 7901, True),
    ([("sokande", 40)] + [("barn", 8)] * 3, 9900, False),   # 3–4 children: 9 900
    ([("sokande", 40)] + [("barn", 8)] * 4, 9901, True),
    ([("sokande", 40)] + [("barn", 8)] * 5, 11000, False),  # 5–6 children: 11 000
    ([("sokande", 40)] + [("barn", 8)] * 6, 11001, True),
    ([("sokande", 40)] + [("barn", 8)] * 7, 14200, False),  # 7 or more: 14 200
    ([("sokande", 40)] + [("barn", 8)] * 8, 14201, True),
])
def test_2026_sundsvall_rent_caps(roles_ages: list[tuple[str, int]], rent: int, above: bool) -> None:
    members = [m26(f"P{i}", role, age) for i, (role, age) in enumerate(roles_ages)]
    result = _rent_case(P26, members, rent)
    assert (oracle.RENT_ABOVE_CAP in result.reasons) is above and ("boende" in result.empty_fields) is above
    if not above:
        assert result.fields["boende"] == rent


@pytest.mark.parametrize(("period", "rent", "above"), [
    ("2025-12", 4474, False),  # Högsby: 1 adult 4 474
    ("2025-12", 4475, True),
    ("2026-01", 4475, False),  # Sundsvall: no children, sokande 25 → 5 800
    ("2026-01", 5801, True),
])
def test_hogsby_caps_until_2025_12_sundsvall_from_2026_01(period: str, rent: int, above: bool) -> None:
    young = Member("A", "sokande", dt.date(2000, 3, 10))  # 25 at the end of both months
    result = _rent_case(period, [young], rent)
    assert (oracle.RENT_ABOVE_CAP in result.reasons) is above


def test_hogsby_caps_with_children_until_2025_12() -> None:
    family = [Member("A", "sokande", dt.date(1985, 3, 1)), Member("P", "medsokande", dt.date(1986, 3, 1)),
              Member("B", "barn", dt.date(2016, 3, 1))]
    # 1–2 adults + 1 child: Högsby 6 192 in 2025-12, Sundsvall 7 900 in 2026-01
    assert oracle.RENT_ABOVE_CAP in _rent_case("2025-12", family, 6193).reasons
    assert oracle.RENT_ABOVE_CAP not in _rent_case("2026-01", family, 6193).reasons
    assert oracle.RENT_ABOVE_CAP in _rent_case("2026-01", family, 7901).reasons


def test_the_2026_table_matches_the_governments_totals() -> None:
    norms = oracle.NORMS[2026]
    assert norms.single == 3940 and norms.common[0] == 1280  # 5 220
    assert norms.pair == 7100 and norms.common[1] == 1410  # 8 510
    assert all(figure is None for figure in (*oracle.NORMS[2025].children, oracle.NORMS[2025].single,
                                             oracle.NORMS[2025].pair, *oracle.NORMS[2025].common))
