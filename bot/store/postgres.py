"""The state store on PostgreSQL: several robot hosts sharing one queue.

Claims lock the row they take (`SELECT … FOR UPDATE SKIP LOCKED`), so workers on different hosts claim different
items at the same moment without queueing behind each other, and a crashed worker's lease simply runs out. The
password is never in the URL (the config refuses that): libpq reads `PGPASSWORD` or `~/.pgpass`, or the server
trusts the host. Timestamps come from each robot's clock, so the hosts keep time by NTP like any cluster.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bot.config import without_userinfo
from bot.errors import ErrorCode, SystemException
from bot.store.migrations import SCHEMA_VERSION_TABLE, applied_row, check_target, for_postgres, pending
from bot.store.sql import Clock, Cursor, Row, SqlStore, Tx

# pg_advisory_xact_lock key: robots starting together migrate one after the other.
MIGRATION_LOCK = 0x6361_7365_0001  # "case" + 1
CONNECT_TIMEOUT_S = 10


def placeholders(sql: str) -> str:
    """The store's `?` placeholders in psycopg's style (a literal % doubled first)."""
    return sql.replace("%", "%%").replace("?", "%s")


def redacted(url: str) -> str:
    """The URL as it may be shown: without a password (the config already refuses one, tests may not)."""
    return without_userinfo(url)


def connect(url: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(url, autocommit=True, row_factory=dict_row,
                               connect_timeout=CONNECT_TIMEOUT_S, application_name="casebot")
    except psycopg.Error as exc:
        raise SystemException(ErrorCode.STORE_UNAVAILABLE, f"cannot connect to the state store {redacted(url)}: "
                              f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}",
                              retryable=False) from exc


class _Tx:
    """A psycopg connection inside a transaction, taking the store's `?` placeholders."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self._conn.execute(placeholders(sql), tuple(params))  # type: ignore[return-value]


def current_version(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL AS present").fetchone()
    if not row["present"]:  # type: ignore[index]
        return 0
    found = conn.execute("SELECT MAX(version) AS v FROM schema_version").fetchone()
    return int(found["v"] or 0)  # type: ignore[index]


def migrate(conn: psycopg.Connection[Any], target: int | None = None) -> int:
    """Bring the database to `target` (default: the latest) in one transaction, one robot at a time."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        found = current_version(conn)
        target = check_target(found, target)
        conn.execute(SCHEMA_VERSION_TABLE)
        for migration in pending(found, target):
            for statement in migration.statements:
                conn.execute(for_postgres(statement))
            conn.execute("INSERT INTO schema_version (version, applied, description) VALUES (%s, %s, %s)",
                         applied_row(migration))
    return current_version(conn)


class PostgresStore(SqlStore):
    claim_lock = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, *, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self.url = url
        self._lock = threading.RLock()
        self._conn = connect(url)
        try:
            migrate(self._conn)
        except psycopg.Error as exc:
            self._conn.close()
            raise self._unavailable(exc, "cannot prepare the state store") from exc
        except BaseException:
            self._conn.close()
            raise

    def _unavailable(self, exc: psycopg.Error, what: str) -> SystemException:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return SystemException(ErrorCode.STORE_UNAVAILABLE, f"{what} {redacted(self.url)}: {type(exc).__name__}: "
                               f"{first}", retryable=False)

    def _connection(self) -> psycopg.Connection[Any]:
        # A dropped connection (database restarted, network blip) is opened again for the next call.
        if self._conn.closed or self._conn.broken:
            self._conn = connect(self.url)
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[Tx]:
        with self._lock:
            conn = self._connection()
            try:
                with conn.transaction():
                    yield _Tx(conn)
            except psycopg.Error as exc:
                raise self._unavailable(exc, "cannot write the state store") from exc

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            try:
                return self._connection().execute(placeholders(sql), tuple(params)).fetchall()
            except psycopg.Error as exc:
                raise self._unavailable(exc, "cannot read the state store") from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()


@contextmanager
def scratch_database(server: str, prefix: str) -> Iterator[str]:
    """The URL of a new, empty database on `server` (a URL without a database), dropped afterwards along with any
    session a killed robot left open: for tests and benchmarks, which must not touch real data."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with connect(f"{server.rstrip('/')}/postgres") as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server.rstrip('/')}/{name}"
    finally:
        with connect(f"{server.rstrip('/')}/postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
