"""Shared fixtures: a real sandbox process and a real Debian Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.browser.launch import CHROMIUM_ARGS, chromium_path
from tests.sandbox_proc import Sandbox, start_sandbox


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


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # The robot's own launch settings (Debian's Chromium, no calls home), in the sync API the sandbox tests use.
        chromium = pw.chromium.launch(executable_path=chromium_path(), args=list(CHROMIUM_ARGS))
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
