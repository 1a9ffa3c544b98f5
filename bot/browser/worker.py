"""One worker's browser context: its own cookies (logins), blocked media, and per-case trace chunks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Page, Route

from bot.browser.artifacts import make_private, private_dir

# Images, fonts and media never carry data the robot reads; blocking them saves a request each.
BLOCKED_RESOURCES = frozenset({"image", "font", "media"})


async def _block_media(route: Route) -> None:
    if route.request.resource_type in BLOCKED_RESOURCES:
        await route.abort()
    else:
        await route.continue_()


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


@dataclass
class WorkerBrowser:
    """A browser context per worker; pages per portal are opened lazily and reused across cases."""

    context: BrowserContext
    worker_id: str
    artifacts_dir: Path | None
    default_timeout_ms: int = 15_000
    pages: dict[str, Page] = field(default_factory=dict)
    _tracing: bool = False

    @classmethod
    async def open(cls, browser: Browser, worker_id: str, artifacts_dir: Path | None,
                   default_timeout_ms: int = 15_000, block_media: bool = True) -> WorkerBrowser:
        context = await browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm",
                                            accept_downloads=True)
        context.set_default_timeout(default_timeout_ms)
        if block_media:
            await context.route("**/*", _block_media)
        worker = cls(context, worker_id, artifacts_dir, default_timeout_ms)
        if artifacts_dir is not None:
            await context.tracing.start(screenshots=True, snapshots=True)
            worker._tracing = True
        return worker

    async def page(self, portal: str) -> Page:
        page = self.pages.get(portal)
        if page is None or page.is_closed():
            page = await self.context.new_page()
            self.pages[portal] = page
        return page

    @asynccontextmanager
    async def case_trace(self, case_id: str, keep_artifacts: bool = True) -> AsyncIterator[None]:
        """Record a trace chunk for one case; keep it (and a screenshot) only if the case fails.

        `keep_artifacts=False` (protected identity) discards everything even on failure: such a person's
        data must exist in as few copies as possible.
        """
        if not self._tracing:
            yield
            return
        await self.context.tracing.start_chunk(title=case_id)
        try:
            yield
        except BaseException:
            if keep_artifacts and self.artifacts_dir is not None:
                await self._save_failure(case_id)
            else:
                await self.context.tracing.stop_chunk()
            raise
        else:
            await self.context.tracing.stop_chunk()

    async def _save_failure(self, case_id: str) -> None:
        assert self.artifacts_dir is not None
        folder = private_dir(self.artifacts_dir)
        stem = f"{_safe_name(case_id)}-{datetime.now():%Y%m%dT%H%M%S}"
        trace = folder / f"{stem}-trace.zip"
        try:
            await self.context.tracing.stop_chunk(path=str(trace))
            make_private(trace)
        except Exception:  # noqa: BLE001 - a dead browser cannot give its trace; the failure itself matters more
            pass
        for portal, page in self.pages.items():
            if page.is_closed():
                continue
            shot = folder / f"{stem}-{portal}.png"
            try:
                await page.screenshot(path=str(shot), full_page=True, timeout=5_000)
                make_private(shot)
            except Exception:  # noqa: BLE001
                pass

    async def close(self) -> None:
        try:
            if self._tracing:
                await self.context.tracing.stop()
            await self.context.close()
        except Exception:  # noqa: BLE001 - closing a crashed context must not mask the original error
            pass
