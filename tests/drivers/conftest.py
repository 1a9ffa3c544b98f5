"""Async fixtures for driving the sandbox with the robot's own browser code (bot.browser)."""

from __future__ import annotations

import pytest

from bot.dev.sandbox import SANDBOX_PASSWORDS, SANDBOX_USERS
from bot.drivers.base import PortalAccount
from bot.paths import SELECTORS_DIR
from bot.selectors.load import load_selector_file
from bot.selectors.model import SelectorFile

# The sandbox's training accounts; the robot itself reads passwords from the environment or the keyring.
ACCOUNTS = {name: PortalAccount(SANDBOX_USERS[name], SANDBOX_PASSWORDS[name]) for name in SANDBOX_USERS}


@pytest.fixture(scope="session")
def selector_files() -> dict[str, SelectorFile]:
    return {name: load_selector_file(SELECTORS_DIR / f"{name}.yaml")
            for name in ACCOUNTS if (SELECTORS_DIR / f"{name}.yaml").exists()}
