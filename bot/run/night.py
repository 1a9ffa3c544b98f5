"""The night, read top to bottom (REFramework's Main): init → check the screens → get work → work → end.

- Init: open (or continue) the run in the store; delete traces past their retention; refuse to try a password a
  portal already refused (it would lock the account).
- Check the screens: every portal's TLS certificate checked by a handshake (refused: TLS_CERTIFICATE, expiring
  soon: a warning), then one worker logs in everywhere and walks every screen read-only (the preflight). A refused
  certificate or broken screens stop the night before any case is touched.
- Get work: the case system's new applications, and cases an earlier run left under way, become work items.
- Work: N workers (`bot.run.worker`), each with its own browser contexts and logins, claim cases from the store
  with a lease; each case is `bot.run.case`; `bot.run.settle` alone decides each item's state.
- End: close the run record, with its summary, drift notices and the error that stopped it, if any.

`join` is the same night seen from another robot process: no preflight, no inbox, just workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loguru import logger
from playwright.async_api import Error as PlaywrightError

from bot.browser import profile
from bot.browser.artifacts import purge_artifacts
from bot.browser.launch import Chromium, running_chromium
from bot.browser.trust import browser_home
from bot.calc import load_guidelines, load_norms
from bot.calc.guidelines import Guidelines
from bot.calc.norms import NormTables
from bot.clientcert import ClientCertificate, browser_options, load_client_certificates
from bot.config import Config
from bot.desktop.channel import DesktopChannel
from bot.drivers.casesystem import IN_PROGRESS, NEW
from bot.drivers.portal_drivers import Drivers
from bot.errors import CasebotError, ErrorCode, SystemException
from bot.net import check_proxy, resolve_proxy
from bot.paths import SELECTORS_DIR
from bot.run.held import without_held
from bot.run.refusals import known_refusal, remember_refusal
from bot.run.settle import system_error_from
from bot.run.shift import RunOptions, RunResult, Shift
from bot.run.worker import Worker
from bot.selectors.load import load_all
from bot.selectors.model import SelectorFile
from bot.store.base import Store
from bot.store.models import NewWorkItem, Run
from bot.upkeep.preflight import check_certificates, check_drivers, record_certificates, record_preflight

__all__ = ["Night", "RunOptions", "RunResult"]


class Night:
    def __init__(self, config: Config, store: Store, passwords: dict[str, str], *,
                 selectors: dict[str, SelectorFile] | None = None, options: RunOptions | None = None,
                 guidelines: Guidelines | None = None, norms: NormTables | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        # The proxy's password, like the portals', from `environ` (default: the process's) or the keyring.
        self.proxy = resolve_proxy(config.proxy, environ)
        self.home: Path | None = None  # the browser's HOME, whose NSS database trusts tls.ca_bundle
        self.environ = environ
        self.clients: dict[str, ClientCertificate] = {}  # portal -> the robot's client certificate for it
        self.shift = Shift(
            config, store, passwords,
            selectors=selectors if selectors is not None else load_all(config.selectors_dir or SELECTORS_DIR),
            guidelines=guidelines or load_guidelines(config.guidelines),
            norms=norms or load_norms(extra=config.norms_dir),
            options=options or RunOptions())

    async def run(self) -> RunResult:
        self._init()
        if (self._passwords_worth_trying() and self._open_desktop() and await self._proxy_ok()
                and self._certificates_ok()):
            async with self._chromium() as self.shift.chromium:
                first = await self._check_screens_and_get_work()
                if first is not None:
                    await self._work(first)
        return self._end()

    async def join(self, run: Run) -> RunResult:
        """Work a run another process opened (and will close). Returns when nothing is left to claim, the run was
        closed, or a stop error (wrong password, …) makes going on useless."""
        self.shift.run_id = run.id
        if (self._passwords_worth_trying() and self._open_desktop() and self._client_certificates_ok()
                and self._browser_trust()):
            async with self._chromium() as self.shift.chromium:
                await self._work(None)
        self._remember_refusal()
        return RunResult(run.id, self.shift.store.run_summary(run.id), self.shift.stop_error, self.shift.drift)

    def _chromium(self) -> AbstractAsyncContextManager[Chromium]:
        config = self.shift.config
        return running_chromium(headless=self.shift.options.headless, proxy=self.proxy, home=self.home,
                                ca_bundle=config.tls.ca_bundle,
                                client_certificates=browser_options(config, self.clients))

    # -- init -----------------------------------------------------------------------------------------
    def _init(self) -> None:
        shift = self.shift
        run = shift.store.open_run(shift.config.summary(), run_id=shift.options.run_id, resume=shift.options.resume)
        shift.run_id = run.id
        if run.resumed:
            # Only the leases of workers that are gone: workers of other robot processes may be at their cases.
            # Each is an attempt cut off by a crash: given back, and counted towards the case's quarantine.
            released = shift.store.release_leases(run.id, alive_within_s=shift.config.store.lease_s,
                                                  max_crashes=shift.config.retries.max_crashes)
            logger.info("continuing run {} ({} case(s) were in progress when it stopped)", run.id, released)
        else:
            logger.info("run {} started", run.id)
        retention = shift.config.retention
        purged = purge_artifacts(shift.config.data_dir / "artifacts", retention.traces_days,
                                 retention.screenshots_days)
        if purged:
            logger.info("{} trace(s) and screenshot(s) past their retention deleted", len(purged))
        forgotten = shift.store.forget_workers(datetime.now(UTC) - timedelta(days=retention.workers_days))
        if forgotten:
            logger.info("{} worker(s) not heard from for {} days forgotten", forgotten, retention.workers_days)

    def _passwords_worth_trying(self) -> bool:
        refused = known_refusal(self.shift.store, self.shift.config, self.shift.passwords)
        if refused is not None:
            self.shift.stop_night(refused, step="preflight", what="stopping before any login")
        return refused is None

    def _open_desktop(self) -> bool:
        """The desktop channel's display and client, when the case system is reached that way; False (the night
        stopped) when the client is not as recorded."""
        config = self.shift.config
        if config.portals.casesystem.channel != "desktop":
            return True
        try:
            desktop = DesktopChannel.open(config, self.shift.passwords["casesystem"], config.data_dir / "artifacts")
            desktop.driver.step = "preflight"
            showing = desktop.driver.check()
        except CasebotError as exc:
            self.shift.stop_night(exc, step="preflight", what="the desktop client is not as recorded")
            return False
        logger.info("desktop client on {}: its {} screen is showing as recorded",
                    config.desktop.display if config.desktop else "?", showing)
        self.shift.channel = desktop.route
        return True

    async def _proxy_ok(self) -> bool:
        """The way out, before any browser: a proxy that cannot be reached or refuses the robot's login stops the
        night here (PROXY_FAILED), instead of as every portal "down"."""
        failure = await check_proxy(self.proxy, [portal.url for _, portal in self.shift.config.portals.items()])
        if failure is not None:
            self.shift.stop_night(failure, step="preflight", what="the proxy does not let the robot out")
        return failure is None

    def _certificates_ok(self) -> bool:
        """Every https portal's certificate as the robot's clients see it: one the robot refuses (untrusted,
        expired, another host) stops the night here, naming the portal and the problem (TLS_CERTIFICATE); one
        about to expire is a warning for the report and the alert."""
        shift = self.shift
        if not self._client_certificates_ok():
            return False
        try:
            checks = check_certificates(shift.config, proxy=self.proxy, clients=self.clients)
        except CasebotError as exc:  # an unreadable tls.ca_bundle
            shift.stop_night(exc, step="preflight", what="stopping before any login")
            return False
        failure = record_certificates(shift.store, shift.run_id, checks, shift.config.tls.expiry_warning_days)
        if failure is not None:
            shift.stop_night(failure, step="preflight", what="stopping before any login")
            return False
        return self._browser_trust()

    def _client_certificates_ok(self) -> bool:
        """The robot's own client certificates, read and checked before any connection: one it cannot use (a
        missing file, a wrong passphrase, expired) stops the night here as CLIENT_CERTIFICATE, naming the portal
        and what is wrong."""
        try:
            self.clients = load_client_certificates(self.shift.config, self.environ)
        except CasebotError as exc:
            self.shift.stop_night(exc, step="preflight", what="a client certificate cannot be used")
            return False
        return True

    def _browser_trust(self) -> bool:
        """Chromium's own NSS database trusting `tls.ca_bundle`; False (the night stopped) when it cannot be made."""
        try:
            self.home = browser_home(self.shift.config.tls, self.shift.config.data_dir)
        except CasebotError as exc:
            self.shift.stop_night(exc, step="preflight", what="cannot give the browser the configured CA bundle")
            return False
        return True

    # -- check the screens, get work ------------------------------------------------------------------
    async def _check_screens_and_get_work(self) -> Worker | None:
        """The first worker, logged in, to go on working with; None when the night stops here."""
        worker = await Worker.open(self.shift, 1)
        try:
            if await self._screens_ok(worker.drivers):
                await self._get_work(worker.drivers)
        except PlaywrightError as exc:  # anything a driver did not turn into a code: still a clear stop
            self.shift.stop_night(system_error_from(exc, step="fetch"), step="fetch", what="cannot read the inbox")
        except CasebotError as exc:
            self.shift.stop_night(exc, step="fetch", what="cannot read the inbox")
        if self.shift.stop_error is None:
            return worker
        await worker.close()
        return None

    async def _screens_ok(self, drivers: Drivers) -> bool:
        if not self.shift.config.preflight.enabled:
            return True
        with profile.phase("preflight"):
            results = await check_drivers(drivers.all(), self.shift.config)
        failure = record_preflight(self.shift.store, self.shift.run_id, results)
        if failure is not None:
            self.shift.stop_night(failure, step="preflight", what="stopping before the first case")
        return failure is None

    async def _get_work(self, drivers: Drivers) -> None:
        """New applications, plus cases an earlier run left under way (saved but not parked)."""
        shift, cs = self.shift, drivers.casesystem
        with profile.phase("inbox"):
            rows = await cs.list_inbox(NEW)
            in_progress = await cs.list_inbox(IN_PROGRESS)
        for row in in_progress:
            earlier = shift.store.latest_item_for_case(row.case_id, row.period, exclude_run=shift.run_id)
            if earlier is not None and earlier.state != "done":
                rows.append(row)
        rows = without_held(shift, rows)  # a bug or a case that kept killing the robot waits for an operator
        if shift.options.limit is not None:
            rows = rows[: shift.options.limit]
        no_table = shift.norms.missing_for(r.period for r in rows)
        if no_table is not None:
            # Every case of that month would fail the same way: the admin adds the year's table first.
            shift.stop_night(SystemException(ErrorCode.NORM_TABLE_MISSING, str(no_table)), step="preflight",
                             what="stopping before the first case")
            return
        added = shift.store.add_work_items(shift.run_id, [NewWorkItem(r.case_id, r.period, r.pnr, r.caseworker)
                                                                 for r in rows])
        logger.info("inbox: {} case(s) to prepare, {} new to this run", len(rows), added)

    # -- work -----------------------------------------------------------------------------------------
    async def _work(self, first: Worker | None) -> None:
        """All workers until no case is left; the first one may be the one that checked the screens (its logins
        are made)."""
        async def open_and_work(number: int) -> None:
            worker = first if first is not None and number == 1 else await Worker.open(self.shift, number)
            await worker.work()

        await asyncio.gather(*(open_and_work(n) for n in range(1, self.shift.config.workers + 1)))

    # -- end ------------------------------------------------------------------------------------------
    def _end(self) -> RunResult:
        shift = self.shift
        self._remember_refusal()
        interrupted = shift.options.stop.is_set() or shift.window_closed
        status = "failed" if shift.stop_error else ("aborted" if interrupted else "finished")
        if status != "aborted":
            shift.store.finish_run(shift.run_id, status)
        return RunResult(shift.run_id, shift.store.run_summary(shift.run_id), shift.stop_error, shift.drift)

    def _remember_refusal(self) -> None:
        if self.shift.stop_error is not None:
            remember_refusal(self.shift.store, self.shift.config, self.shift.passwords, self.shift.stop_error)
