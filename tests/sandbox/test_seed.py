"""The seed: synthetic personnummer, deterministic worlds, the share and kinds of complex cases, a full database."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from portals import db, oracle, pnr, seed
from portals.__main__ import main as portals_main

# -- personnummer -------------------------------------------------------------------------------------------------

# 811218-987?: digits × 2,1,2,1,…: 8·2=16→7, 1, 1·2=2, 2, 1·2=2, 8, 9·2=18→9, 8, 7·2=14→5; sum 44 → check 6.
# 640823-323?: 12→3, 4, 0, 8, 4, 3, 6, 2, 6; sum 36 → check 4.
VALID = ["811218-9876", "19811218-9876", "198112189876", "8112189876", "640823-3234", "19640823-3234"]
INVALID = ["811218-9877", "19640823-3235", "811318-9876", "811232-9876", "811218-987", "abcdef-ghij", ""]


@pytest.mark.parametrize("text", VALID)
def test_known_valid_numbers(text: str) -> None:
    assert pnr.is_valid(text)


@pytest.mark.parametrize("text", INVALID)
def test_known_invalid_numbers(text: str) -> None:
    assert not pnr.is_valid(text)


def test_check_digit_and_forms() -> None:
    assert pnr.luhn_check_digit("811218987") == 6 and pnr.luhn_check_digit("640823323") == 4
    number = pnr.make_pnr(dt.date(1985, 1, 1), 982)
    assert re.fullmatch(r"19850101982\d", number) and pnr.is_valid(number)
    assert pnr.to_display(number) == f"850101-982{number[-1]}"
    assert pnr.to_dashed(number) == f"19850101-982{number[-1]}"
    assert pnr.mask(number) == "19850101-XXXX" and pnr.mask(pnr.to_dashed(number)) == "19850101-XXXX"
    assert pnr.birth_date(number) == dt.date(1985, 1, 1) and pnr.is_female(number)
    old = pnr.make_pnr(dt.date(1920, 5, 5), 991)
    assert pnr.to_display(old, on=dt.date(2024, 12, 31)).startswith("200505+")
    coordination = pnr.make_pnr(dt.date(1980, 3, 1), 238, coordination=True)
    assert coordination.startswith("19800361") and pnr.is_valid(coordination)
    assert pnr.birth_date(coordination) == dt.date(1980, 3, 1)


# -- the generated world -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world() -> seed.World:
    return seed.generate_world(500, 11, "2024-12")


def test_every_generated_pnr_is_valid_unique_and_matches_the_person(world: seed.World) -> None:
    numbers = [p.pnr for p in world.persons]
    assert len(numbers) == len(set(numbers))
    for person in world.persons:
        assert re.fullmatch(r"\d{12}", person.pnr) and pnr.is_valid(person.pnr), person.pnr
        assert pnr.birth_date(person.pnr) == person.birth_date


def test_same_seed_same_world_other_seed_other_world() -> None:
    assert seed.generate_world(40, 5, "2024-12") == seed.generate_world(40, 5, "2024-12")
    assert seed.generate_world(40, 5, "2024-12") != seed.generate_world(40, 6, "2024-12")
    assert seed.generate_world(40, 5, "2021-10") != seed.generate_world(40, 5, "2024-12")


def test_complex_share_and_every_kind(world: seed.World) -> None:
    kinds = Counter(c.kind for c in world.cases)
    share = sum(n for k, n in kinds.items() if k != seed.SIMPLE) / len(world.cases)
    assert 0.15 <= share <= 0.25
    assert set(seed.COMPLEX_KINDS) <= set(kinds)


def test_households_are_varied(world: seed.World) -> None:
    births = {p.pnr: p.birth_date for p in world.persons}
    end = oracle.period_end(world.period)
    shapes = Counter()
    child_ages: set[int] = set()
    for case in world.cases:
        roles = Counter(m.role for m in case.members)
        assert roles["sokande"] == 1 and case.members[0].role == "sokande" and roles["medsokande"] <= 1
        shapes[("couple" if roles["medsokande"] else "single") + ("+children" if roles["barn"] else "")] += 1
        shapes["ovrig_vuxen"] += roles["ovrig_vuxen"] > 0
        shapes["large"] += len(case.members) - roles["ovrig_vuxen"] > 7
        for member in case.members:
            age = oracle.age_at(births[member.pnr], end)
            if member.role == "barn":
                child_ages.add(age)
                assert age <= 20
                assert not member.lunch_i_forskola or age <= 6
            else:
                assert age >= 18
    assert all(shapes[s] >= 5 for s in ("single", "single+children", "couple", "couple+children", "ovrig_vuxen"))
    assert shapes["large"] >= 3
    assert child_ages == set(range(21))
    assert any(m.lunch_i_forskola for c in world.cases for m in c.members)


def test_case_ids_caseworkers_addresses(world: seed.World) -> None:
    assert [c.case_id for c in world.cases[:3]] == ["EB-2024-00001", "EB-2024-00002", "EB-2024-00003"]
    assert [c.caseworker for c in world.cases[:4]] == ["handlaggare1", "handlaggare2", "handlaggare3", "handlaggare1"]
    addresses = [c.address for c in world.cases]
    assert len(set(addresses)) == len(addresses)
    assert all(re.fullmatch(r"[^\d,]+ \d+ lgh \d{4}, \d{3} \d{2} Trelleborg", a) for a in addresses)


def test_bistand_sedan_spreads_around_jobbstimulans(world: seed.World) -> None:
    # The decision history decides jobbstimulans now (test_seed_history.py); bistand_sedan still follows the spell.
    months = [oracle.months_between(c.bistand_sedan, c.period) for c in world.cases if c.bistand_sedan]
    assert any(6 <= n <= 29 for n in months) and any(n < 6 for n in months) and any(n > 29 for n in months)
    assert {5, 6, 29, 30} <= set(months)
    assert all(c.bistand_sedan is None for c in world.cases if c.application_type == "Nyansökan")
    # A household back this month after a pause has no current spell.
    assert any(c.bistand_sedan is None for c in world.cases if c.application_type == "Återansökan")


def test_awkward_names_are_present() -> None:
    people = [(m.first_name, m.last_name) for c in seed.generate_world(50, 1, "2024-12").cases for m in c.members]
    text = " ".join(f"{f} {last}" for f, last in people)
    assert "-" in text and "'" in text and re.search("[ÅÄÖåäö]", text)
    assert max(len(last) for _, last in people) >= 40


def test_agencies_hold_the_period_month_and_the_two_before(world: seed.World) -> None:
    months = {"2024-10", "2024-11", "2024-12"}
    assert {p.month for p in world.fk_payments} == months
    assert {p.month for p in world.csn_payments} == months
    assert {p.kind for p in world.csn_payments} == {"studiebidrag", "studielan", "studiehjalp"}
    assert {"barnbidrag", "bostadsbidrag", "underhallsstod", "sjukpenning", "aktivitetsstod",
            "foraldrapenning"} <= {p.benefit for p in world.fk_payments}


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        seed.generate_world(5, 1, "2024-13")
    with pytest.raises(ValueError):
        seed.generate_world(5, 1, "2019-05")  # no norm table for 2019 in the sandbox
    with pytest.raises(ValueError):
        seed.generate_world(5, 1, "2027-01")  # nor for 2027: a year with no table stops, it is no case outcome


# -- the database --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    data_dir = tmp_path_factory.mktemp("seeded")
    return data_dir, seed.seed_database(data_dir, 500, 7, "2024-12")


def _query(data_dir: Path, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
    conn = db.connect(db.db_path(data_dir))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_every_table_is_filled(seeded: tuple[Path, dict[str, object]]) -> None:
    data_dir, summary = seeded
    tables = [r["name"] for r in _query(data_dir, "SELECT name FROM sqlite_master WHERE type = 'table'")]
    runtime = {"sb_knobs", "sb_sessions", "sqlite_sequence"}
    for table in tables:
        if table not in runtime:
            assert _query(data_dir, f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] > 0, table
    assert summary["cases"] == 500
    meta = {r["key"]: r["value"] for r in _query(data_dir, "SELECT * FROM sb_meta")}
    assert meta["seed"] == "7" and meta["period"] == "2024-12" and meta["n"] == "500"


def test_logins(seeded: tuple[Path, dict[str, object]]) -> None:
    users = {(r["portal"], r["username"], r["password"], r["role"])
             for r in _query(seeded[0], "SELECT * FROM sb_users")}
    assert users == {("casesystem", "robot", "robot-pass", "robot"),
                     *{("casesystem", f"handlaggare{i}", "hl-pass", "caseworker") for i in (1, 2, 3)},
                     *{(p, "kommun", f"{p}-pass", "myndighet") for p in ("skv", "fk", "af", "csn")}}


def test_everyone_is_in_the_register(seeded: tuple[Path, dict[str, object]]) -> None:
    data_dir = seeded[0]
    assert not _query(data_dir, "SELECT pnr FROM cs_household WHERE pnr NOT IN (SELECT pnr FROM skv_persons)")
    assert not _query(data_dir, "SELECT pnr FROM skv_persons WHERE pnr NOT IN (SELECT pnr FROM skv_registrations)")
    adults_without_af = _query(
        data_dir, "SELECT h.pnr FROM cs_household h JOIN skv_persons p ON p.pnr = h.pnr "
                  "WHERE p.birth_date <= '2006-12-31' AND h.pnr NOT IN (SELECT pnr FROM af_status)")
    assert not adults_without_af
    # Every case arrives new; only the preflight's reference case (tests/sandbox/test_reference_case.py) is not.
    cases = _query(data_dir, "SELECT * FROM cs_cases WHERE case_id != ?", (seed.reference_case_id("2024-12"),))
    assert len(cases) == 500 and all(r["status"] == "inkommen" and r["version"] == 1 for r in cases)


# Besides the triage reasons of its kind, any case may have the decision history's: JOBBSTIMULANS_UNKNOWN and the
# change reasons (which ones, and why: test_seed_history.py).
HISTORY_REASONS = {oracle.JOBBSTIMULANS_UNKNOWN, *oracle.CHANGE_CODES}


def test_expected_outcomes_follow_the_kinds(seeded: tuple[Path, dict[str, object]]) -> None:
    ordinary_partial = {oracle.YOUNG_ADULT_SCHOOL, oracle.NORM_FIGURE_MISSING} | HISTORY_REASONS
    rows = _query(seeded[0], "SELECT * FROM sb_expected")
    assert len(rows) == 500
    outcomes = Counter()
    for row in rows:
        reasons = set(json.loads(row["reasons_json"]))
        fields, empty = json.loads(row["fields_json"]), json.loads(row["empty_fields_json"])
        outcomes[row["outcome"]] += 1
        if row["kind"] == seed.SIMPLE:
            assert reasons <= ordinary_partial, (row["case_id"], reasons)
        else:
            assert seed.KIND_REASON[row["kind"]] in reasons, (row["case_id"], row["kind"], reasons)
        if row["outcome"] == "manual":
            assert fields == {} and empty == list(oracle.FORM_FIELDS)
        else:
            assert set(fields) | set(empty) == set(oracle.FORM_FIELDS) and not set(fields) & set(empty)
            assert (row["outcome"] == "auto") == (reasons <= oracle.WARNING_CODES)
    # Most cases are automatic (the history's partial reasons – a household or address change, a jobbstimulans the
    # thinned history cannot tell – take a few from them).
    assert outcomes["auto"] > 250 and outcomes["partial"] > 0 and outcomes["manual"] > 0


def test_same_seed_same_database(tmp_path: Path) -> None:
    dumps = []
    for name in ("a", "b"):
        seed.seed_database(tmp_path / name, 30, 3, "2024-12")
        conn = db.connect(db.db_path(tmp_path / name))
        dumps.append([tuple(r) for t in seed.WORLD_TABLES
                      for r in conn.execute(f"SELECT * FROM {t} ORDER BY rowid")])
        conn.close()
    assert dumps[0] == dumps[1]


def test_reseed_overwrites_and_a_bad_period_keeps_the_old_database(tmp_path: Path) -> None:
    seed.seed_database(tmp_path, 12, 1, "2024-12")
    seed.seed_database(tmp_path, 5, 2, "2024-12")
    assert _query(tmp_path, "SELECT COUNT(*) AS n FROM cs_cases")[0]["n"] == 5 + 1  # and the reference case
    with pytest.raises(ValueError):
        seed.seed_database(tmp_path, 5, 2, "2019-01")
    assert _query(tmp_path, "SELECT COUNT(*) AS n FROM cs_cases")[0]["n"] == 5 + 1


def test_a_2021_world_has_the_lower_lunch_figures(tmp_path: Path) -> None:
    summary = seed.seed_database(tmp_path, 200, 4, "2021-10")
    assert summary["period"] == "2021-10"
    reasons = [json.loads(r["reasons_json"]) for r in _query(tmp_path, "SELECT reasons_json FROM sb_expected")]
    assert not any(oracle.NORM_FIGURE_MISSING in r for r in reasons)
    months = {r["month"] for r in _query(tmp_path, "SELECT DISTINCT month FROM fk_payments")}
    assert months == {"2021-08", "2021-09", "2021-10"}


# -- the period: the current month by default, any month with a norm table by choice ----------------------------------

def _meta(data_dir: Path) -> dict[str, str]:
    return {r["key"]: r["value"] for r in _query(data_dir, "SELECT key, value FROM sb_meta")}


def test_the_default_period_is_the_current_month(tmp_path: Path) -> None:
    assert seed.current_period(dt.date(2026, 1, 31)) == "2026-01"
    before = dt.date.today().strftime("%Y-%m")
    if int(before[:4]) not in oracle.NORMS:  # a year without a norm table: seeding refuses, it does not guess
        with pytest.raises(ValueError, match=before[:4]):
            portals_main(["seed", "--data", str(tmp_path), "--cases", "3"])
        return
    assert portals_main(["seed", "--data", str(tmp_path), "--cases", "3", "--seed", "2"]) == 0
    world_period = seed.generate_world(3, 2).period
    after = dt.date.today().strftime("%Y-%m")  # the test may straddle midnight at a month's end
    assert _meta(tmp_path)["period"] in {before, after} and world_period in {before, after}


@pytest.fixture(scope="module", params=["2024-12", "2025-06", "2026-12"])
def seeded_by_cli(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`python -m portals seed ... --period P`, as the brief's commands run it, for a month of each year."""
    period = request.param
    data_dir = tmp_path_factory.mktemp(f"cli-{period}")
    assert portals_main(["seed", "--data", str(data_dir), "--cases", "200", "--seed", "1", "--period", period]) == 0
    return data_dir, period


