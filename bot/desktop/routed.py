"""The case system with its calculation screen and park action through the desktop client, the rest through the
web screens: the `CaseSystemChannel` that `portals.casesystem.channel: desktop` gives a case."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TypeVar

from bot.desktop.driver import DesktopCaseSystem
from bot.drivers.casesystem import HANDLED_STATUSES, NEW, CaseRecord, CaseSystem, InboxRow

T = TypeVar("T")


class CaseSystemViaDesktop:
    """Reads, the journal and manual handling on the web screens; filling, reading back and parking on the
    desktop client, one action at a time (one desktop, one keyboard)."""

    def __init__(self, web: CaseSystem, desktop: DesktopCaseSystem, lock: asyncio.Lock) -> None:
        self.web = web
        self.desktop = desktop
        self.lock = lock

    # Both channels name the case and step in their errors.
    @property
    def case_id(self) -> str | None:
        return self.web.case_id

    @case_id.setter
    def case_id(self, value: str | None) -> None:
        self.web.case_id = self.desktop.case_id = value

    @property
    def step(self) -> str | None:
        return self.web.step

    @step.setter
    def step(self, value: str | None) -> None:
        self.web.step = self.desktop.step = value

    async def _on_desktop(self, action: Callable[[], T]) -> T:
        """Off the event loop (pyautogui blocks), holding the desktop for the whole action."""
        async with self.lock:
            self.desktop.case_id, self.desktop.step = self.web.case_id, self.web.step
            return await asyncio.to_thread(action)

    async def list_inbox(self, status: str = NEW) -> list[InboxRow]:
        return await self.web.list_inbox(status)

    async def status(self, case_id: str) -> str:
        return await self.web.status(case_id)

    async def read_case(self, case_id: str) -> CaseRecord:
        return await self.web.read_case(case_id)

    async def journal_texts(self, case_id: str) -> list[str]:
        return await self.web.journal_texts(case_id)

    async def add_journal_note(self, case_id: str, text: str) -> None:
        await self.web.add_journal_note(case_id, text)

    async def set_manual(self, case_id: str, reason: str) -> str:
        return await self.web.set_manual(case_id, reason)

    async def fill_calculation(self, case_id: str, values: Mapping[str, int | None]) -> None:
        await self._on_desktop(lambda: self.desktop.fill_calculation(case_id, values))

    async def read_calculation(self, case_id: str, *, reload: bool = True) -> dict[str, int | None]:
        return await self._on_desktop(lambda: self.desktop.read_calculation(case_id))

    async def park(self, case_id: str, *, needs_completion: bool) -> str:
        """As the web driver's: a case a human already has is left alone (its status read on the web screens)."""
        status = await self.web.status(case_id)
        if status in HANDLED_STATUSES:
            return status
        await self._on_desktop(lambda: self.desktop.park(case_id, needs_completion=needs_completion))
        return await self.web.status(case_id)
