"""Shared fixtures: a real sandbox process and a real Debian Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser

from bot.browser.launch import CHROMIUM_ARGS, chromium_path, running_chromium
from bot.browser.trust import browser_env
from bot.browser.worker import WorkerBrowser
from bot.dev.virtual_screen import xvfb as virtual_xvfb
from tests.sandbox_proc import Sandbox, start_sandbox, trusted_home

# The files that take longest (end to end, a minute or more each on two cores): run first, so the two processes
# share them and the many short files fill in after (bench: `--durations=30`).
SLOW_FIRST = (
    "tests/scaleout/test_scheduler_leader.py", "tests/scaleout/test_worker_processes.py",
    "tests/reliability/test_portal_faults.py", "tests/run/test_night.py", "tests/reliability/test_kill9.py",
    "tests/upkeep/test_layout_v2.py", "tests/schedule/test_scheduler.py", "tests/desktop/test_desktop_night.py",
    "tests/desktop/test_desktop_rerecord.py", "tests/reliability/test_hostile_data.py",
    "tests/upkeep/test_layout_v3.py", "tests/run/test_unanswered_writes.py", "tests/run/test_recycling.py",
    "tests/drivers/test_agency_drivers.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0]
        return SLOW_FIRST.index(path) if path in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: the order inside a file, and of the other files, is kept


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = start_sandbox(Path(tmp_path_factory.mktemp("sandbox")))
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def fresh_sandbox(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The shared sandbox with every knob at its default before and after the test."""
    sandbox.reset_knobs()
    yield sandbox
    sandbox.reset_knobs()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Per module, not per session: while the sync API is open its event loop counts as running in this thread,
    and the robot's own entry points (`asyncio.run`) and the async fixtures of later modules would refuse to run.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # The robot's own launch settings (Debian's Chromium, no calls home, the sandboxes' test CA trusted the
        # robot's way), in the sync API the sandbox tests use.
        chromium = pw.chromium.launch(executable_path=chromium_path(), args=list(CHROMIUM_ARGS),
                                      env=browser_env(trusted_home()))
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="sv-SE")
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture(scope="session")
def xvfb() -> Iterator[str]:
    """A virtual display (Debian's Xvfb), for what runs headed where a display exists: the recorder."""
    with virtual_xvfb() as display:
        yield display


@pytest.fixture
def xvfb_display(xvfb: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DISPLAY", xvfb)
    return xvfb


@pytest_asyncio.fixture(scope="session")
async def abrowser() -> AsyncIterator[Browser]:
    """The robot's own async browser launch, for tests of drivers, selectors and the recorder."""
    async with running_chromium(home=trusted_home()) as chromium:
        yield chromium.browser


@pytest_asyncio.fixture
async def worker(abrowser: Browser) -> AsyncIterator[WorkerBrowser]:
    wb = await WorkerBrowser.open(abrowser, "test", artifacts_dir=None, default_timeout_ms=10_000)
    try:
        yield wb
    finally:
        await wb.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the test (tests/pg.py); fails, never skips, when there is no server."""
    from tests.pg import fresh_database

    with fresh_database() as url:
        yield url
