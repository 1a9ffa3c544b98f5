"""Which `casebot schedule` starts the night when several hosts run one: a PostgreSQL advisory lock.

Leadership is sticky: the first scheduler to take the lock keeps it for as long as its process (and its database
session) lives, so a second host whose clock fires a moment later never starts a second run. When the leader dies,
PostgreSQL drops its session and the lock with it, and whichever scheduler fires next takes over; the run the old
leader left unfinished is continued, not started again. On SQLite (one host) there is nothing to elect: the host's
run lock already keeps to one run at a time.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from typing import Any

from loguru import logger

LOCK_NAME = "casebot-scheduler"


def lock_key(name: str = LOCK_NAME) -> int:
    """A stable signed 64-bit key for pg_try_advisory_lock (the same on every host and Python version)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Leadership(ABC):
    @abstractmethod
    def claim(self) -> bool:
        """True when this scheduler leads (now, or already): only then does a fire start a run."""

    @abstractmethod
    def close(self) -> None:
        """Give up leadership (the process is stopping)."""


class SingleHost(Leadership):
    def claim(self) -> bool:
        return True

    def close(self) -> None:
        return None


class PostgresLeadership(Leadership):
    def __init__(self, url: str, name: str = LOCK_NAME) -> None:
        self.url = url
        self.key = lock_key(name)
        self._conn: Any = None
        self.held = False

    def claim(self) -> bool:
        import psycopg

        from bot.store.postgres import connect

        try:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn, self.held = connect(self.url), False
            if self.held:
                self._conn.execute("SELECT 1")  # the session, and so the lock, is still there
                return True
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s) AS got", (self.key,)).fetchone()
            self.held = bool(row["got"])
            if self.held:
                logger.info("this scheduler is now the leader (PostgreSQL advisory lock {})", self.key)
            return self.held
        except (psycopg.Error, Exception) as exc:  # noqa: BLE001 - a lost database means: not the leader now
            logger.error("cannot ask the database who leads the schedule: {}", exc)
            self.held = False
            self.close()
            return False

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn, self.held = None, False


def leadership_for(store_url: str) -> Leadership:
    if store_url.startswith(("postgresql://", "postgres://")):
        return PostgresLeadership(store_url)
    return SingleHost()
