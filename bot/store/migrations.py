"""The schema as an ordered list of migrations, for SQLite and PostgreSQL alike. Never edit a released migration:
add the next one.

`schema_version` holds one row per applied migration. Opening an older database applies the missing ones in
a single transaction (on SQLite after copying the file aside as `<db>.v<N>.bak`; PostgreSQL's DDL is
transactional), so an upgrade either completes or leaves the database as it was, and history is never dropped.
The statements are written in SQLite's dialect; `for_postgres` turns the few differences (auto-numbered keys).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.errors import ErrorCode, SystemException


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "runs, work items, checkpoints, events", (
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            started TEXT NOT NULL,
            ended TEXT,
            status TEXT NOT NULL,
            owner TEXT,
            counts_json TEXT NOT NULL DEFAULT '{}',
            config_json TEXT NOT NULL DEFAULT '{}'
        )""",
        """CREATE TABLE work_items (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL REFERENCES runs(id),
            case_id TEXT NOT NULL,
            period TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'new',
            outcome TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error_code TEXT,
            last_error_message TEXT,
            step TEXT,
            lease_owner TEXT,
            lease_until TEXT,
            started TEXT,
            ended TEXT,
            duration_ms INTEGER,
            amount INTEGER,
            reasons_json TEXT NOT NULL DEFAULT '[]',
            empty_fields_json TEXT NOT NULL DEFAULT '[]',
            masked_pnr TEXT,
            created TEXT NOT NULL,
            UNIQUE (run_id, case_id)
        )""",
        "CREATE INDEX work_items_by_state ON work_items (run_id, state)",
        "CREATE INDEX work_items_by_case ON work_items (case_id, id)",
        """CREATE TABLE checkpoints (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            work_item_id INTEGER NOT NULL REFERENCES work_items(id),
            step TEXT NOT NULL,
            data_json TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        "CREATE INDEX checkpoints_by_item ON checkpoints (work_item_id, id)",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT REFERENCES runs(id),
            case_id TEXT,
            level TEXT NOT NULL,
            code TEXT,
            message TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        "CREATE INDEX events_by_run ON events (run_id, id)",
    )),
    Migration(2, "retry back-off on work items; structured data on events", (
        "ALTER TABLE work_items ADD COLUMN not_before TEXT",
        "ALTER TABLE events ADD COLUMN data_json TEXT",
    )),
    Migration(3, "passwords a portal refused (salted scrypt digests), so the next night does not retry them", (
        """CREATE TABLE refused_logins (
            portal TEXT NOT NULL,
            username TEXT NOT NULL,
            salt TEXT NOT NULL,
            digest TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (portal, username)
        )""",
    )),
    Migration(4, "workers and their heartbeats, for several robot processes sharing one queue", (
        """CREATE TABLE workers (
            id TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            run_id TEXT,
            state TEXT NOT NULL,
            case_id TEXT,
            started TEXT NOT NULL,
            heartbeat TEXT NOT NULL
        )""",
        # Which worker ended the item's latest attempt: with several robots, where to look for its log.
        "ALTER TABLE work_items ADD COLUMN worked_by TEXT",
    )),
    Migration(5, "attempts cut off by a crash counted apart (quarantine); an operator's release of a held case", (
        # Existing rows get 0: an older casebot counted its crashes as attempts, which stay as they are.
        "ALTER TABLE work_items ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE work_items ADD COLUMN released TEXT",
    )),
    Migration(6, "the operations console: its audit log, accounts and shared switches; each case's caseworker", (
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            who TEXT NOT NULL,
            role TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT,
            detail_json TEXT NOT NULL DEFAULT '{}',
            result TEXT NOT NULL
        )""",
        "CREATE INDEX audit_log_by_action ON audit_log (action, id)",
        """CREATE TABLE console_users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            created TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0
        )""",
        # Small switches every robot process and the console share (the scheduler's pause): one row per key.
        """CREATE TABLE controls (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated TEXT NOT NULL
        )""",
        # Existing rows get NULL: the inbox was not read for it then.
        "ALTER TABLE work_items ADD COLUMN caseworker TEXT",
        # The console and `casebot status` look events up by code (fires, drift) over years of nights.
        "CREATE INDEX events_by_code ON events (code, id)",
    )),
)

LATEST = MIGRATIONS[-1].version

SCHEMA_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, applied TEXT NOT NULL, description TEXT NOT NULL)"""


def for_postgres(statement: str) -> str:
    identity = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    return statement.replace("INTEGER PRIMARY KEY AUTOINCREMENT", identity).replace(" INTEGER", " BIGINT")


def check_target(found: int, target: int | None) -> int:
    """The version to reach; refuses a database newer than this casebot."""
    latest = MIGRATIONS[-1].version
    target = latest if target is None else target
    if target > latest:
        raise ValueError(f"no migration {target}; the latest is {latest}")
    if found > latest:
        raise SystemException(ErrorCode.STORE_UNAVAILABLE,
                              f"the database is at schema version {found}, newer than this casebot knows "
                              f"({latest}); upgrade casebot", retryable=False)
    return target


def pending(found: int, target: int) -> list[Migration]:
    return [m for m in MIGRATIONS if found < m.version <= target]


def applied_row(migration: Migration) -> tuple[int, str, str]:
    return (migration.version, datetime.now(UTC).isoformat(), migration.description)


def current_version(conn: sqlite3.Connection) -> int:
    """0 for an empty database."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
    if not has_table:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def _backup(conn: sqlite3.Connection, db_path: Path, version: int) -> Path:
    target = db_path.with_name(f"{db_path.name}.v{version}.bak")
    with sqlite3.connect(target) as copy:
        conn.backup(copy)
    copy.close()
    target.chmod(0o600)
    return target


def migrate(conn: sqlite3.Connection, db_path: Path | None = None, target: int | None = None) -> int:
    """Bring the SQLite database to `target` (default: the latest). `conn` must be in autocommit mode
    (isolation_level=None) so the migration controls its own transaction. Returns the version reached."""
    found = current_version(conn)
    target = check_target(found, target)
    if found >= target:
        return found
    if found > 0 and db_path is not None:
        _backup(conn, db_path, found)
    # IMMEDIATE takes the write lock before re-reading the version: two robots starting together do not both
    # run the same migration.
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(SCHEMA_VERSION_TABLE)
        for migration in pending(current_version(conn), target):
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version, applied, description) VALUES (?, ?, ?)",
                         applied_row(migration))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return current_version(conn)
