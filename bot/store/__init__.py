"""The state store: runs, work items, checkpoints, leases and events. See `base.Store` for the contract."""

from __future__ import annotations

from pathlib import Path

from bot.errors import ErrorCode, SystemException
from bot.store.base import LeaseExpired, Store
from bot.store.models import (
    FINAL_STATES,
    OUTCOMES,
    STATES,
    STEPS,
    Checkpoint,
    Event,
    NewWorkItem,
    Run,
    RunSummary,
    WorkItem,
)
from bot.store.sqlite import SqliteStore

__all__ = ["FINAL_STATES", "OUTCOMES", "STATES", "STEPS", "Checkpoint", "Event", "LeaseExpired", "NewWorkItem", "Run",
           "RunSummary", "SqliteStore", "Store", "WorkItem", "open_store"]


def open_store(url: str) -> Store:
    """`sqlite:///relative/or/absolute/path` (what `Config.store_url` gives). PostgreSQL comes later behind the
    same interface."""
    if url.startswith("sqlite:///"):
        return SqliteStore(Path(url[len("sqlite:///"):]))
    if url.startswith(("postgresql://", "postgres://")):
        raise SystemException(ErrorCode.STORE_UNAVAILABLE, "the PostgreSQL store is not implemented yet; "
                              "use a sqlite:/// store URL", retryable=False)
    raise SystemException(ErrorCode.CONFIG_INVALID, f"unknown store URL scheme in {url.split(':', 1)[0]!r}",
                          retryable=False)
