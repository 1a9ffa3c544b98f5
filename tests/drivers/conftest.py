"""Async fixtures for driving the sandbox with the robot's own browser code (bot.browser)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright

from bot.browser.launch import launch_chromium
from bot.browser.worker import WorkerBrowser
from bot.drivers.base import PortalAccount
from bot.paths import SELECTORS_DIR
from bot.sandbox import SANDBOX_PASSWORDS, SANDBOX_USERS
from bot.selectors.load import load_selector_file
from bot.selectors.model import SelectorFile

# The sandbox's training accounts; the robot itself reads passwords from the environment or the keyring.
ACCOUNTS = {name: PortalAccount(SANDBOX_USERS[name], SANDBOX_PASSWORDS[name]) for name in SANDBOX_USERS}


@pytest_asyncio.fixture(scope="session")
async def abrowser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await launch_chromium(pw)
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture
async def worker(abrowser: Browser) -> AsyncIterator[WorkerBrowser]:
    wb = await WorkerBrowser.open(abrowser, "test", artifacts_dir=None, default_timeout_ms=10_000)
    try:
        yield wb
    finally:
        await wb.close()


@pytest.fixture(scope="session")
def selector_files() -> dict[str, SelectorFile]:
    return {name: load_selector_file(SELECTORS_DIR / f"{name}.yaml")
            for name in ACCOUNTS if (SELECTORS_DIR / f"{name}.yaml").exists()}
