"""Running the selector recorder in a browser of its own, with the portal's driver to walk to the screens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from bot.browser.worker import config_worker
from bot.config import Config
from bot.drivers.portal_drivers import make_driver, reference_of
from bot.selectors.load import load_selector_file
from bot.selectors.model import SelectorFile
from bot.upkeep.record import Recorder, RecordingScript, record_portal


async def record_in_browser(config: Config, portal: str, screens: Sequence[str], password: str, selector_path: Path,
                            *, script: RecordingScript | None, headless: bool, say: Callable[[str], None],
                            layout: str | None = None) -> Recorder:
    # No file yet: the recorder makes one from nothing, asking for what the portal's driver needs.
    selectors = load_selector_file(selector_path) if selector_path.exists() else SelectorFile.model_construct(
        portal=portal, layout=layout or "v1", recorded=None, stable_attributes=[], screens={})
    # Media are not blocked: an admin recording a screen should see it as a caseworker does.
    async with config_worker(config, "recorder", headless=headless, block_media=False) as worker:
        driver = make_driver(config, portal, await worker.page(portal), password, selectors)
        return await record_portal(driver, reference_of(config), screens, script=script,
                                   interactive=script is None, say=say)
