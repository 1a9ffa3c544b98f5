"""Fixtures for the state store's tests."""

from __future__ import annotations

import pytest

from tests.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