def _expected_rows(data_dir: Path) -> list[tuple[sqlite3.Row, set[str], dict[str, int], list[str], list[str]]]:
    """(row, reasons, fields, empty fields, the household's roles) per case."""
    roles: dict[str, list[str]] = {}
    for r in _query(data_dir, "SELECT case_id, role FROM cs_household ORDER BY case_id, position"):
        roles.setdefault(r["case_id"], []).append(r["role"])
    return [(r, set(json.loads(r["reasons_json"])), json.loads(r["fields_json"]), json.loads(r["empty_fields_json"]),
             roles[r["case_id"]]) for r in _query(data_dir, "SELECT * FROM sb_expected ORDER BY case_id")]


def test_a_chosen_period_names_the_cases_and_the_agency_months(seeded_by_cli: tuple[Path, str]) -> None:
    data_dir, period = seeded_by_cli
    year = period[:4]
    meta = _meta(data_dir)
    assert meta["period"] == period and meta["reference_case"] == f"TEST-{year}-0001"
    case_ids = [r["case_id"] for r in _query(data_dir, "SELECT case_id FROM cs_cases WHERE period = ? "
                                                       "ORDER BY case_id", (period,))]
    assert len(case_ids) == 201 and case_ids[0] == f"EB-{year}-00001" and case_ids[-1] == f"TEST-{year}-0001"
    months = {seed.add_months(period, d) for d in (-2, -1, 0)}
    assert {r["month"] for r in _query(data_dir, "SELECT DISTINCT month FROM fk_payments")} == months
    # Every member is of age for their role on the period's last day (birth dates follow the period).
    end = oracle.period_end(period)
    for r in _query(data_dir, "SELECT h.role, p.birth_date FROM cs_household h JOIN skv_persons p ON p.pnr = h.pnr"):
        age = oracle.age_at(dt.date.fromisoformat(r["birth_date"]), end)
        assert age <= 20 if r["role"] == "barn" else age >= 18


