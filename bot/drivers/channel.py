"""What the run needs of the case system, whichever way it is reached: the web screens (`CaseSystem`), or the
calculation screen through the desktop client with the rest on the web screens (`bot.desktop.routed`). The type
checker holds both to it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bot.drivers.casesystem import NEW, CaseRecord, InboxRow


class CaseSystemChannel(Protocol):
    """The case system as the night and a case use it. `case_id` and `step` name where the robot is, for the
    errors the channel raises."""

    case_id: str | None
    step: str | None

    async def list_inbox(self, status: str = NEW) -> list[InboxRow]: ...

    async def status(self, case_id: str) -> str: ...

    async def read_case(self, case_id: str) -> CaseRecord: ...

    async def fill_calculation(self, case_id: str, values: Mapping[str, int | None]) -> None: ...

    async def read_calculation(self, case_id: str, *, reload: bool = True) -> dict[str, int | None]: ...

    async def journal_texts(self, case_id: str) -> list[str]: ...

    async def add_journal_note(self, case_id: str, text: str) -> None: ...

    async def park(self, case_id: str, *, needs_completion: bool) -> str: ...

    async def set_manual(self, case_id: str, reason: str) -> str: ...
