"""What every worker of one night shares: the run, its rules and data, the browser, and whether the night must
stop. One place decides that the night stops (`stop_night`), so the reason is recorded once, the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from loguru import logger

from bot.browser.launch import Chromium
from bot.calc.guidelines import Guidelines
from bot.calc.norms import NormTables
from bot.config import Config
from bot.drivers.base import DriftNotice
from bot.drivers.portal_drivers import ChannelFactory
from bot.errors import CasebotError
from bot.selectors.model import SelectorFile
from bot.store.base import Store
from bot.store.models import RunSummary


@dataclass
class RunOptions:
    """What one run does beyond the config: a limit for trials, a stop signal for a graceful shutdown."""

    limit: int | None = None
    resume: bool = True
    run_id: str | None = None  # for a new run: the id the log file already carries
    stop: asyncio.Event = field(default_factory=asyncio.Event)  # SIGTERM: stop after the current step
    # The schedule's window: no new case is taken from then on; the cases in hand are finished.
    stop_taking_at: datetime | None = None
    headless: bool = True
    # Told (cases finished in this run, cases in the run) after every case: the demo's progress bar.
    on_progress: Callable[[int, int], None] | None = None


@dataclass
class RunResult:
    run_id: str
    summary: RunSummary
    stopped_by: CasebotError | None = None
    drift: list[DriftNotice] = field(default_factory=list)


@dataclass
class Shift:
    config: Config
    store: Store
    passwords: dict[str, str]
    selectors: dict[str, SelectorFile]
    guidelines: Guidelines
    norms: NormTables
    options: RunOptions
    run_id: str = ""
    chromium: Chromium | None = None
    # The desktop client's channel for the case system, when the config routes it there.
    channel: ChannelFactory | None = None
    stop_error: CasebotError | None = None
    window_closed: bool = False
    drift: list[DriftNotice] = field(default_factory=list)
    browser_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def stop_night(self, error: CasebotError, *, step: str, what: str, recorded: bool = False) -> None:
        """Every further case would fail the same way (wrong password, broken screens, no norm table): the workers
        stop taking cases, and the night ends with this error. `recorded`: the case's failure event already
        names it."""
        self.stop_error = error
        logger.critical("{}: {}", what, error)
        if not recorded:
            self.store.record_event(self.run_id, "CRITICAL", str(error), code=error.code.value,
                                    data={"step": step, "runbook": error.runbook})

    def taking_cases(self) -> bool:
        """Whether a worker may claim another case: no stop requested or needed, the window open, the run open."""
        if self.options.stop.is_set() or self.stop_error is not None or self._window_closed():
            return False
        run = self.store.get_run(self.run_id)
        return run is not None and run.status == "running"

    def _window_closed(self) -> bool:
        end = self.options.stop_taking_at
        if end is None or datetime.now(end.tzinfo) < end:
            return False
        if not self.window_closed:
            self.window_closed = True
            logger.warning("the run's time window ended at {}: no new case is taken; the next run continues",
                           end.isoformat(timespec="minutes"))
            self.store.record_event(self.run_id, "WARNING", f"time window ended at {end.isoformat()}: cases left "
                                    "for the next run", code="WINDOW_ENDED")
        return True

