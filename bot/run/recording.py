"""Running the selector recorder in a browser of its own, with the portal's driver to walk to the screens."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path

from playwright.async_api import async_playwright

from bot.browser.launch import launch_chromium
from bot.browser.worker import WorkerBrowser
from bot.config import Config
from bot.run.drivers import make_driver, reference_of
from bot.selectors.load import load_selector_file
from bot.selectors.record import Recorder, RecordingScript, record_portal


async def record_in_browser(config: Config, portal: str, screens: Sequence[str], password: str, selector_path: Path,
                            *, script: RecordingScript | None, headless: bool, say: Callable[[str], None]
                            ) -> Recorder:
    selectors = load_selector_file(selector_path)
    async with async_playwright() as pw:
        browser = await launch_chromium(pw, headless=headless)
        # Media are not blocked: an admin recording a screen should see it as a caseworker does.
        worker = await WorkerBrowser.open(browser, "recorder", None, block_media=False,
                                          default_timeout_ms=int(config.timeouts.page_s * 1000))
        try:
            driver = make_driver(config, portal, await worker.page(portal), password, selectors)
            return await record_portal(driver, reference_of(config), screens, script=script,
                                       interactive=script is None, say=say)
        finally:
            await worker.close()
            with contextlib.suppress(Exception):
                await browser.close()
