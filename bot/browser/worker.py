"""One worker's browser contexts: its own cookies (logins), traces and screenshots of failures."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from loguru import logger
from playwright.async_api import Browser, BrowserContext, Page, Route

from bot.browser.artifacts import make_private, private_dir
from bot.browser.launch import running_chromium
from bot.browser.trust import browser_home
from bot.clientcert import BrowserCertificates, ClientCertificate, browser_options, load_client_certificates
from bot.config import Config
from bot.net import Proxy, resolve_proxy


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


@dataclass
class WorkerBrowser:
    """One worker's browser: a context per portal, each with its one page, opened lazily and reused across cases.

    A context per portal rather than a tab per portal in one context: Chromium gives a background tab animation
    frames about once a second, and Playwright's actionability checks wait for frames, so every click on a
    background tab cost 1–2 s while the four agency look-ups ran in parallel. Each context's page is in its own
    window and is never in the background. It also keeps each portal's cookies apart, as separate hosts would.
    """

    browser: Browser
    worker_id: str
    artifacts_dir: Path | None
    default_timeout_ms: int = 15_000
    # portal -> Playwright's `client_certificates` (`bot.clientcert.browser_options`): that portal's contexts
    # present the robot's client certificate.
    client_certificates: BrowserCertificates = field(default_factory=dict)
    contexts: dict[str, BrowserContext] = field(default_factory=dict)
    pages: dict[str, Page] = field(default_factory=dict)
    _tracing: bool = False

    @classmethod
    async def open(cls, browser: Browser, worker_id: str, artifacts_dir: Path | None,
                   default_timeout_ms: int = 15_000,
                   client_certificates: BrowserCertificates | None = None) -> WorkerBrowser:
        return cls(browser, worker_id, artifacts_dir, default_timeout_ms, dict(client_certificates or {}))

    async def _new_context(self, portal: str) -> BrowserContext:
        certificates = self.client_certificates.get(portal) or None
        context = await self.browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm",
                                                 accept_downloads=True, client_certificates=certificates)
        if certificates:
            await keep_to_origins(context, portal, [c.get("origin", "") for c in certificates])
        return context

    async def page(self, portal: str, lane: int = 0) -> Page:
        """The portal's page; `lane` > 0: another page in the same context (the same login), for work side by
        side."""
        key = portal if lane == 0 else f"{portal}#{lane}"
        page = self.pages.get(key)
        if page is None or page.is_closed():
            context = self.contexts.get(portal)
            if context is None:
                context = await self._new_context(portal)
                context.set_default_timeout(self.default_timeout_ms)
                self.contexts[portal] = context
            page = await context.new_page()
            self.pages[key] = page
        return page

    @asynccontextmanager
    async def case_trace(self, case_id: str, *, trace: bool = False,
                         keep_artifacts: Callable[[], bool] = lambda: True) -> AsyncIterator[None]:
        """On failure keep screenshots of every portal page and, when `trace` is set, a Playwright trace of the
        attempt. Tracing every action of every case would cost each of them several times its own time, so the
        run loop traces retries only (Playwright's own "on-first-retry" policy): a case that fails twice leaves
        a trace of its second attempt.

        `keep_artifacts` is asked when the attempt fails: False (a protected identity, learnt during the attempt)
        keeps nothing, and drops the trace: such a person's data must exist in as few copies as possible.
        """
        tracing = trace and self.artifacts_dir is not None
        if tracing:
            for context in self.contexts.values():
                await context.tracing.start(screenshots=True, snapshots=True, title=case_id)
        self._tracing = tracing
        try:
            yield
        except BaseException:
            if keep_artifacts() and self.artifacts_dir is not None:
                await self._save_failure(case_id)
            raise
        finally:
            await self._stop_tracing(None)

    async def _stop_tracing(self, stem: Path | None) -> None:
        """Stop every context's trace, saving it under `stem` (one file per portal) or discarding it."""
        if not self._tracing:
            return
        self._tracing = False
        for portal, context in self.contexts.items():
            path = None if stem is None else stem.with_name(f"{stem.name}-{portal}-trace.zip")
            try:  # a dead browser cannot give its trace; the failure itself matters more
                await context.tracing.stop(path=str(path) if path else None)
                if path is not None:
                    make_private(path)
            except Exception:  # noqa: BLE001
                pass

    async def _save_failure(self, case_id: str) -> None:
        assert self.artifacts_dir is not None
        folder = private_dir(self.artifacts_dir)
        stem = f"{_safe_name(case_id)}-{datetime.now():%Y%m%dT%H%M%S}"
        await self._stop_tracing(folder / stem)
        for portal, page in self.pages.items():
            if page.is_closed():
                continue
            shot = folder / f"{stem}-{portal}.png"
            try:
                await page.screenshot(path=str(shot), full_page=True, timeout=5_000)
                make_private(shot)
            except Exception:  # noqa: BLE001
                pass

    def forget_case(self, case_id: str) -> list[Path]:
        """Delete every trace and screenshot an earlier attempt kept of `case_id` (found protected since)."""
        if self.artifacts_dir is None or not self.artifacts_dir.is_dir():
            return []
        gone = [path for path in self.artifacts_dir.glob(f"{_safe_name(case_id)}-*") if path.is_file()]
        for path in gone:
            path.unlink(missing_ok=True)
        return gone

    async def close(self) -> None:
        # Closing a crashed context must not mask the original error.
        for context in self.contexts.values():
            with contextlib.suppress(Exception):
                await context.close()


async def keep_to_origins(context: BrowserContext, portal: str, origins: list[str]) -> None:
    """A context with client certificates reaches its portal through Playwright's driver, which checks the portal's
    certificate; for that, Playwright tells the browser to accept any certificate in the whole context. So the
    context is kept to the portal's own origin: a request anywhere else (a redirect to a login service, a script
    from another host) is refused before it leaves, and said, rather than sent unchecked."""
    others = re.compile("^(?!" + "|".join(re.escape(o) + r"(?:[/?#]|$)" for o in origins) + ")")

    async def refuse(route: Route) -> None:
        parts = urlsplit(route.request.url)
        logger.warning("{}: refused a request to {}://{} from the portal's client-certificate context: its "
                       "certificate would not be checked there (runbooks/CLIENT_CERTIFICATE.md)", portal,
                       parts.scheme, parts.netloc)
        await route.abort("blockedbyclient")

    await context.route(others, refuse)


@asynccontextmanager
async def lone_worker(worker_id: str, *, default_timeout_ms: int, headless: bool = True,
                      block_media: bool = True, home: Path | None = None, proxy: Proxy | None = None,
                      ca_bundle: Path | None = None,
                      client_certificates: BrowserCertificates | None = None
                      ) -> AsyncIterator[WorkerBrowser]:
    """A browser of its own with one worker's contexts, for a job outside the night (the screen check, the
    recorder): nothing kept on failure, everything closed after. `proxy`: `bot.net.resolve_proxy(config.proxy)`;
    `ca_bundle` and `client_certificates` as for `running_chromium`."""
    async with running_chromium(headless=headless, block_images=block_media, home=home, proxy=proxy,
                                ca_bundle=ca_bundle) as chromium:
        worker = await WorkerBrowser.open(chromium.browser, worker_id, None, default_timeout_ms=default_timeout_ms,
                                          client_certificates=client_certificates)
        try:
            yield worker
        finally:
            await worker.close()


def config_worker(config: Config, worker_id: str, *, headless: bool = True, block_media: bool = True,
                  environ: Mapping[str, str] | None = None,
                  clients: Mapping[str, ClientCertificate] | None = None
                  ) -> AbstractAsyncContextManager[WorkerBrowser]:
    """`lone_worker` reaching the portals as the night does: through the configured proxy, trusting
    `tls.ca_bundle`, presenting the portals' client certificates (`clients`, when the caller has loaded them already;
    else loaded here: raises CLIENT_CERTIFICATE when one cannot be used, CREDENTIALS_MISSING when the proxy's password
    is not found)."""
    if clients is None:
        clients = load_client_certificates(config, environ)
    return lone_worker(worker_id, default_timeout_ms=int(config.timeouts.page_s * 1000), headless=headless,
                       block_media=block_media, proxy=resolve_proxy(config.proxy, environ),
                       home=browser_home(config.tls, config.data_dir), ca_bundle=config.tls.ca_bundle,
                       client_certificates=browser_options(config, clients))
