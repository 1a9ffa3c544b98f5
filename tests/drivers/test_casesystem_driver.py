"""The case-system driver against the real sandbox in real Chromium: what it reads equals what the sandbox's
database holds, what it writes is what the audit trail shows, and the layout upgrade is survived or reported."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.calc.fields import ALL_FIELDS
from bot.dev.sandbox import Sandbox
from bot.drivers.casesystem import CaseSystem
from bot.errors import ErrorCode, SystemException
from tests.drivers.conftest import ACCOUNTS
from tests.sandbox_proc import https_get, start_sandbox

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox of its own: these tests park and edit cases."""
    sandbox = start_sandbox(Path(tmp_path_factory.mktemp("cs-driver")), cases=24, seed=11)
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def db(box: Sandbox) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(box.data_dir / "sandbox.db")
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
async def cs(box: Sandbox, worker, selector_files) -> CaseSystem:  # type: ignore[no-untyped-def]
    box.reset_knobs()
    return CaseSystem("casesystem", box.url("casesystem"), await worker.page("casesystem"),
                      selector_files["casesystem"], ACCOUNTS["casesystem"], timeout_s=3)


def pnr12(text: str) -> str:
    return text.replace("-", "")


def audit(box: Sandbox, case_id: str) -> list[dict[str, object]]:
    return https_get(box.url("casesystem", f"/_admin/audit?case_id={case_id}"), timeout=10).json()


def cases_in(db: sqlite3.Connection, status: str, app_type: str = "Återansökan") -> list[str]:
    return [r[0] for r in db.execute("SELECT case_id FROM cs_cases WHERE status = ? AND application_type = ? "
                                     "ORDER BY case_id", (status, app_type))]


async def test_inbox_lists_every_new_case_over_all_pages(cs: CaseSystem, db: sqlite3.Connection) -> None:
    rows = await cs.with_session(lambda: cs.list_inbox("inkommen"))
    expected = {r[0]: r for r in db.execute("SELECT case_id, applicant_pnr, period, application_type FROM cs_cases "
                                            "WHERE status = 'inkommen'")}
    assert len(expected) > 20  # more than one inbox page (20 rows per page)
    assert {r.case_id for r in rows} == set(expected)
    for row in rows:
        assert pnr12(row.pnr) == expected[row.case_id]["applicant_pnr"]
        assert row.period == expected[row.case_id]["period"]


async def test_read_case_equals_the_database(cs: CaseSystem, db: sqlite3.Connection) -> None:
    for case_id in cases_in(db, "inkommen")[:4]:
        record = await cs.read_case(case_id)
        case = db.execute("SELECT * FROM cs_cases WHERE case_id = ?", (case_id,)).fetchone()
        assert record.application.period == case["period"]
        assert record.application.bistand_sedan == case["bistand_sedan"]
        assert record.status == case["status"]
        household = db.execute("SELECT * FROM cs_household WHERE case_id = ? ORDER BY position", (case_id,)).fetchall()
        assert [(pnr12(m.pnr), m.role) for m in record.members] == [(h["pnr"], h["role"]) for h in household]
        for member, row in zip(record.members, household, strict=True):
            assert member.birth_date.strftime("%Y%m%d") == row["pnr"][:8]
            assert member.lunch_i_forskola == bool(row["lunch_i_forskola"] and row["role"] == "barn")
        costs = {r["field"]: r["amount"] for r in db.execute("SELECT * FROM cs_declared_costs WHERE case_id = ?",
                                                             (case_id,))}
        assert {c.field: c.amount for c in record.costs} == costs
        incomes = sorted((r["pnr"], r["income_type"], r["amount"])
                         for r in db.execute("SELECT * FROM cs_declared_incomes WHERE case_id = ?", (case_id,)))
        assert sorted((pnr12(i.pnr), i.type, i.amount) for i in record.incomes) == incomes


async def test_fill_saves_exactly_what_was_meant_and_reads_back(cs: CaseSystem, box: Sandbox,
                                                                db: sqlite3.Connection) -> None:
    case_id = cases_in(db, "inkommen")[5]
    values: dict[str, int | None] = {key: i * 101 for i, key in enumerate(ALL_FIELDS)}
    values["boende"] = None  # left empty for the caseworker
    values["lon"] = 12345
    await cs.fill_calculation(case_id, values)
    shown = await cs.read_calculation(case_id)
    assert {k: shown[k] for k in ALL_FIELDS} == values
    assert shown["att_betala"] == max(0, shown["summa_norm"] + shown["summa_kostnader"] - shown["summa_inkomster"])
    changed = {a["field"] for a in audit(box, case_id) if a["username"] == "robot"}
    assert "lon" in changed and "boende" not in changed  # an empty field was never written
    assert await cs.status(case_id) == "under_behandling"


