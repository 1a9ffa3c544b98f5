"""The sandbox's one SQLite database.

Each portal keeps its own tables (prefix per portal), as the real systems keep their data apart; the
portals share a file only because they are stand-ins run by one process. Knobs and sessions live here
too, so a knob set through the admin endpoint applies at once and survives a restart.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DB_FILENAME = "sandbox.db"

SCHEMA = """
-- sandbox-wide ---------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS sb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sb_knobs (
    portal TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (portal, key));
CREATE TABLE IF NOT EXISTS sb_sessions (
    token TEXT PRIMARY KEY, portal TEXT NOT NULL, username TEXT NOT NULL,
    csrf TEXT NOT NULL, created REAL NOT NULL, last_seen REAL NOT NULL,
    acknowledged INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS sb_users (
    portal TEXT NOT NULL, username TEXT NOT NULL, password TEXT NOT NULL, role TEXT NOT NULL,
    display_name TEXT NOT NULL, failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (portal, username));
CREATE TABLE IF NOT EXISTS sb_expected (
    case_id TEXT PRIMARY KEY, kind TEXT, outcome TEXT NOT NULL,
    fields_json TEXT NOT NULL,        -- {field: amount} the robot must write
    empty_fields_json TEXT NOT NULL,  -- [field, ...] the robot must leave empty
    reasons_json TEXT NOT NULL);      -- [reason code, ...]: triage codes, then change reasons (warnings too)
CREATE TABLE IF NOT EXISTS agency_gaps (portal TEXT NOT NULL, pnr TEXT NOT NULL, PRIMARY KEY (portal, pnr));

-- case system --------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS cs_cases (
    case_id TEXT PRIMARY KEY, applicant_pnr TEXT NOT NULL, application_type TEXT NOT NULL,
    period TEXT NOT NULL, received TEXT NOT NULL, caseworker TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'inkommen', version INTEGER NOT NULL DEFAULT 1,
    bistand_sedan TEXT, address TEXT NOT NULL, assigned_to TEXT,
    needs_completion INTEGER NOT NULL DEFAULT 0, manual_reason TEXT);
CREATE TABLE IF NOT EXISTS cs_household (
    case_id TEXT NOT NULL, position INTEGER NOT NULL, pnr TEXT NOT NULL,
    first_name TEXT NOT NULL, last_name TEXT NOT NULL, role TEXT NOT NULL,
    lunch_i_forskola INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (case_id, position));
CREATE TABLE IF NOT EXISTS cs_declared_costs (
    case_id TEXT NOT NULL, field TEXT NOT NULL, amount INTEGER NOT NULL, PRIMARY KEY (case_id, field));
CREATE TABLE IF NOT EXISTS cs_declared_incomes (
    case_id TEXT NOT NULL, pnr TEXT NOT NULL, income_type TEXT NOT NULL, amount INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cs_calc (
    case_id TEXT NOT NULL, field TEXT NOT NULL, value INTEGER, PRIMARY KEY (case_id, field));
CREATE TABLE IF NOT EXISTS cs_journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT, case_id TEXT NOT NULL, ts TEXT NOT NULL,
    author TEXT NOT NULL, text TEXT NOT NULL);
-- the decision history (tab "Historik"): the household's earlier monthly decisions, at most 36 months back
CREATE TABLE IF NOT EXISTS cs_history (
    case_id TEXT PRIMARY KEY,
    older TEXT NOT NULL DEFAULT 'finns_inte'  -- finns_inte (complete) | gallrade (older decisions thinned out)
        CHECK (older IN ('finns_inte', 'gallrade')));
CREATE TABLE IF NOT EXISTS cs_decisions (
    case_id TEXT NOT NULL, month TEXT NOT NULL,  -- YYYY-MM
    outcome TEXT NOT NULL CHECK (outcome IN ('Beviljat', 'Avslag')),
    decided_by TEXT NOT NULL, decided_on TEXT NOT NULL, address TEXT NOT NULL, PRIMARY KEY (case_id, month));
CREATE TABLE IF NOT EXISTS cs_decision_household (  -- the household's persons at that decision
    case_id TEXT NOT NULL, month TEXT NOT NULL, position INTEGER NOT NULL, pnr TEXT NOT NULL,
    PRIMARY KEY (case_id, month, position));
CREATE TABLE IF NOT EXISTS cs_decision_rows (  -- the decided calculation: a row per non-zero form field
    case_id TEXT NOT NULL, month TEXT NOT NULL, field TEXT NOT NULL,
    applied INTEGER NOT NULL, approved INTEGER NOT NULL, PRIMARY KEY (case_id, month, field));
CREATE TABLE IF NOT EXISTS cs_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, username TEXT NOT NULL,
    case_id TEXT, field TEXT NOT NULL, old TEXT, new TEXT);

-- population register (Skatteverket-like) ----------------------------------------------------
CREATE TABLE IF NOT EXISTS skv_persons (
    pnr TEXT PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL,
    birth_date TEXT NOT NULL, protected INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS skv_registrations (
    pnr TEXT NOT NULL, address TEXT NOT NULL, from_date TEXT NOT NULL);

-- social insurance (Försäkringskassan-like) --------------------------------------------------
CREATE TABLE IF NOT EXISTS fk_payments (
    pnr TEXT NOT NULL, benefit TEXT NOT NULL, month TEXT NOT NULL, amount INTEGER NOT NULL);

-- employment service (Arbetsförmedlingen-like) -----------------------------------------------
CREATE TABLE IF NOT EXISTS af_status (
    pnr TEXT PRIMARY KEY, registered INTEGER NOT NULL, activity TEXT, from_date TEXT);

-- study aid (CSN-like) -----------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS csn_payments (
    pnr TEXT NOT NULL, month TEXT NOT NULL, kind TEXT NOT NULL, amount INTEGER NOT NULL);

CREATE INDEX IF NOT EXISTS ix_household_pnr ON cs_household (pnr);
CREATE INDEX IF NOT EXISTS ix_income_case ON cs_declared_incomes (case_id);
CREATE INDEX IF NOT EXISTS ix_audit_case ON cs_audit (case_id);
CREATE INDEX IF NOT EXISTS ix_journal_case ON cs_journal (case_id);
CREATE INDEX IF NOT EXISTS ix_skv_reg_address ON skv_registrations (address);
CREATE INDEX IF NOT EXISTS ix_skv_reg_pnr ON skv_registrations (pnr);
CREATE INDEX IF NOT EXISTS ix_fk_pnr ON fk_payments (pnr);
CREATE INDEX IF NOT EXISTS ix_csn_pnr ON csn_payments (pnr);
"""


def db_path(data_dir: Path) -> Path:
    return Path(data_dir) / DB_FILENAME


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the settings every sandbox user needs (WAL so readers never block writers)."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def init_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, so a read-check-write (optimistic locking) cannot interleave."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")
