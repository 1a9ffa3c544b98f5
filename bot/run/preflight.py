"""The preflight check, before any case is touched: every portal's screens walked read-only and every selector
resolved. A night that would fail case after case on a changed screen stops here instead, naming the elements.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence

from playwright.async_api import async_playwright

from bot.browser.launch import launch_chromium
from bot.browser.worker import WorkerBrowser
from bot.config import PORTAL_NAMES, Config
from bot.drivers.base import Driver
from bot.errors import ErrorCode, SystemException
from bot.run.drivers import make_driver, reference_of
from bot.selectors.check import PortalCheck, check_portal
from bot.selectors.model import SelectorFile


async def check_drivers(drivers: Sequence[Driver], config: Config) -> list[PortalCheck]:
    """Check the portals in parallel, each on its driver's own page."""
    reference = reference_of(config)
    return list(await asyncio.gather(*(check_portal(d, reference) for d in drivers)))


async def check_selectors(config: Config, passwords: Mapping[str, str], selectors: Mapping[str, SelectorFile],
                          portals: Sequence[str] = PORTAL_NAMES, *, headless: bool = True) -> list[PortalCheck]:
    """`casebot check-selectors`: a browser of its own, one context per portal, nothing written anywhere."""
    async with async_playwright() as pw:
        browser = await launch_chromium(pw, headless=headless)
        worker = await WorkerBrowser.open(browser, "preflight", None,
                                          default_timeout_ms=int(config.timeouts.page_s * 1000))
        try:
            drivers = [make_driver(config, name, await worker.page(name), passwords[name], selectors[name])
                       for name in portals]
            return await check_drivers(drivers, config)
        finally:
            await worker.close()
            with contextlib.suppress(Exception):
                await browser.close()


def preflight_failure(results: Sequence[PortalCheck]) -> SystemException | None:
    """The error that stops the night, if any: broken elements (PREFLIGHT_FAILED, naming them all), or a walk
    stopped by an error that would stop the run anyway (wrong password, locked account). A portal that is only
    down or slow is not a reason to skip the night: cases retry it, and the others go on."""
    broken = [c.where for r in results for c in r.having("broken")]
    if broken:
        return SystemException(ErrorCode.PREFLIGHT_FAILED,
                               f"the selectors no longer find {len(broken)} element(s): {', '.join(broken)}. "
                               "Run `casebot check-selectors`, then re-record with `casebot record`",
                               step="preflight")
    for result in results:
        if result.error is not None and result.error.code.stops_run:
            return SystemException(result.error.code, result.error.message, step="preflight",
                                   portal=result.portal)
    return None
