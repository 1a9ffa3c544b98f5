"""The case system with its calculation screen and park action through the desktop client, the rest through the
web screens: what `portals.casesystem.channel: desktop` gives the run loop, with the web driver's methods."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bot.desktop.driver import DesktopCaseSystem
from bot.drivers.casesystem import HANDLED_STATUSES, CaseSystem


class CaseSystemViaDesktop:
    def __init__(self, web: CaseSystem, desktop: DesktopCaseSystem, lock: asyncio.Lock) -> None:
        self.__dict__.update(web=web, desktop=desktop, lock=lock)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.web, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # The run loop tells the case system driver which case and step it is on: both channels must know.
        setattr(self.web, name, value)
        if name in ("case_id", "step"):
            setattr(self.desktop, name, value)

    async def _on_desktop(self, action: Any, *args: Any, **kwargs: Any) -> Any:
        """One desktop, one keyboard: one action at a time, off the event loop (pyautogui blocks)."""
        async with self.lock:
            self.desktop.case_id, self.desktop.step = self.web.case_id, self.web.step
            return await asyncio.to_thread(action, *args, **kwargs)

    async def fill_calculation(self, case_id: str, values: Mapping[str, int | None]) -> None:
        await self._on_desktop(self.desktop.fill_calculation, case_id, values)

    async def read_calculation(self, case_id: str, *, reload: bool = True) -> dict[str, int | None]:
        result: dict[str, int | None] = await self._on_desktop(self.desktop.read_calculation, case_id)
        return result

    async def park(self, case_id: str, *, needs_completion: bool) -> str:
        """As the web driver's: a case a human already has is left alone (its status read on the web screens)."""
        status = await self.web.status(case_id)
        if status in HANDLED_STATUSES:
            return status
        await self._on_desktop(self.desktop.park, case_id, needs_completion=needs_completion)
        return await self.web.status(case_id)
