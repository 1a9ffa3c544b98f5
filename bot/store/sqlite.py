"""The state store on SQLite (stdlib sqlite3, WAL): the embedded default, one robot host.

Claims take SQLite's write lock up front (BEGIN IMMEDIATE) and then pick and lease an item, so two workers,
threads or processes can never lease the same item. Each `SqliteStore` holds one connection guarded by a lock;
calls are short and synchronous (each takes about a millisecond).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from bot.errors import ErrorCode, SystemException
from bot.store.migrations import migrate
from bot.store.sql import Clock, Row, SqlStore, Tx


def _unavailable(exc: sqlite3.Error, what: str) -> SystemException:
    return SystemException(ErrorCode.STORE_UNAVAILABLE, f"{what}: {type(exc).__name__}: {exc}", retryable=False)


class SqliteStore(SqlStore):
    def __init__(self, path: Path | str, *, clock: Clock | None = None, busy_timeout_s: float = 30.0) -> None:
        super().__init__(clock)
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                # Owner-only from the first byte: checkpoints hold the case data needed to resume.
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            self._conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None,
                                         check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise SystemException(ErrorCode.STORE_UNAVAILABLE, f"cannot open the state store {self.path}: {exc}",
                                  retryable=False) from exc
        try:
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL, not NORMAL: a checkpoint must survive a power cut too, or a rerun could park a case twice.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            migrate(self._conn, self.path)
        except sqlite3.Error as exc:
            self._conn.close()
            raise _unavailable(exc, f"cannot open the state store {self.path}") from exc

    @contextmanager
    def _write(self) -> Iterator[Tx]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _unavailable(exc, f"cannot write the state store {self.path}") from exc
            try:
                yield self._conn  # type: ignore[misc]
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise _unavailable(exc, f"cannot write the state store {self.path}") from exc
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        # The transaction may already be gone: SQLite rolls back by itself on some errors.
        with suppress(sqlite3.Error):
            self._conn.execute("ROLLBACK")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _unavailable(exc, f"cannot read the state store {self.path}") from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()
