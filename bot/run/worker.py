"""One worker of the night: its own browser contexts and logins, claiming cases from the store until none is
left. It renews the lease on the case in hand, says it is alive, starts a fresh browser after a crash, and hands
every attempt's end to `settle`, which alone decides the item's state.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from loguru import logger
from playwright.async_api import Error as PlaywrightError

from bot.browser.launch import Chromium
from bot.browser.worker import WorkerBrowser
from bot.config import AGENCIES, PORTAL_NAMES
from bot.drivers.portal_drivers import Drivers, make_drivers
from bot.errors import CasebotError, ErrorCode
from bot.log import case_context
from bot.run.case import CaseJob, found_protected, process_case
from bot.run.settle import SETTLED_EXCEPTIONS, Outcome, settle
from bot.run.shift import Shift
from bot.store.base import LeaseExpired
from bot.store.models import WorkItem
from bot.store.sql import worker_id

# How often an idle worker looks for work another worker may leave (a back-off ending, a lease running out).
IDLE_POLL_S = 0.5


class Worker:
    def __init__(self, shift: Shift, number: int, browser: WorkerBrowser, drivers: Drivers) -> None:
        self.shift = shift
        self.id = worker_id(number)
        self.browser = browser
        self.drivers = drivers
        self._closed = False
        self._opened = time.monotonic()
        self._cases = 0  # attempts since the contexts were opened

    @classmethod
    async def open(cls, shift: Shift, number: int) -> Worker:
        """A context and page per portal in the night's browser; the logins happen at the first screen."""
        wid = worker_id(number)
        browser = await _open_browser(shift, wid)
        return cls(shift, number, browser, await _drivers_for(shift, browser))

    @property
    def chromium(self) -> Chromium:
        assert self.shift.chromium is not None, "the night starts the browser before its workers"
        return self.shift.chromium

    async def work(self) -> None:
        """Claim and work cases until none is left.

        An idle worker stays while another worker holds a case: if that worker dies, its lease runs out and this
        one resumes the case. It leaves when every item is final, or when the night stops taking cases."""
        store, config = self.shift.store, self.shift.config
        beat = 0.0
        try:
            while self.shift.taking_cases():
                item = store.claim_next(self.shift.run_id, self.id, config.store.lease_s,
                                        max_crashes=config.retries.max_crashes)
                if item is None:
                    if not store.has_open_items(self.shift.run_id):
                        return
                    if time.monotonic() - beat >= config.store.heartbeat_s:
                        store.worker_seen(self.id, run_id=self.shift.run_id, state="idle")
                        beat = time.monotonic()
                    await asyncio.sleep(IDLE_POLL_S)
                    continue
                failed = await self.attempt(item)
                beat = 0.0
                self._cases += 1
                # A healthy case says the browser is fine; only a failed one is worth asking every page.
                if not self.chromium.browser.is_connected() or (failed and not await self._alive()):
                    # The case in hand was failed with BROWSER_CRASHED and will be retried; go on with a fresh
                    # browser and fresh logins.
                    await self._restart_browser()
                elif self._due_for_recycling():
                    await self._recycle()
        finally:
            with contextlib.suppress(CasebotError):  # the store may be what failed; the worker stops either way
                store.worker_seen(self.id, run_id=self.shift.run_id, state="stopped")
            await self.close()

    async def attempt(self, item: WorkItem) -> bool:
        """Work one case to its end state; True when the attempt failed."""
        shift = self.shift
        job = CaseJob(shift.store, item, self.drivers, shift.guidelines, shift.norms,
                      run_label=f"körning {shift.run_id}", stop=shift.options.stop,
                      protected=found_protected(shift.store, item))
        drift_before = [len(d.drift) for d in self.drivers.every()]
        shift.store.worker_seen(self.id, run_id=shift.run_id, state="working", case_id=item.case_id)
        lease = asyncio.create_task(self._keep_lease(item))
        with case_context(item.case_id, step="start"):
            outcome: Outcome
            try:
                # Only a retry is traced: tracing every case would cost it several times its own time.
                retry = item.attempts + item.crashes > 1
                async with self.browser.case_trace(item.case_id, trace=retry and not job.protected,
                                                   keep_artifacts=lambda: not job.protected):
                    outcome = await asyncio.wait_for(process_case(job), timeout=shift.config.timeouts.case_s)
            except SETTLED_EXCEPTIONS as exc:  # every Exception, a bug too: it ends this case, not the worker
                outcome = exc
            finally:
                lease.cancel()
            failed = settle(shift, job, outcome)
            if job.protected:
                shift.store.forget_person(item)
                if self.browser.forget_case(item.case_id):
                    logger.info("{}: protected identity: the traces and screenshots of earlier attempts are "
                                "deleted", item.case_id)
            self._record_drift(item, drift_before)
        if shift.options.on_progress is not None:
            summary = shift.store.run_summary(shift.run_id)
            shift.options.on_progress(summary.total - summary.open, summary.total)
        return failed

    async def _keep_lease(self, item: WorkItem) -> None:
        """Renew the lease on the case in hand, and say this worker is alive, until the case ends (cancelled)."""
        store, config = self.shift.store, self.shift.config
        while True:
            await asyncio.sleep(config.store.heartbeat_s)
            try:
                store.heartbeat(item, config.store.lease_s)
                store.worker_seen(self.id, run_id=self.shift.run_id, state="working", case_id=item.case_id)
            except LeaseExpired:
                # Another worker took the case over (this one stalled past its lease): the store refuses our
                # further writes, so this attempt cannot record anything; it ends at its next checkpoint.
                logger.error("{}: the lease passed to another worker; this attempt's results will be refused",
                             item.case_id)
                return
            except CasebotError as exc:
                logger.warning("{}: could not renew the lease: {}", item.case_id, exc)

    def _record_drift(self, item: WorkItem, before: list[int]) -> None:
        notices = [n for d, start in zip(self.drivers.every(), before, strict=True) for n in d.drift[start:]]
        for notice in notices:
            where = f"{notice.portal}/{notice.screen}/{notice.element}"
            self.shift.store.record_event(self.shift.run_id, "WARNING", f"selector drift: {where} matched by "
                                          f"fallback #{notice.strategy_index} ({notice.strategy})",
                                          case_id=item.case_id, code="SELECTOR_DRIFT",
                                          data={"kind": "drift", "portal": notice.portal, "screen": notice.screen,
                                                "element": notice.element, "strategy": notice.strategy})

    async def _alive(self) -> bool:
        if not self.chromium.browser.is_connected():
            return False
        for page in self.browser.pages.values():
            try:
                await asyncio.wait_for(page.evaluate("1"), timeout=5)
            except (PlaywrightError, TimeoutError):
                return False
        return True

    def _due_for_recycling(self) -> bool:
        limits = self.shift.config.browser
        return (self._cases >= limits.recycle_after_cases
                or time.monotonic() - self._opened >= limits.recycle_after_minutes * 60)

    async def _recycle(self) -> None:
        """Fresh contexts and logins for the next cases: what a long night's pages held is given back."""
        cases, minutes = self._cases, (time.monotonic() - self._opened) / 60
        await self.close()
        await self._reopen()
        logger.info("{}: browser contexts renewed after {} cases, {:.1f} min", self.id, cases, minutes)
        self.shift.store.record_event(self.shift.run_id, "INFO", f"{self.id} renewed its browser contexts after "
                                      f"{cases} cases, {minutes:.1f} min", data={"worker": self.id, "cases": cases})

    async def _reopen(self) -> None:
        self.browser = await _open_browser(self.shift, self.id)
        self.drivers = await _drivers_for(self.shift, self.browser)
        self._closed = False
        self._opened, self._cases = time.monotonic(), 0

    async def _restart_browser(self) -> None:
        """Relaunch Chromium if it died (workers share it, so only the first one to notice does), then open this
        worker's contexts and logins again."""
        await self.close()
        shift = self.shift
        async with shift.browser_lock:
            if not self.chromium.browser.is_connected():
                logger.error("Chromium is gone (crashed or killed): starting a new one")
                shift.store.record_event(shift.run_id, "ERROR", "the browser crashed and was restarted",
                                         code=ErrorCode.BROWSER_CRASHED.value,
                                         data={"runbook": ErrorCode.BROWSER_CRASHED.runbook})
                await self.chromium.relaunch()
        await self._reopen()

    async def close(self) -> None:
        """Close this worker's contexts, keeping its drivers' drift notices for the night's result."""
        if self._closed:
            return
        self._closed = True
        self.shift.drift.extend(n for d in self.drivers.every() for n in d.drift)
        await self.browser.close()


async def _open_browser(shift: Shift, wid: str) -> WorkerBrowser:
    assert shift.chromium is not None, "the night starts the browser before its workers"
    return await WorkerBrowser.open(shift.chromium.browser, wid, shift.config.data_dir / "artifacts",
                                    default_timeout_ms=int(shift.config.timeouts.page_s * 1000),
                                    client_certificates=shift.chromium.client_certificates)


async def _drivers_for(shift: Shift, browser: WorkerBrowser) -> Drivers:
    pages = {name: await browser.page(name) for name in PORTAL_NAMES}
    extra = shift.config.browser.pages_per_agency - 1
    lanes = {name: [await browser.page(name, lane) for lane in range(1, extra + 1)] for name in AGENCIES}
    return make_drivers(shift.config, shift.passwords, shift.selectors, pages, shift.channel, lanes)
