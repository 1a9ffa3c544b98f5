"""The state store: runs, work items, checkpoints, leases and events. See `base.Store` for the contract."""

from __future__ import annotations

from pathlib import Path

from bot.errors import ErrorCode, SystemException
from bot.store.base import LeaseExpired, Store
from bot.store.models import (
    CONSOLE_ROLES,
    FINAL_STATES,
    OUTCOMES,
    STATES,
    STEPS,
    AuditEntry,
    Checkpoint,
    ConsoleUser,
    Event,
    NewWorkItem,
    Run,
    RunSummary,
    WorkerInfo,
    WorkItem,
)
from bot.store.sql import Clock
from bot.store.sqlite import SqliteStore

__all__ = ["CONSOLE_ROLES", "FINAL_STATES", "OUTCOMES", "STATES", "STEPS", "AuditEntry", "Checkpoint", "ConsoleUser",
           "Event", "LeaseExpired", "NewWorkItem", "Run", "RunSummary", "SqliteStore", "Store", "WorkItem",
           "WorkerInfo", "open_store"]


def open_store(url: str, *, clock: Clock | None = None) -> Store:
    """`sqlite:///relative/or/absolute/path` (what `Config.store_url` gives by default) or `postgresql://…`."""
    if url.startswith("sqlite:///"):
        return SqliteStore(Path(url[len("sqlite:///"):]), clock=clock)
    if url.startswith(("postgresql://", "postgres://")):
        from bot.store.postgres import PostgresStore  # psycopg only when PostgreSQL is used

        return PostgresStore(url, clock=clock)
    raise SystemException(ErrorCode.CONFIG_INVALID, f"unknown store URL scheme in {url.split(':', 1)[0]!r}",
                          retryable=False)
