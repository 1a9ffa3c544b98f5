"""The packaged default guidelines and norm tables (loaded once; both are immutable), for the calc and triage tests."""

from __future__ import annotations

import pytest

from bot.calc.guidelines import Guidelines, load_guidelines
from bot.calc.norms import NormTables, load_norms


@pytest.fixture(scope="session")
def guidelines() -> Guidelines:
    return load_guidelines()


@pytest.fixture(scope="session")
def norms() -> NormTables:
    return load_norms()
