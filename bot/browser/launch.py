"""Launching the machine's own Chromium: Playwright's browser downloads are not available here."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from playwright.async_api import Browser, Playwright, async_playwright

DEFAULT_CHROMIUM = "/usr/bin/chromium"

# Chromium otherwise reaches out to Google services at start; on a closed municipal network those
# connections are refused, slowly, many at a time.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
)


def chromium_path() -> str:
    return os.environ.get("CASEBOT_CHROMIUM", DEFAULT_CHROMIUM)


async def launch_chromium(pw: Playwright, headless: bool = True) -> Browser:
    path = chromium_path()
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"Chromium not found at {path}: install Debian's package (apt-get install chromium) "
            "or set CASEBOT_CHROMIUM to the browser's path")
    return await pw.chromium.launch(executable_path=path, headless=headless, args=list(CHROMIUM_ARGS))


@dataclass
class Chromium:
    """A running Chromium and the Playwright that drives it: `relaunch` replaces a browser that crashed."""

    playwright: Playwright
    browser: Browser
    headless: bool

    async def relaunch(self) -> None:
        self.browser = await launch_chromium(self.playwright, headless=self.headless)


@asynccontextmanager
async def running_chromium(*, headless: bool = True) -> AsyncIterator[Chromium]:
    """Playwright and the machine's Chromium, started for the block and stopped after it, whatever happened."""
    async with async_playwright() as pw:
        chromium = Chromium(pw, await launch_chromium(pw, headless=headless), headless)
        try:
            yield chromium
        finally:
            # A browser that crashed cannot be closed; the error that ended the block matters more.
            with contextlib.suppress(Exception):
                await chromium.browser.close()
