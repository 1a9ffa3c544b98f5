"""The preflight check, before any case is touched: every portal's screens walked read-only and every selector
resolved. A night that would fail case after case on a changed screen stops here instead, naming the elements.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from loguru import logger

from bot.browser.worker import lone_worker
from bot.config import PORTAL_NAMES, Config
from bot.drivers.base import Driver
from bot.drivers.portal_drivers import make_driver, reference_of
from bot.errors import ErrorCode, SystemException
from bot.selectors.model import SelectorFile
from bot.store.base import Store
from bot.upkeep.check import PortalCheck, check_portal


async def check_drivers(drivers: Sequence[Driver], config: Config) -> list[PortalCheck]:
    """Check the portals in parallel, each on its driver's own page."""
    reference = reference_of(config)
    return list(await asyncio.gather(*(check_portal(d, reference) for d in drivers)))


async def check_selectors(config: Config, passwords: Mapping[str, str], selectors: Mapping[str, SelectorFile],
                          portals: Sequence[str] = PORTAL_NAMES, *, headless: bool = True) -> list[PortalCheck]:
    """`casebot check-selectors`: a browser of its own, one context per portal, nothing written anywhere."""
    async with lone_worker("preflight", default_timeout_ms=int(config.timeouts.page_s * 1000),
                           headless=headless) as worker:
        drivers = [make_driver(config, name, await worker.page(name), passwords[name], selectors[name])
                   for name in portals]
        return await check_drivers(drivers, config)


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


def record_preflight(store: Store, run_id: str, results: Sequence[PortalCheck]) -> SystemException | None:
    """Put the screen check into the run's events (a healed element is drift for the report; a broken one an
    error; a portal that could not be walked a warning) and say whether the night must stop."""
    for result in results:
        for check in result.having("healed"):
            store.record_event(run_id, "WARNING", f"selector drift at preflight: {check.where} found by "
                               f"{check.strategy}", code="SELECTOR_DRIFT",
                               data={"kind": "drift", "portal": check.portal, "screen": check.screen,
                                     "element": check.element, "strategy": check.strategy})
        for check in result.having("broken"):
            store.record_event(run_id, "ERROR", f"selector broken at preflight: {check.where} ({check.detail})",
                               code=ErrorCode.SELECTOR_MISSING.value,
                               data={"step": "preflight", "runbook": ErrorCode.SELECTOR_MISSING.runbook,
                                     "portal": check.portal, "screen": check.screen, "element": check.element})
        if result.error is not None and not result.having("broken"):
            store.record_event(run_id, "WARNING", f"preflight could not walk {result.portal}: {result.error}",
                               code=result.error.code.value,
                               data={"step": "preflight", "runbook": result.error.runbook})
    failure = preflight_failure(results)
    if failure is None:
        healed = sum(len(r.having("healed")) for r in results)
        logger.info("preflight: every screen checked, {} element(s) found by a fallback", healed)
    return failure
