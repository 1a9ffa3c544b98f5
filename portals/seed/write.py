"""Storing a generated world in the sandbox database (the schema of `portals/db.py`).

`write_world` replaces the world tables' rows, then lets `portals/oracle.py` work out, from the stored tables
alone, what the robot should do with each case (`sb_expected`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from pathlib import Path

from portals import db, oracle
from portals.pnr import to_dashed
from portals.seed.generate import generate_world
from portals.seed.model import REFERENCE_STATUS, Case, JournalEntry, World

# Runtime tables (knobs, sessions) are left alone: their defaults live in the portals' code.
WORLD_TABLES: tuple[str, ...] = (
    "sb_meta", "sb_users", "sb_expected", "agency_gaps", "cs_cases", "cs_household", "cs_declared_costs",
    "cs_declared_incomes", "cs_calc", "cs_journal", "cs_audit", "cs_history", "cs_decisions", "cs_decision_household",
    "cs_decision_rows", "skv_persons", "skv_registrations", "fk_payments", "af_status", "csn_payments",
)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _insert_case(conn: sqlite3.Connection, case: Case, status: str = "inkommen", version: int = 1,
                 assigned_to: str | None = None, manual_reason: str | None = None,
                 arrival: JournalEntry | None = None) -> None:
    """The case-system rows of one case, its calculation form blank. `arrival`: the e-service's journal entry
    (an ordinary case's last)."""
    conn.execute(
        "INSERT INTO cs_cases (case_id, applicant_pnr, application_type, period, received, caseworker, "
        "status, version, bistand_sedan, address, assigned_to, manual_reason) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (case.case_id, case.applicant.pnr, case.application_type, case.period, case.received.isoformat(),
         case.caseworker, status, version, case.bistand_sedan, case.address, assigned_to, manual_reason))
    conn.executemany(
        "INSERT INTO cs_household (case_id, position, pnr, first_name, last_name, role, lunch_i_forskola) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(case.case_id, pos, m.pnr, m.first_name, m.last_name, m.role, int(m.lunch_i_forskola))
         for pos, m in enumerate(case.members, start=1)])
    conn.executemany("INSERT INTO cs_declared_costs (case_id, field, amount) VALUES (?, ?, ?)",
                     [(case.case_id, key, amount) for key, amount in case.costs])
    conn.executemany("INSERT INTO cs_declared_incomes (case_id, pnr, income_type, amount) VALUES (?, ?, ?, ?)",
                     [(case.case_id, i.pnr, i.income_type, i.amount) for i in case.incomes])
    # The calculation form exists, blank (NULL is "empty", not 0), until someone fills it in.
    conn.executemany("INSERT INTO cs_calc (case_id, field, value) VALUES (?, ?, NULL)",
                     [(case.case_id, key) for key in oracle.FORM_FIELDS])
    conn.executemany("INSERT INTO cs_journal (case_id, ts, author, text) VALUES (?, ?, ?, ?)",
                     [(case.case_id, j.ts, j.author, j.text) for j in case.journal])
    conn.execute("INSERT INTO cs_audit (ts, username, case_id, field, old, new) VALUES (?, ?, ?, ?, ?, ?)",
                 ((arrival or case.journal[-1]).ts, "e-tjanst", case.case_id, "status", None, "inkommen"))
    # The decision history: every case has its row (a Nyansökan: complete and empty).
    conn.execute("INSERT INTO cs_history (case_id, older) VALUES (?, ?)", (case.case_id, case.older))
    conn.executemany(
        "INSERT INTO cs_decisions (case_id, month, outcome, decided_by, decided_on, address) VALUES (?, ?, ?, ?, ?, ?)",
        [(case.case_id, d.month, d.outcome, d.decided_by, d.decided_on.isoformat(), d.address)
         for d in case.decisions])
    conn.executemany("INSERT INTO cs_decision_household (case_id, month, position, pnr) VALUES (?, ?, ?, ?)",
                     [(case.case_id, d.month, pos, pnr) for d in case.decisions
                      for pos, pnr in enumerate(d.household, start=1)])
    conn.executemany("INSERT INTO cs_decision_rows (case_id, month, field, applied, approved) VALUES (?, ?, ?, ?, ?)",
                     [(case.case_id, d.month, key, applied, approved) for d in case.decisions
                      for key, applied, approved in d.rows])


def _insert_reference(conn: sqlite3.Connection, case: Case) -> None:
    """The reference case, as a caseworker left it: taken on by them (audited as the case system would)."""
    _insert_case(conn, case, status=REFERENCE_STATUS, version=2, assigned_to=case.caseworker,
                 arrival=case.journal[0])
    ts = case.journal[-1].ts
    conn.executemany("INSERT INTO cs_audit (ts, username, case_id, field, old, new) VALUES (?, ?, ?, ?, ?, ?)",
                     [(ts, case.caseworker, case.case_id, "status", "inkommen", REFERENCE_STATUS),
                      (ts, case.caseworker, case.case_id, "assigned_to", None, case.caseworker)])