def test_the_kinds_still_trigger_their_reasons_in_any_year(seeded_by_cli: tuple[Path, str]) -> None:
    data_dir, _ = seeded_by_cli
    ordinary_partial = {oracle.YOUNG_ADULT_SCHOOL, oracle.NORM_FIGURE_MISSING} | HISTORY_REASONS
    kinds = set()
    for row, reasons, _, _, _ in _expected_rows(data_dir):
        kinds.add(row["kind"])
        if row["kind"] == seed.SIMPLE:
            assert reasons <= ordinary_partial, (row["case_id"], reasons)
        else:
            assert seed.KIND_REASON[row["kind"]] in reasons, (row["case_id"], row["kind"], reasons)
        # Rent goes above the cap in force exactly where it is meant to.
        assert (oracle.RENT_ABOVE_CAP in reasons) is (row["kind"] == "rent_above_cap"), row["case_id"]
    assert set(seed.COMPLEX_KINDS) <= kinds


def test_norm_figures_missing_by_year(seeded_by_cli: tuple[Path, str]) -> None:
    data_dir, period = seeded_by_cli
    rows = _expected_rows(data_dir)
    missing = [oracle.NORM_FIGURE_MISSING in reasons for _, reasons, _, _, _ in rows]
    if period.startswith("2025"):
        assert all(missing)
        for row, _, fields, empty, _ in rows:
            if row["outcome"] != "manual":
                assert {"norm_personliga", "norm_gemensamma"} <= set(empty) and "norm_personliga" not in fields
    elif period.startswith("2026"):
        assert any(missing) and not all(missing)
        for row, reasons, fields, empty, roles in rows:
            if row["outcome"] == "manual":
                continue
            if roles == ["sokande"]:  # a single adult: 3 940 + 1 280, both known
                assert (fields["norm_personliga"], fields["norm_gemensamma"]) == (3940, 1280)
            if len(roles) == 3:  # common(3) is in no source: never written
                assert "norm_gemensamma" in empty and oracle.NORM_FIGURE_MISSING in reasons
    else:  # 2024: only the "utan lunch" figures are missing
        lunch = {r["case_id"] for r in _query(data_dir, "SELECT case_id FROM cs_household WHERE lunch_i_forskola = 1")}
        assert lunch and [row["case_id"] in lunch for row, _, _, _, _ in rows] == missing


def test_2026_rents_follow_the_sokandes_age() -> None:
    """Without children the 2026 cap is 5 800 up to 28 and 6 800 from 29: the seed draws rents under the cap for
    the applicant's age, so older childless applicants may pay more than 5 800 without being above their cap."""
    world = seed.generate_world(300, 1, "2026-12")
    births = {p.pnr: p.birth_date for p in world.persons}
    end = oracle.period_end(world.period)
    ages_rents = [(oracle.age_at(births[c.applicant.pnr], end), dict(c.costs)["boende"]) for c in world.cases
                  if c.kind != "rent_above_cap" and not any(m.role == "barn" for m in c.members)]
    assert all(rent <= (5800 if age <= 28 else 6800) for age, rent in ages_rents)
    assert any(age >= 29 and rent > 5800 for age, rent in ages_rents)
    assert any(age <= 28 for age, _ in ages_rents)
