"""Launching the machine's own Chromium: Playwright's browser downloads are not available here."""

from __future__ import annotations

import os

from playwright.async_api import Browser, Playwright

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
