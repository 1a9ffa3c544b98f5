"""The nightly run, REFramework-style: init → get work → process each item → end.

- Init: open (or continue) the run in the store, log in lazily per worker. Workers of other robot processes (`casebot
  worker`, on this host or others, sharing a PostgreSQL store) may join the run: `join` works a run opened elsewhere.
- Get work: list the case system's new applications (and cases an earlier run left half-done) as work items.
- Process: N workers, each with its own browser context and logins, claim items from the store with a lease.
  A business outcome (the data says a human decides) completes the item; a system exception is retried with
  back-off up to the configured attempts, then the item is failed with its error code and runbook. A code that
  makes every further case fail the same way (wrong password, locked account, missing norm table) stops the run.
- End: finish the run record and return its summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from loguru import logger
from playwright.async_api import Browser, Page, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from bot.browser.artifacts import purge_artifacts
from bot.browser.launch import launch_chromium
from bot.browser.worker import WorkerBrowser
from bot.calc import load_guidelines, load_norms
from bot.calc.guidelines import Guidelines
from bot.calc.norms import NormTables
from bot.config import PORTAL_NAMES, Config
from bot.desktop.channel import DesktopChannel
from bot.drivers.base import DriftNotice, browser_gone
from bot.drivers.casesystem import IN_PROGRESS, NEW
from bot.errors import CasebotError, ErrorCode, SystemException
from bot.log import case_context
from bot.paths import SELECTORS_DIR
from bot.run.collect import Drivers
from bot.run.drivers import make_drivers
from bot.run.preflight import check_drivers, preflight_failure
from bot.run.process import CaseJob, StopRequested, found_protected, process_case
from bot.run.refusals import known_refusal, remember_refusal
from bot.selectors.load import load_all
from bot.selectors.model import SelectorFile
from bot.store.base import LeaseExpired, Store
from bot.store.models import NewWorkItem, Run, RunSummary, WorkItem
from bot.store.sql import default_owner

# How often an idle worker looks for work another worker may leave (a back-off ending, a lease running out).
IDLE_POLL_S = 0.5


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


class Night:
    """One run of the robot over the case system's inbox."""

    def __init__(self, config: Config, store: Store, passwords: dict[str, str], *,
                 selectors: dict[str, SelectorFile] | None = None, options: RunOptions | None = None,
                 guidelines: Guidelines | None = None, norms: NormTables | None = None) -> None:
        self.config = config
        self.store = store
        self.passwords = passwords
        self.selectors = selectors if selectors is not None else load_all(config.selectors_dir or SELECTORS_DIR)
        self.options = options or RunOptions()
        self.guidelines = guidelines or load_guidelines(config.guidelines)
        self.norms = norms or load_norms()
        self.stop_error: CasebotError | None = None
        self.window_closed = False
        self.playwright: Playwright
        self.browser: Browser
        self._browser_lock = asyncio.Lock()
        self.drift: list[DriftNotice] = []
        self.run_id = ""
        self.owner = default_owner()  # host:pid; worker ids are <owner>:w<n>, unique across robot hosts
        self.desktop: DesktopChannel | None = None

    def worker_id(self, number: int) -> str:
        return f"{self.owner}:w{number}"

    @property
    def lease_s(self) -> float:
        return self.config.store.lease_s

    # -- init -----------------------------------------------------------------------------------------
    def drivers_for(self, pages: dict[str, Page]) -> Drivers:
        return make_drivers(self.config, self.passwords, self.selectors, pages, self.desktop)

    def _open_desktop(self) -> bool:
        """The desktop channel's display and anchors, when a portal uses it; False (a stop) if unusable."""
        if self.config.portals.casesystem.channel != "desktop" or self.desktop is not None:
            return True
        try:
            self.desktop = DesktopChannel.open(self.config, self.passwords["casesystem"],
                                               self.config.data_dir / "artifacts")
            self.desktop.driver.step = "preflight"
            showing = self.desktop.driver.check()
            logger.info("desktop client on {}: its {} screen is showing as recorded", self.config.desktop.display
                        if self.config.desktop else "?", showing)
        except CasebotError as exc:
            self._stop_at_fetch(exc, "preflight", "the desktop client is not as recorded")
            return False
        return True

    async def open_worker(self, browser: Browser, worker_id: str) -> tuple[WorkerBrowser, Drivers]:
        artifacts = self.config.data_dir / "artifacts"
        worker = await WorkerBrowser.open(browser, worker_id, artifacts,
                                          default_timeout_ms=int(self.config.timeouts.page_s * 1000))
        pages = {name: await worker.page(name) for name in PORTAL_NAMES}
        return worker, self.drivers_for(pages)

    # -- get work -------------------------------------------------------------------------------------
    async def fetch_work(self, drivers: Drivers) -> int:
        """New applications, plus cases an earlier run left under way (saved but not parked)."""
        cs = drivers.casesystem
        rows = await cs.list_inbox(NEW)
        for row in await cs.list_inbox(IN_PROGRESS):
            earlier = self.store.latest_item_for_case(row.case_id, row.period, exclude_run=self.run_id)
            if earlier is not None and earlier.state != "done":
                rows.append(row)
        if self.options.limit is not None:
            rows = rows[: self.options.limit]
        added = self.store.add_work_items(self.run_id, [NewWorkItem(r.case_id, r.period, r.pnr) for r in rows])
        logger.info("inbox: {} case(s) to prepare, {} new to this run", len(rows), added)
        return added

    # -- process --------------------------------------------------------------------------------------
    async def work(self, worker_id: str, opened: tuple[WorkerBrowser, Drivers] | None = None) -> None:
        """Claim and process items until none is left. `opened`: a worker already logged in (the fetch's).

        An idle worker stays while another worker holds an item: if that worker dies, its lease runs out and this
        one resumes the case. It leaves when every item is final, or when the run was closed (by its leader)."""
        worker, drivers = opened or await self.open_worker(self.browser, worker_id)
        beat = 0.0
        try:
            while not self.options.stop.is_set() and self.stop_error is None and not self._window_closed():
                if not self._run_open():
                    return
                item = self.store.claim_next(self.run_id, worker_id, self.lease_s,
                                             max_attempts=self.config.retries.max_attempts)
                if item is None:
                    if not self._unfinished_items():
                        return
                    if time.monotonic() - beat >= self.config.store.heartbeat_s:
                        self.store.worker_seen(worker_id, run_id=self.run_id, state="idle")
                        beat = time.monotonic()
                    await asyncio.sleep(IDLE_POLL_S)
                    continue
                failed = await self.process(worker, drivers, item)
                beat = 0.0
                # A healthy case says the browser is fine; only a failed one is worth asking every page.
                if not self.browser.is_connected() or (failed and not await self._worker_alive(worker)):
                    # The browser (or one of this worker's pages) crashed: the case in hand was failed with
                    # BROWSER_CRASHED and will be retried; start over with a fresh browser and fresh logins.
                    await self._close_worker(worker, drivers)
                    await self._ensure_browser()
                    worker, drivers = await self.open_worker(self.browser, worker_id)
        finally:
            with contextlib.suppress(CasebotError):  # the store may be what failed; the worker stops either way
                self.store.worker_seen(worker_id, run_id=self.run_id, state="stopped")
            await self._close_worker(worker, drivers)

    async def _keep_lease(self, item: WorkItem) -> None:
        """Renew the lease on the case in hand, and say this worker is alive, until the case ends (cancelled)."""
        assert item.lease_owner is not None
        while True:
            await asyncio.sleep(self.config.store.heartbeat_s)
            try:
                self.store.heartbeat(item, self.lease_s)
                self.store.worker_seen(item.lease_owner, run_id=self.run_id, state="working", case_id=item.case_id)
            except LeaseExpired:
                # Another worker took the case over (this one stalled past its lease): the store refuses our
                # further writes, so this attempt cannot record anything; it ends at its next checkpoint.
                logger.error("{}: the lease passed to another worker; this attempt's results will be refused",
                             item.case_id)
                return
            except CasebotError as exc:
                logger.warning("{}: could not renew the lease: {}", item.case_id, exc)

    async def _worker_alive(self, worker: WorkerBrowser) -> bool:
        if not self.browser.is_connected():
            return False
        for page in worker.pages.values():
            try:
                await asyncio.wait_for(page.evaluate("1"), timeout=5)
            except (PlaywrightError, TimeoutError):
                return False
        return True

    async def _ensure_browser(self) -> None:
        """Relaunch Chromium if it died; workers share it, so only the first one to notice does."""
        async with self._browser_lock:
            if self.browser.is_connected():
                return
            logger.error("Chromium is gone (crashed or killed): starting a new one")
            self.store.record_event(self.run_id, "ERROR", "the browser crashed and was restarted",
                                    code=ErrorCode.BROWSER_CRASHED.value,
                                    data={"runbook": ErrorCode.BROWSER_CRASHED.runbook})
            self.browser = await launch_chromium(self.playwright, headless=self.options.headless)

    async def _close_worker(self, worker: WorkerBrowser, drivers: Drivers) -> None:
        self.drift.extend(n for d in drivers.all() for n in d.drift)
        await worker.close()

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

    def _unfinished_items(self) -> bool:
        """Items waiting for their back-off, or held by a worker (this process's or another's)."""
        return bool(self.store.items(self.run_id, "new") or self.store.items(self.run_id, "in_progress"))

    def _run_open(self) -> bool:
        run = self.store.get_run(self.run_id)
        return run is not None and run.status == "running"

    async def process(self, worker: WorkerBrowser, drivers: Drivers, item: WorkItem) -> bool:
        """Work one item to its end state; True when the attempt failed."""
        failed = True
        job = CaseJob(self.store, item, drivers, self.guidelines, self.norms, run_label=f"körning {self.run_id}",
                      stop=self.options.stop, protected=found_protected(self.store, item))
        drift_before = [len(d.drift) for d in drivers.all()]
        self.store.worker_seen(item.lease_owner or "", run_id=self.run_id, state="working", case_id=item.case_id)
        lease = asyncio.create_task(self._keep_lease(item))
        with case_context(item.case_id, step="start"):
            try:
                try:
                    async with worker.case_trace(item.case_id, trace=item.attempts > 1 and not job.protected,
                                                 keep_artifacts=lambda: not job.protected):
                        result = await asyncio.wait_for(process_case(job), timeout=self.config.timeouts.case_s)
                except CasebotError as exc:
                    self._failed(item, exc)
                except StopRequested as exc:
                    failed = False
                    self.store.release(item)
                    logger.warning("{}: stopped after step {} on request; the next run continues it", item.case_id, exc)
                except TimeoutError:
                    self._failed(item, SystemException(ErrorCode.PORTAL_SLOW, f"the case took longer than "
                                                       f"{self.config.timeouts.case_s:.0f} s", case_id=item.case_id))
                except PlaywrightError as exc:
                    self._failed(item, system_error_from(exc, step=job.steps_done[-1] if job.steps_done else "collect",
                                                         case_id=item.case_id))
                else:
                    failed = False
                    if result.business is not None:
                        self.store.business_exception(item, result.business.code, result.business.message,
                                                      reasons=result.reasons, step=result.business.step)
                    else:
                        self.store.complete(item, result.outcome, amount=result.amount, reasons=result.reasons,
                                            empty_fields=result.empty_fields, pnr=result.pnr)
                    logger.info("{}: done, outcome {}", item.case_id, result.outcome)
            except LeaseExpired as exc:
                # Not this worker's case any more (it stalled past its lease): the one that took it over
                # finishes it from the last checkpoint; nothing of this attempt is recorded.
                failed = False
                logger.error("{}: {}; the worker that took it over finishes the case", item.case_id, exc)
            finally:
                lease.cancel()
            if job.protected:
                self.store.forget_person(item)
                if worker.forget_case(item.case_id):
                    logger.info("{}: protected identity: the traces and screenshots of earlier attempts are "
                                "deleted", item.case_id)
            self._record_drift(item, drivers, drift_before)
        if self.options.on_progress is not None:
            summary = self.store.run_summary(self.run_id)
            self.options.on_progress(summary.total - summary.open, summary.total)
        return failed

    def _record_drift(self, item: WorkItem, drivers: Drivers, before: list[int]) -> None:
        notices = [n for d, start in zip(drivers.all(), before, strict=True) for n in d.drift[start:]]
        for notice in notices:
            where = f"{notice.portal}/{notice.screen}/{notice.element}"
            self.store.record_event(self.run_id, "WARNING", f"selector drift: {where} matched by fallback "
                                    f"#{notice.strategy_index} ({notice.strategy})",
                                    case_id=item.case_id, code="SELECTOR_DRIFT",
                                    data={"kind": "drift", "portal": notice.portal, "screen": notice.screen,
                                          "element": notice.element, "strategy": notice.strategy})

    def _failed(self, item: WorkItem, exc: CasebotError) -> None:
        exc.with_context(item.case_id)
        retryable = getattr(exc, "retryable", False)
        delay = self.config.retries.delay_s(item.attempts)
        updated = self.store.fail(item, exc.code, exc.message, retryable=retryable,
                                  max_attempts=self.config.retries.max_attempts, retry_in_s=delay, step=exc.step)
        again = updated.state == "new"
        logger.error("{}{}", exc, f" (attempt {item.attempts}, retrying in {delay:.0f} s)" if again else "")
        self.store.record_event(self.run_id, "ERROR", str(exc), case_id=item.case_id, code=exc.code.value,
                                data={"step": exc.step, "runbook": exc.runbook, "will_retry": again})
        if exc.code.stops_run:
            self.stop_error = exc
            logger.critical("stopping the run: {}", exc)

    # -- the whole night ------------------------------------------------------------------------------
    async def run(self) -> RunResult:
        run = self.store.open_run(self.config.summary(), run_id=self.options.run_id, resume=self.options.resume)
        self.run_id = run.id
        if run.resumed:
            # Only the leases of workers that are gone: workers of other robot processes may be at their cases.
            released = self.store.release_leases(run.id, alive_within_s=self.lease_s)
            logger.info("continuing run {} ({} case(s) were in progress when it stopped)", run.id, released)
        else:
            logger.info("run {} started", run.id)
        retention = self.config.retention
        purged = purge_artifacts(self.config.data_dir / "artifacts", retention.traces_days, retention.screenshots_days)
        if purged:
            logger.info("{} trace(s) and screenshot(s) past their retention deleted", len(purged))
        refused = known_refusal(self.store, self.config, self.passwords)
        if refused is not None:
            self.stop_error = refused
            logger.critical("stopping before any login: {}", refused)
            self.store.record_event(run.id, "CRITICAL", str(refused), code=refused.code.value,
                                    data={"step": "preflight", "runbook": refused.runbook})
        else:
            await self._work_the_night()
            if self.stop_error is not None:
                remember_refusal(self.store, self.config, self.passwords, self.stop_error)
        interrupted = self.options.stop.is_set() or self.window_closed
        status = "failed" if self.stop_error else ("aborted" if interrupted else "finished")
        if status != "aborted":
            self.store.finish_run(run.id, status)
        summary = self.store.run_summary(run.id)
        return RunResult(run.id, summary, self.stop_error, self.drift)

    async def join(self, run: Run) -> RunResult:
        """Work a run another process opened (and will close): no preflight, no inbox, just claims. Returns when
        nothing is left to claim, the run was closed, or a stop error (wrong password, …) makes going on useless."""
        self.run_id = run.id
        refused = known_refusal(self.store, self.config, self.passwords)
        if refused is not None:
            self.stop_error = refused
            logger.critical("not joining run {}: {}", run.id, refused)
        elif self._open_desktop():
            async with async_playwright() as pw:
                self.playwright = pw
                self.browser = await launch_chromium(pw, headless=self.options.headless)
                try:
                    await asyncio.gather(*(self.work(self.worker_id(i + 1)) for i in range(self.config.workers)))
                finally:
                    with contextlib.suppress(Exception):
                        await self.browser.close()
            if self.stop_error is not None:
                remember_refusal(self.store, self.config, self.passwords, self.stop_error)
        return RunResult(run.id, self.store.run_summary(run.id), self.stop_error, self.drift)

    async def _work_the_night(self) -> None:
        if not self._open_desktop():
            return
        async with async_playwright() as pw:
            self.playwright = pw
            self.browser = await launch_chromium(pw, headless=self.options.headless)
            try:
                fetched = await self._fetch(self.browser)
                if fetched is not None:
                    # The first worker goes on with the fetch's browser contexts: its logins are already made.
                    others = (self.work(self.worker_id(i + 1)) for i in range(1, self.config.workers))
                    await asyncio.gather(self.work(self.worker_id(1), fetched), *others)
            finally:
                with contextlib.suppress(Exception):
                    await self.browser.close()

    async def _fetch(self, browser: Browser) -> tuple[WorkerBrowser, Drivers] | None:
        """Preflight, then list the work; the logged-in worker to go on with, or None when the night stops."""
        worker, drivers = await self.open_worker(browser, self.worker_id(1))
        try:
            if not self.config.preflight.enabled or await self._preflight(drivers):
                await self.fetch_work(drivers)
        except PlaywrightError as exc:  # anything a driver did not turn into a code: still a clear stop
            self._stop_at_fetch(system_error_from(exc, step="fetch"))
        except CasebotError as exc:
            self._stop_at_fetch(exc)
        if self.stop_error is None:
            return worker, drivers
        await self._close_worker(worker, drivers)
        return None

    def _stop_at_fetch(self, exc: CasebotError, step: str = "fetch",
                       what: str = "cannot read the inbox") -> None:
        self.stop_error = exc
        logger.critical("{}: {}", what, exc)
        self.store.record_event(self.run_id, "CRITICAL", str(exc), code=exc.code.value,
                                data={"step": step, "runbook": exc.runbook})

    async def _preflight(self, drivers: Drivers) -> bool:
        """Check every screen before the first case; False (and the run's stop error set) when it must not go on.
        A healed element is drift for the report; a portal that could not be walked is a warning."""
        results = await check_drivers(drivers.all(), self.config)
        for result in results:
            for check in result.having("healed"):
                self.store.record_event(self.run_id, "WARNING", f"selector drift at preflight: {check.where} "
                                        f"found by {check.strategy}", code="SELECTOR_DRIFT",
                                        data={"kind": "drift", "portal": check.portal, "screen": check.screen,
                                              "element": check.element, "strategy": check.strategy})
            for check in result.having("broken"):
                self.store.record_event(self.run_id, "ERROR", f"selector broken at preflight: {check.where} "
                                        f"({check.detail})", code=ErrorCode.SELECTOR_MISSING.value,
                                        data={"step": "preflight", "runbook": ErrorCode.SELECTOR_MISSING.runbook,
                                              "portal": check.portal, "screen": check.screen,
                                              "element": check.element})
            if result.error is not None and not result.having("broken"):
                self.store.record_event(self.run_id, "WARNING", f"preflight could not walk {result.portal}: "
                                        f"{result.error}", code=result.error.code.value,
                                        data={"step": "preflight", "runbook": result.error.runbook})
        healed = sum(len(r.having("healed")) for r in results)
        failure = preflight_failure(results)
        if failure is None:
            logger.info("preflight: every screen checked, {} element(s) found by a fallback", healed)
            return True
        self.stop_error = failure
        logger.critical("stopping before the first case: {}", failure)
        self.store.record_event(self.run_id, "CRITICAL", str(failure), code=failure.code.value,
                                data={"step": "preflight", "runbook": failure.runbook})
        return False


def system_error_from(exc: PlaywrightError, *, step: str, case_id: str | None = None) -> SystemException:
    """A Playwright error no driver turned into a code: the browser died, or something did not answer in time."""
    message = exc.message.splitlines()[0] if exc.message else type(exc).__name__
    code = ErrorCode.BROWSER_CRASHED if browser_gone(message) else ErrorCode.PORTAL_SLOW
    return SystemException(code, message, case_id=case_id, step=step)


def run_night(config: Config, store: Store, passwords: dict[str, str], **kwargs: object) -> RunResult:
    return asyncio.run(Night(config, store, passwords, **kwargs).run())  # type: ignore[arg-type]

