"""A clock tests move by hand, for the state store and what is built from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """A clock tests move by hand, shared by several stores on one file."""

    def __init__(self) -> None:
        self.now = datetime(2024, 12, 1, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