async def test_park_twice_parks_once(cs: CaseSystem, box: Sandbox, db: sqlite3.Connection) -> None:
    case_id = cases_in(db, "inkommen")[6]
    assert await cs.park(case_id, needs_completion=True) == "klar_for_signering"
    assert await cs.park(case_id, needs_completion=True) == "klar_for_signering"
    status_changes = [a for a in audit(box, case_id) if a["field"] == "status" and a["username"] == "robot"]
    assert [a["new"] for a in status_changes] == ["klar_for_signering"]
    case = https_get(box.url("casesystem", f"/_admin/cases/{case_id}"), timeout=10).json()
    assert case["needs_completion"] is True and case["assigned_to"] == case["caseworker"]


async def test_manual_handling_with_reason(cs: CaseSystem, box: Sandbox, db: sqlite3.Connection) -> None:
    case_id = cases_in(db, "inkommen")[7]
    assert await cs.set_manual(case_id, "casebot: Nyansökan [FIRST_APPLICATION]") == "manuell"
    case = https_get(box.url("casesystem", f"/_admin/cases/{case_id}"), timeout=10).json()
    assert case["manual_reason"] == "casebot: Nyansökan [FIRST_APPLICATION]"
    assert await cs.set_manual(case_id, "again") == "manuell"  # already manual: nothing changes
    case = https_get(box.url("casesystem", f"/_admin/cases/{case_id}"), timeout=10).json()
    assert case["manual_reason"] == "casebot: Nyansökan [FIRST_APPLICATION]"


async def test_journal_note_round_trip(cs: CaseSystem, db: sqlite3.Connection) -> None:
    case_id = cases_in(db, "inkommen")[8]
    before = await cs.journal_texts(case_id)
    await cs.add_journal_note(case_id, "Förberett av casebot.\ncasebot-ref:test")
    after = await cs.journal_texts(case_id)
    assert len(after) == len(before) + 1 and "casebot-ref:test" in after[-1]


async def test_system_message_and_expired_session_are_handled(cs: CaseSystem, box: Sandbox,
                                                               db: sqlite3.Connection) -> None:
    case_id = cases_in(db, "inkommen")[9]
    # Long enough for a login and a case's screens on a busy host; the idle wait below is longer still.
    box.set_knobs("casesystem", system_message_rate=1.0, session_ttl_s=3)
    await cs.status(case_id)  # first login: driftmeddelande acknowledged
    time.sleep(3.5)  # the session expires while idle
    record = await cs.read_case(case_id)  # re-login (with another driftmeddelande) and carry on
    assert record.application.case_id == case_id


async def test_layout_v2_heals_by_stable_hooks_and_reports_drift(cs: CaseSystem, box: Sandbox,
                                                                 db: sqlite3.Connection) -> None:
    case_id = cases_in(db, "inkommen")[10]
    box.set_knobs("casesystem", layout="v2")
    record = await cs.read_case(case_id)
    assert record.application.case_id == case_id
    await cs.fill_calculation(case_id, {"lon": 777, "boende": 4000})
    shown = await cs.read_calculation(case_id)
    assert shown["lon"] == 777 and shown["boende"] == 4000
    healed = {(n.screen, n.element) for n in cs.drift}
    assert ("calc_form", "lon") in healed and ("calc_form", "save") in healed
    assert all(n.strategy_index >= 1 for n in cs.drift)


async def test_layout_v2_park_control_is_reported_missing_and_nothing_changes(cs: CaseSystem, box: Sandbox,
                                                                              db: sqlite3.Connection) -> None:
    case_id = cases_in(db, "inkommen")[11]
    box.set_knobs("casesystem", layout="v2")
    with pytest.raises(SystemException) as failure:
        await cs.park(case_id, needs_completion=False)
    assert failure.value.code == ErrorCode.SELECTOR_MISSING
    assert "park" in str(failure.value) and "runbooks/SELECTOR_MISSING.md" in str(failure.value)
    assert await cs.status(case_id) == "inkommen"
    assert not [a for a in audit(box, case_id) if a["username"] == "robot"]