def write_world(conn: sqlite3.Connection, world: World) -> list[oracle.Expected]:
    """Replace the world tables' contents with `world`, then store the oracle's verdict on every case.

    The reference case (if any) is stored too, in manual handling, but gets no `sb_expected` row; `sb_meta`
    names it: `reference_case` (its id) and `reference_pnr` (the applicant, `YYYYMMDD-NNNN` as the case system
    prints it; the tables hold the 12 digits without the hyphen)."""
    with db.transaction(conn):
        for table in WORLD_TABLES:
            conn.execute(f"DELETE FROM {table}")
        conn.executemany("INSERT INTO sb_meta (key, value) VALUES (?, ?)", [
            ("seed", str(world.seed)), ("period", world.period), ("n", str(len(world.cases))),
            ("generator", "portals.seed"),
        ])
        if world.reference is not None:
            conn.executemany("INSERT INTO sb_meta (key, value) VALUES (?, ?)", [
                ("reference_case", world.reference.case_id),
                ("reference_pnr", to_dashed(world.reference.applicant.pnr)),
            ])
        conn.executemany(
            "INSERT INTO sb_users (portal, username, password, role, display_name) VALUES (?, ?, ?, ?, ?)",
            [(u.portal, u.username, u.password, u.role, u.display_name) for u in world.users])
        conn.executemany("INSERT INTO skv_persons (pnr, first_name, last_name, birth_date, protected) "
                         "VALUES (?, ?, ?, ?, ?)",
                         [(p.pnr, p.first_name, p.last_name, p.birth_date.isoformat(), int(p.protected))
                          for p in world.persons])
        conn.executemany("INSERT INTO skv_registrations (pnr, address, from_date) VALUES (?, ?, ?)",
                         [(r.pnr, r.address, r.from_date.isoformat()) for r in world.registrations])
        conn.executemany("INSERT INTO fk_payments (pnr, benefit, month, amount) VALUES (?, ?, ?, ?)",
                         [(p.pnr, p.benefit, p.month, p.amount) for p in world.fk_payments])
        conn.executemany("INSERT INTO csn_payments (pnr, month, kind, amount) VALUES (?, ?, ?, ?)",
                         [(p.pnr, p.month, p.kind, p.amount) for p in world.csn_payments])
        conn.executemany("INSERT INTO af_status (pnr, registered, activity, from_date) VALUES (?, ?, ?, ?)",
                         [(a.pnr, int(a.registered), a.activity, _iso(a.from_date)) for a in world.af_statuses])
        conn.executemany("INSERT INTO agency_gaps (portal, pnr) VALUES (?, ?)",
                         [(g.portal, g.pnr) for g in world.gaps])
        for case in world.cases:
            _insert_case(conn, case)
        if world.reference is not None:
            _insert_reference(conn, world.reference)
        expected = [oracle.expected_outcome(oracle.load_case_facts(conn, c.case_id)) for c in world.cases]
        conn.executemany(
            "INSERT INTO sb_expected (case_id, kind, outcome, fields_json, empty_fields_json, reasons_json) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [oracle.to_row(e, c.kind) for e, c in zip(expected, world.cases, strict=True)])
    return expected


def summarize(world: World, expected: list[oracle.Expected]) -> dict[str, object]:
    tags = Counter(t.split(":")[0] for c in world.cases for t in c.tags)
    return {
        "cases": len(world.cases), "seed": world.seed, "period": world.period, "persons": len(world.persons),
        "reference": world.reference.case_id if world.reference else None,
        "kinds": dict(sorted(Counter(c.kind for c in world.cases).items())),
        "spells": dict(sorted(Counter(c.spell for c in world.cases if c.spell).items())),
        "changes": dict(sorted(Counter(c.change for c in world.cases if c.change).items())),
        "outcomes": dict(sorted(Counter(e.outcome for e in expected).items())),
        "features": dict(sorted(tags.items())),
    }


def seed_database(data_dir: Path, n_cases: int, seed: int, period: str | None = None) -> dict[str, object]:
    """Create (or overwrite) DATA_DIR/sandbox.db with a fresh world for `period` (default: the current month);
    returns a summary of what it holds."""
    world = generate_world(n_cases, seed, period)  # first, so a bad argument leaves an existing database alone
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = db.db_path(data_dir)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = db.connect(path)
    try:
        db.init_schema(conn)
        expected = write_world(conn, world)
    finally:
        conn.close()
    return {"db": str(path), **summarize(world, expected)}
