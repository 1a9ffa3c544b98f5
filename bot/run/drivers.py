"""Building one worker's drivers from the config: the run, the preflight check and the recorder share this."""

from __future__ import annotations

from collections.abc import Mapping

from playwright.async_api import Page

from bot.config import PORTAL_NAMES, Config
from bot.desktop.channel import DesktopChannel
from bot.drivers.af import Af
from bot.drivers.base import Driver, PortalAccount, Reference
from bot.drivers.casesystem import CaseSystem
from bot.drivers.csn import Csn
from bot.drivers.fk import Fk
from bot.drivers.skv import Skv
from bot.run.collect import Drivers
from bot.selectors.model import SelectorFile

DRIVER_CLASSES: dict[str, type[Driver]] = {"casesystem": CaseSystem, "skv": Skv, "fk": Fk, "af": Af, "csn": Csn}


def make_driver(config: Config, name: str, page: Page, password: str, selectors: SelectorFile) -> Driver:
    portal = config.portals[name]
    return DRIVER_CLASSES[name](portal=name, base_url=portal.url, page=page, selectors=selectors,
                                account=PortalAccount(portal.username, password),
                                timeout_s=config.timeouts.element_s,
                                max_login_attempts=config.retries.login_attempts)


def make_drivers(config: Config, passwords: Mapping[str, str], selectors: Mapping[str, SelectorFile],
                 pages: Mapping[str, Page], desktop: DesktopChannel | None = None) -> Drivers:
    made: dict[str, object] = {name: make_driver(config, name, pages[name], passwords[name], selectors[name])
                               for name in PORTAL_NAMES}
    if config.portals.casesystem.channel == "desktop":
        if desktop is None:
            raise ValueError("the case system's channel is desktop, but no desktop was given")
        made["casesystem"] = desktop.route(made["casesystem"])  # type: ignore[arg-type]
    return Drivers(**made)  # type: ignore[arg-type]


def reference_of(config: Config) -> Reference:
    return Reference(config.preflight.reference_case, config.preflight.reference_pnr)
