"""Fixtures for the state store's tests: every store test runs on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import Store, open_store
from tests.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "casebot.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, db: Path) -> Iterator[str]:
    """The same suite runs on both backends: what the run loop relies on must hold on either."""
    if request.param == "sqlite":
        yield f"sqlite:///{db}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def store(url: str, clock: FakeClock) -> Iterator[Store]:
    with open_store(url, clock=clock) as s:
        yield s
