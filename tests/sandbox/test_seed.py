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
    return seed.generate_world(500, 11)


def test_every_generated_pnr_is_valid_unique_and_matches_the_person(world: seed.World) -> None:
    numbers = [p.pnr for p in world.persons]
    assert len(numbers) == len(set(numbers))
    for person in world.persons:
        assert re.fullmatch(r"\d{12}", person.pnr) and pnr.is_valid(person.pnr), person.pnr
        assert pnr.birth_date(person.pnr) == person.birth_date


def test_same_seed_same_world_other_seed_other_world() -> None:
    assert seed.generate_world(40, 5) == seed.generate_world(40, 5)
    assert seed.generate_world(40, 5) != seed.generate_world(40, 6)
    assert seed.generate_world(40, 5, "2021-10") != seed.generate_world(40, 5)


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
    months = [oracle.months_between(c.bistand_sedan, c.period) for c in world.cases if c.bistand_sedan]
    assert any(6 <= n <= 29 for n in months) and any(n < 6 for n in months) and any(n > 29 for n in months)
    assert {5, 6, 29, 30} <= set(months)
    assert all(c.bistand_sedan is None for c in world.cases if c.application_type == "Nyansökan")


def test_awkward_names_are_present() -> None:
    people = [(m.first_name, m.last_name) for c in seed.generate_world(50, 1).cases for m in c.members]
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


# -- the database --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    data_dir = tmp_path_factory.mktemp("seeded")
    return data_dir, seed.seed_database(data_dir, 500, 7)


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


def test_expected_outcomes_follow_the_kinds(seeded: tuple[Path, dict[str, object]]) -> None:
    ordinary_partial = {oracle.YOUNG_ADULT_SCHOOL, oracle.NORM_FIGURE_MISSING}
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
            assert (row["outcome"] == "auto") == (not reasons)
    assert outcomes["auto"] > 300 and outcomes["partial"] > 0 and outcomes["manual"] > 0


def test_same_seed_same_database(tmp_path: Path) -> None:
    dumps = []
    for name in ("a", "b"):
        seed.seed_database(tmp_path / name, 30, 3)
        conn = db.connect(db.db_path(tmp_path / name))
        dumps.append([tuple(r) for t in seed.WORLD_TABLES
                      for r in conn.execute(f"SELECT * FROM {t} ORDER BY rowid")])
        conn.close()
    assert dumps[0] == dumps[1]


def test_reseed_overwrites_and_a_bad_period_keeps_the_old_database(tmp_path: Path) -> None:
    seed.seed_database(tmp_path, 12, 1)
    seed.seed_database(tmp_path, 5, 2)
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
