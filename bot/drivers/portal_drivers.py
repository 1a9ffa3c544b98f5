"""One worker's drivers, one per portal, each on its own page of the worker's browser context; built from the
config by the night, the screen check and the recorder alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from playwright.async_api import Page

from bot.config import Config
from bot.drivers.af import Af
from bot.drivers.base import Driver, PortalAccount, Reference
from bot.drivers.casesystem import CaseSystem
from bot.drivers.channel import CaseSystemChannel
from bot.drivers.csn import Csn
from bot.drivers.fk import Fk
from bot.drivers.skv import Skv
from bot.selectors.model import SelectorFile

DRIVER_CLASSES: dict[str, type[Driver]] = {"casesystem": CaseSystem, "skv": Skv, "fk": Fk, "af": Af, "csn": Csn}

# Given the case system's web driver, the channel a case uses instead (the desktop client's, when configured).
ChannelFactory = Callable[[CaseSystem], CaseSystemChannel]


@dataclass
class Drivers:
    """`casesystem` is the channel a case works through; `casesystem_web` its web screens, which the screen
    check walks and which carry the drift notices (the same object unless a desktop channel is configured)."""

    casesystem: CaseSystemChannel
    casesystem_web: CaseSystem
    skv: Skv
    fk: Fk
    af: Af
    csn: Csn

    def all(self) -> tuple[CaseSystem, Skv, Fk, Af, Csn]:
        """The web drivers, one per portal."""
        return (self.casesystem_web, self.skv, self.fk, self.af, self.csn)

    def set_context(self, case_id: str | None, step: str | None) -> None:
        for driver in self.all():
            driver.case_id, driver.step = case_id, step
        self.casesystem.case_id, self.casesystem.step = case_id, step


def make_driver(config: Config, name: str, page: Page, password: str, selectors: SelectorFile) -> Driver:
    portal = config.portals[name]
    return DRIVER_CLASSES[name](portal=name, base_url=portal.url, page=page, selectors=selectors,
                                account=PortalAccount(portal.username, password),
                                timeout_s=config.timeouts.element_s,
                                max_login_attempts=config.retries.login_attempts)


def make_drivers(config: Config, passwords: Mapping[str, str], selectors: Mapping[str, SelectorFile],
                 pages: Mapping[str, Page], channel: ChannelFactory | None = None) -> Drivers:
    def made(name: str) -> Driver:
        return make_driver(config, name, pages[name], passwords[name], selectors[name])

    web = made("casesystem")
    assert isinstance(web, CaseSystem)
    skv, fk, af, csn = made("skv"), made("fk"), made("af"), made("csn")
    assert isinstance(skv, Skv) and isinstance(fk, Fk) and isinstance(af, Af) and isinstance(csn, Csn)
    return Drivers(casesystem=channel(web) if channel is not None else web, casesystem_web=web,
                   skv=skv, fk=fk, af=af, csn=csn)


def reference_of(config: Config) -> Reference:
    return Reference(config.preflight.reference_case, config.preflight.reference_pnr)
