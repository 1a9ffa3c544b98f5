"""One worker's drivers, one per portal, each on its own page of the worker's browser context; built from the
config by the night, the screen check and the recorder alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

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

D = TypeVar("D", bound=Driver)

# Given the case system's web driver, the channel a case uses instead (the desktop client's, when configured).
ChannelFactory = Callable[[CaseSystem], CaseSystemChannel]


@dataclass
class Drivers:
    """`casesystem` is the channel a case works through; `casesystem_web` its web screens, which the screen
    check walks and which carry the drift notices (the same object unless a desktop channel is configured).
    `lanes`: more drivers per agency, each on a page of its own in that agency's context (one login's cookies), so
    a household's members are looked up side by side (`browser.pages_per_agency`)."""

    casesystem: CaseSystemChannel
    casesystem_web: CaseSystem
    skv: Skv
    fk: Fk
    af: Af
    csn: Csn
    lanes: dict[str, list[Driver]] = field(default_factory=dict)

    def all(self) -> tuple[CaseSystem, Skv, Fk, Af, Csn]:
        """The web drivers, one per portal (the screen check walks these)."""
        return (self.casesystem_web, self.skv, self.fk, self.af, self.csn)

    def every(self) -> list[Driver]:
        """Every driver, the extra lanes too (drift notices, the case and step in errors)."""
        return [*self.all(), *(d for lane in self.lanes.values() for d in lane)]

    def of(self, kind: type[D]) -> list[D]:
        """The drivers that may look people up at this agency at the same time, the main one first."""
        main = next(d for d in self.all() if isinstance(d, kind))
        return [main, *(d for d in self.lanes.get(main.portal, []) if isinstance(d, kind))]

    def set_context(self, case_id: str | None, step: str | None) -> None:
        for driver in self.every():
            driver.case_id, driver.step = case_id, step
        self.casesystem.case_id, self.casesystem.step = case_id, step


def make_driver(config: Config, name: str, page: Page, password: str, selectors: SelectorFile) -> Driver:
    portal = config.portals[name]
    return DRIVER_CLASSES[name](portal=name, base_url=portal.url, page=page, selectors=selectors,
                                account=PortalAccount(portal.username, password),
                                timeout_s=config.timeouts.element_s,
                                max_login_attempts=config.retries.login_attempts)


def make_drivers(config: Config, passwords: Mapping[str, str], selectors: Mapping[str, SelectorFile],
                 pages: Mapping[str, Page], channel: ChannelFactory | None = None,
                 lane_pages: Mapping[str, list[Page]] | None = None) -> Drivers:
    def made(name: str, page: Page | None = None) -> Driver:
        return make_driver(config, name, page or pages[name], passwords[name], selectors[name])

    web = made("casesystem")
    assert isinstance(web, CaseSystem)
    skv, fk, af, csn = made("skv"), made("fk"), made("af"), made("csn")
    assert isinstance(skv, Skv) and isinstance(fk, Fk) and isinstance(af, Af) and isinstance(csn, Csn)
    lanes = {name: [made(name, page) for page in extra] for name, extra in (lane_pages or {}).items()}
    return Drivers(casesystem=channel(web) if channel is not None else web, casesystem_web=web,
                   skv=skv, fk=fk, af=af, csn=csn, lanes=lanes)


def reference_of(config: Config) -> Reference:
    return Reference(config.preflight.reference_case, config.preflight.reference_pnr)
