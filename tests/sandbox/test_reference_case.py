"""The reference case ("testärende") the seed adds for the robot's read-only preflight: a fixed household with
data at every agency, parked in manual handling, outside `World.cases` and `sb_expected`, and without any effect
on the ordinary cases of a seed."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from portals import db, oracle, pnr, seed
from tests.sandbox.casesystem_helpers import FRAME, login, open_in_frame
from tests.sandbox.test_agencies import csn_search, fk_search, skv_search
from tests.sandbox.test_agencies import login as agency_login
from tests.sandbox_proc import Sandbox

# -- the generated world -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "seed_value", "period"), [(40, 5, "2024-12"), (150, 11, "2021-10"), (60, 2, "2024-08")])
def test_the_reference_case_leaves_the_cases_of_a_seed_as_they_were(n: int, seed_value: int, period: str) -> None:
    plain = seed.generate_world(n, seed_value, period, reference=False)
    world = seed.generate_world(n, seed_value, period)
    assert plain.reference is None and world.reference is not None
    assert world.cases == plain.cases
    assert world.reference not in world.cases and len(world.cases) == n
    # Its people and agency data come after everyone else's; what was there before is untouched.
    for name in ("persons", "registrations", "fk_payments", "csn_payments", "af_statuses", "gaps", "users"):
        before, after = getattr(plain, name), getattr(world, name)
        assert after[: len(before)] == before, name
    assert world.gaps == plain.gaps  # the reference case has no agency gaps
    # Same seed, same reference case.
    assert seed.generate_world(n, seed_value, period).reference == world.reference


def test_the_reference_household() -> None:
    world = seed.generate_world(80, 3, "2024-12")
    ref = world.reference
    assert ref is not None and ref.case_id == "TEST-2024-0001" == seed.reference_case_id(world.period)
    assert seed.generate_world(5, 3, "2021-10").reference.case_id == "TEST-2021-0001"  # type: ignore[union-attr]
    assert (ref.kind, ref.caseworker, ref.application_type, ref.period) == (
        seed.REFERENCE, "handlaggare1", "Återansökan", world.period)
    persons = {p.pnr: p for p in world.persons}
    end = oracle.period_end(world.period)
    members = [(m.first_name, m.last_name, m.role, oracle.age_at(persons[m.pnr].birth_date, end))
               for m in ref.members]
    assert members[0] == ("Tolvan", "Tolvansson", "sokande", members[0][3])
    assert [(role, age) for _, _, role, age in members[1:]] == [("medsokande", members[1][3]), ("barn", 9), ("barn", 4)]
    assert all(age >= 18 for _, _, _, age in members[:2])
    assert not any(persons[m.pnr].protected for m in ref.members)
    assert all(pnr.is_valid(m.pnr) for m in ref.members)
    others = {m.pnr for c in world.cases for m in c.members}
    assert not others & {m.pnr for m in ref.members}
    assert len(world.persons) == len(persons)  # no personnummer given out twice
    assert ref.address not in {c.address for c in world.cases}
    assert {m.pnr for m in ref.members} <= {r.pnr for r in world.registrations if r.address == ref.address}


# -- the database --------------------------------------------------------------------------------------------------

SEED, CASES, PERIOD = 3, 30, "2024-12"
MONTHS = ["2024-10", "2024-11", "2024-12"]


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    data_dir = tmp_path_factory.mktemp("reference")
    seed.seed_database(data_dir, CASES, SEED, PERIOD)
    connection = db.connect(db.db_path(data_dir))
    try:
        yield connection
    finally:
        connection.close()


def _meta(conn: sqlite3.Connection) -> dict[str, str]:
    return {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM sb_meta")}


def _household(conn: sqlite3.Connection, case_id: str) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    for r in conn.execute("SELECT pnr, role FROM cs_household WHERE case_id = ? ORDER BY position", (case_id,)):
        roles.setdefault(r["role"], []).append(r["pnr"])
    return roles


def test_the_reference_case_is_under_way_with_a_caseworker_and_not_expected(conn: sqlite3.Connection) -> None:
    meta = _meta(conn)
    ref = meta["reference_case"]
    assert ref == "TEST-2024-0001" and meta["n"] == str(CASES)
    case = conn.execute("SELECT * FROM cs_cases WHERE case_id = ?", (ref,)).fetchone()
    assert case["status"] == "under_behandling" and case["caseworker"] == "handlaggare1" == case["assigned_to"]
    assert case["manual_reason"] is None
    # The reference pnr is the applicant as the case system prints it; the tables hold the 12 digits.
    assert re.fullmatch(r"\d{8}-\d{4}", meta["reference_pnr"])
    assert meta["reference_pnr"].replace("-", "") == case["applicant_pnr"]
    assert re.fullmatch(r"\d{12}", case["applicant_pnr"])
    # Not among the expected outcomes; every ordinary case is, and is new.
    expected = [r["case_id"] for r in conn.execute("SELECT case_id FROM sb_expected")]
    assert ref not in expected and len(expected) == CASES
    others = conn.execute("SELECT case_id, status FROM cs_cases WHERE case_id != ?", (ref,)).fetchall()
    assert sorted(expected) == sorted(r["case_id"] for r in others)
    assert {r["status"] for r in others} == {"inkommen"}
    # Not new work for the robot: it takes `inkommen` cases (tests/run proves it never touches this one).
    assert not conn.execute("SELECT 1 FROM cs_cases WHERE case_id = ? AND status = 'inkommen'", (ref,)).fetchall()


def test_the_reference_application_fills_every_tab(conn: sqlite3.Connection) -> None:
    ref = _meta(conn)["reference_case"]
    roles = _household(conn, ref)
    assert {k: len(v) for k, v in roles.items()} == {"sokande": 1, "medsokande": 1, "barn": 2}
    costs = {r["field"]: r["amount"] for r in conn.execute("SELECT * FROM cs_declared_costs WHERE case_id = ?", (ref,))}
    assert {"boende", "hushallsel", "hemforsakring"} <= set(costs) and all(v > 0 for v in costs.values())
    incomes = {(r["pnr"], r["income_type"]) for r in conn.execute(
        "SELECT * FROM cs_declared_incomes WHERE case_id = ?", (ref,))}
    assert (roles["sokande"][0], "barnbidrag") in incomes
    calc = conn.execute("SELECT field, value FROM cs_calc WHERE case_id = ?", (ref,)).fetchall()
    assert sorted(r["field"] for r in calc) == sorted(oracle.FORM_FIELDS) and all(r["value"] is None for r in calc)
    assert conn.execute("SELECT COUNT(*) FROM cs_journal WHERE case_id = ?", (ref,)).fetchone()[0] >= 1
    # Declared as the agencies pay: consistent, so a preflight that reads it finds nothing odd; fourteen months of
    # decisions like this one (no change reason), in a jobbstimulans window nobody's wage needs.
    verdict = oracle.expected_outcome(oracle.load_case_facts(conn, ref))
    assert verdict.outcome == "auto" and verdict.reasons == ()
    assert conn.execute("SELECT COUNT(*) FROM cs_decisions WHERE case_id = ?", (ref,)).fetchone()[0] == 14


def test_the_reference_household_is_known_to_every_agency(conn: sqlite3.Connection) -> None:
    ref = _meta(conn)["reference_case"]
    case = conn.execute("SELECT * FROM cs_cases WHERE case_id = ?", (ref,)).fetchone()
    roles = _household(conn, ref)
    applicant, partner = roles["sokande"][0], roles["medsokande"][0]
    everyone = [applicant, partner, *roles["barn"]]
    marks = ", ".join("?" * len(everyone))
    # SKV: all in the register, none protected, all living at the case address for more than a year.
    persons = conn.execute(f"SELECT * FROM skv_persons WHERE pnr IN ({marks})", everyone).fetchall()
    assert len(persons) == 4 and not any(p["protected"] for p in persons)
    end = oracle.period_end(PERIOD)
    for person in everyone:
        latest = conn.execute("SELECT address, from_date FROM skv_registrations WHERE pnr = ? "
                              "ORDER BY from_date DESC LIMIT 1", (person,)).fetchone()
        assert latest["address"] == case["address"]
        assert dt.date.fromisoformat(latest["from_date"]) <= end - dt.timedelta(days=365)
    # No gaps at any agency for anyone in the household.
    assert not conn.execute(f"SELECT * FROM agency_gaps WHERE pnr IN ({marks})", everyone).fetchall()
    # FK: barnbidrag every month to the applicant, and bostadsbidrag.
    fk = {(r["benefit"], r["month"]) for r in conn.execute("SELECT * FROM fk_payments WHERE pnr = ?", (applicant,))}
    assert {("barnbidrag", m) for m in MONTHS} <= fk and {("bostadsbidrag", m) for m in MONTHS} <= fk
    # AF: the applicant registered, with an activity and a date; the partner has a row too (not registered).
    af = conn.execute("SELECT * FROM af_status WHERE pnr = ?", (applicant,)).fetchone()
    assert af["registered"] == 1 and af["activity"] and af["from_date"]
    assert conn.execute("SELECT registered FROM af_status WHERE pnr = ?", (partner,)).fetchone()[0] == 0
    # CSN: the partner's studiebidrag every month.
    csn = {(r["kind"], r["month"]) for r in conn.execute("SELECT * FROM csn_payments WHERE pnr = ?", (partner,))}
    assert {("studiebidrag", m) for m in MONTHS} <= csn


# -- through the portals, as the preflight will see it -----------------------------------------------------------


@pytest.fixture(scope="module")
def reference(sandbox: Sandbox) -> dict[str, str]:
    connection = db.connect(db.db_path(Path(sandbox.data_dir)))
    try:
        meta = _meta(connection)
        roles = _household(connection, meta["reference_case"])
        return {"case": meta["reference_case"], "pnr": meta["reference_pnr"], "partner": pnr.to_dashed(
            roles["medsokande"][0]), "period": meta["period"]}
    finally:
        connection.close()


@pytest.mark.browser
def test_the_case_system_shows_the_reference_case_on_every_tab(fresh_sandbox: Sandbox, reference: dict[str, str],
                                                               page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    case_id = reference["case"]
    login(page, fresh_sandbox)
    frame = page.frame_locator(FRAME)
    frame.get_by_label("Ärende/personnummer").fill(case_id)
    frame.get_by_role("button", name="Filtrera").click()
    row = frame.get_by_test_id("inkorg-tabell").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Under behandling")
    expect(row).to_contain_text(reference["pnr"])
    frame.get_by_label("Status", exact=True).select_option("inkommen")
    frame.get_by_role("button", name="Filtrera").click()
    expect(frame.get_by_text("0 ärenden")).to_be_visible()  # not among the new cases the robot takes

    frame = open_in_frame(page, fresh_sandbox, f"/arende/{case_id}/sokande")
    expect(frame.get_by_role("heading", name=f"Ärende {case_id}")).to_be_visible()
    expect(frame.locator("table.grid tbody tr").filter(has_text="Tolvansson")).to_have_count(4)
    frame = open_in_frame(page, fresh_sandbox, f"/arende/{case_id}/ansokan")
    expect(frame.get_by_role("heading", name="Redovisade kostnader")).to_be_visible()
    for empty in ("Inga kostnader redovisade.", "Inga inkomster redovisade."):
        expect(frame.get_by_text(empty)).to_have_count(0)
    expect(frame.get_by_role("cell", name="hemforsakring", exact=True)).to_be_visible()
    expect(frame.get_by_role("cell", name="barnbidrag", exact=True)).to_be_visible()
    frame = open_in_frame(page, fresh_sandbox, f"/arende/{case_id}/historik")
    expect(frame.get_by_role("cell", name="Finns inte", exact=True)).to_be_visible()  # complete: 14 months
    expect(frame.get_by_role("cell", name="Beviljat", exact=True)).to_have_count(14)
    expect(frame.get_by_text("Inga tidigare beslut.")).to_have_count(0)
    frame = open_in_frame(page, fresh_sandbox, f"/arende/{case_id}/journal")
    expect(frame.get_by_text("Inga anteckningar.")).to_have_count(0)
    expect(frame.get_by_text(seed.REFERENCE_NOTE, exact=False)).to_be_visible()
    frame = open_in_frame(page, fresh_sandbox, f"/arende/{case_id}/berakning")
    expect(frame.get_by_test_id("spara-berakning")).to_be_visible()  # editable: every form is drawn


@pytest.mark.browser
def test_every_agency_shows_its_full_result_for_the_reference_household(
        fresh_sandbox: Sandbox, reference: dict[str, str], page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    applicant, partner = reference["pnr"], reference["partner"]
    # The shared sandbox is seeded for the current month: its agencies hold that month and the two before.
    months = [seed.add_months(reference["period"], delta) for delta in (-2, -1, 0)]
    agency_login(page, fresh_sandbox, "skv", "/sok")
    skv_search(page, applicant)
    expect(page.get_by_role("table", name="Folkbokförda på adressen").locator("tbody tr")).to_have_count(4)

    agency_login(page, fresh_sandbox, "fk", "/app")
    fk_search(page, applicant, months[0], months[-1])
    expect(page.locator("table tbody tr")).to_have_count(6)  # barnbidrag and bostadsbidrag, three months

    agency_login(page, fresh_sandbox, "af", "/sok")
    page.get_by_label("Personnummer").fill(applicant)
    page.get_by_role("button", name="Visa status").click()
    dds = page.frame_locator('iframe[title="Sökandestatus"]').locator("dl dd")
    expect(dds).to_have_count(4)
    texts = [t.strip() for t in dds.all_inner_texts()]
    assert texts[:2] == [applicant, "Ja"] and texts[2] not in ("", "–") and re.fullmatch(r"\d{4}-\d\d-\d\d", texts[3])

    agency_login(page, fresh_sandbox, "csn", "/sok")
    csn_search(page, partner)
    with page.expect_download() as info:
        page.get_by_role("link", name="Ladda ner utbetalningsbesked").click()
    lines = Path(info.value.path()).read_bytes().decode("utf-8-sig").splitlines()
    assert [line.split(";")[:2] for line in lines[1:] if "Studiebidrag" in line] == [[m, "Studiebidrag"]
                                                                                     for m in months]
