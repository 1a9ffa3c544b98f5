"""A fresh PostgreSQL database per test, on the machine's server (127.0.0.1:5432, or CASEBOT_TEST_PG).

Never skipped: the PostgreSQL backend is part of the product, so a run without a reachable server fails and says
how to start one (.ci/run starts it when it is not running).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

SERVER = os.environ.get("CASEBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
START_HINT = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def admin() -> psycopg.Connection:
    try:
        return psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise RuntimeError(f"PostgreSQL at {SERVER} is not reachable ({exc}); start it: {START_HINT}") from exc


@contextmanager
def fresh_database(prefix: str = "casebot_test") -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards (with any connection a killed worker left open)."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        with admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
