"""One robot process's desktop: its display, the desktop client's anchors and driver, and the lock that lets one
worker at a time use the keyboard. Made once per night when a portal's channel is `desktop`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Config
from bot.desktop.anchors import load_desktop
from bot.desktop.display import Display, DisplayUnavailable
from bot.desktop.driver import DesktopCaseSystem
from bot.desktop.routed import CaseSystemViaDesktop
from bot.drivers.base import PortalAccount
from bot.drivers.casesystem import CaseSystem
from bot.errors import ErrorCode, SystemException
from bot.paths import SELECTORS_DIR


@dataclass
class DesktopChannel:
    driver: DesktopCaseSystem
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def open(cls, config: Config, password: str, artifacts_dir: Path | None = None) -> DesktopChannel:
        assert config.desktop is not None  # the config insists on it with channel: desktop
        folder = (config.selectors_dir or SELECTORS_DIR) / "casesystem"
        anchors = load_desktop(folder)  # a malformed file stops the night here, naming file and line
        try:
            display = Display(config.desktop.display)
        except DisplayUnavailable as exc:
            raise SystemException(ErrorCode.PORTAL_DOWN, f"casesystem (desktop): {exc}", retryable=False,
                                  step="preflight") from exc
        portal = config.portals.casesystem
        return cls(DesktopCaseSystem(display, anchors, folder, PortalAccount(portal.username, password),
                                     timeout_s=config.desktop.timeout_s, shots_dir=artifacts_dir))

    def route(self, web: CaseSystem) -> CaseSystemViaDesktop:
        return CaseSystemViaDesktop(web, self.driver, self.lock)
