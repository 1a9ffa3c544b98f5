"""Arbetsförmedlingen-like status service: is a person registered as a job seeker, in which programme, since when.

The search page only embeds the answer: the status is a separate document in an iframe, with its own request
(and its own chance of an error page or an expired session). The driver therefore checks the frame's HTTP answer
as well as the outer page's before it reads anything inside the frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator
from datetime import date, datetime
from typing import ClassVar
from urllib.parse import urlsplit

from playwright.async_api import Response
from playwright.async_api import TimeoutError as PlaywrightTimeout

from bot.drivers.base import LOGIN_PATH, Driver, Reference, SessionExpired
from bot.drivers.needs import LOGIN, Need, Needs, search_screen
from bot.errors import BusinessException, CasebotError, ErrorCode, SystemException
from bot.facts import AfAnswer, NoAnswer, Source
from bot.masking import mask_pnr

SEARCH_PATH = "/sok"
FRAME_PATH = "/status-frame"
SCREEN = "Arbetsförmedlingen – Sökandestatus"

GAP_MARK = "avvikelse"
MALFORMED_MARK = "ogiltigt personnummer"
EMPTY = "–"  # what the frame prints for "no programme" / "no date"
YES_NO = {"ja": True, "nej": False}
OUTCOMES = ("notice", "registered")
POLL_S = 0.05


class Af(Driver):
    needs: ClassVar[Needs] = {**LOGIN, "search": {
        **search_screen(),
        "message": Need("meddelandet när personnumret inte godtas", conditional=True)}, "status": {
        "notice": Need("meddelandet när uppgifter saknas", conditional=True),
        "registered": Need("värdet för 'Inskriven som arbetssökande'"),
        "activity": Need("värdet för aktivitet"),
        "registered_from": Need("värdet för 'Inskriven från'")}}
    async def status(self, pnr: str) -> AfAnswer | NoAnswer:
        """The person's job-seeker status. A person AF has no record of is `registered=False` (AF's own
        answer), a gap is `NoAnswer("af", …)`."""
        return await self.with_session(lambda: self._status(pnr))

    async def walk_logged_in(self, reference: Reference) -> AsyncGenerator[str, None]:
        await self.goto(SEARCH_PATH)
        yield "search"
        if reference.pnr is not None:
            await self._search(reference.pnr)
            with contextlib.suppress(SystemException):
                await self._outcome()  # a frame the selectors no longer know is for the check to name
            yield "status"

    async def _status(self, pnr: str) -> AfAnswer | NoAnswer:
        await self.goto(SEARCH_PATH)
        await self._search(pnr)
        source = Source(self.portal, SCREEN, datetime.now())
        if await self._outcome() == "notice":
            return self._from_notice(pnr, await self.text("status", "notice", 0), source)
        return await self._read_status(pnr, source)

    async def _search(self, pnr: str) -> None:
        await (await self.el("search", "pnr")).fill(pnr)
        self._check_frame(await self._search_and_frame(pnr))

    async def _search_and_frame(self, pnr: str) -> Response:
        """Submit the search; return the status frame's own HTTP answer.

        The frame's request starts while the outer page is still loading, so the wait for it is set up before
        the click. A refused number gives no frame at all: that is noticed on the outer page, and raising inside
        the wait cancels it.
        """
        try:
            async with self.page.expect_response(lambda r: urlsplit(r.url).path == FRAME_PATH,
                                                 timeout=self.timeout_s * 1000) as frame:
                await self.submit("search", "submit", "the status search", writes=False)
                if await self.present("search", "message"):
                    raise self._refusal(pnr, await self.text("search", "message", 0))
            return await frame.value
        except PlaywrightTimeout as exc:
            raise self.fail(ErrorCode.PORTAL_SLOW, "the status frame did not load within the timeout") from exc

    def _check_frame(self, response: Response) -> None:
        # An expired session redirects the frame (not the page) to the login screen.
        if 300 <= response.status < 400 and LOGIN_PATH in (response.headers.get("location") or ""):
            raise SessionExpired()
        self.check_response(response, "the status frame")

    async def _outcome(self) -> str:
        deadline = time.monotonic() + self.timeout_s
        while True:
            for name in OUTCOMES:
                if await self.present("status", name):
                    return name
            if time.monotonic() >= deadline:
                raise self.fail(ErrorCode.SELECTOR_MISSING,
                                f"screen 'status': neither {' nor '.join(OUTCOMES)} appeared in the frame")
            await asyncio.sleep(POLL_S)

    async def _read_status(self, pnr: str, source: Source) -> AfAnswer:
        shown = await self.text("status", "registered", 0)
        registered = YES_NO.get(shown.lower())
        if registered is None:
            raise self.fail(ErrorCode.SELECTOR_MISSING, f"'Inskriven som arbetssökande' shows {shown!r}, not Ja/Nej")
        if not registered:
            return AfAnswer(pnr, registered=False, source=source)
        activity = await self.text("status", "activity")
        since = await self.text("status", "registered_from")
        return AfAnswer(pnr, registered=True, activity=None if activity in ("", EMPTY) else activity,
                        registered_from=self._date(since), source=source)

    def _date(self, text: str) -> date | None:
        if text in ("", EMPTY):
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.fail(ErrorCode.SELECTOR_MISSING, f"'Inskriven från' shows {text!r}, not a date") from None

    def _from_notice(self, pnr: str, text: str, source: Source) -> NoAnswer:
        if GAP_MARK in text.lower():
            return NoAnswer("af", pnr, text, source)
        raise self._refusal(pnr, text)

    def _refusal(self, pnr: str, text: str) -> CasebotError:
        if MALFORMED_MARK in text.lower():
            # The number came from the case system; only a caseworker can sort out which one is right.
            return BusinessException(ErrorCode.DATA_MISMATCH, f"af: refused the personnummer {mask_pnr(pnr)}",
                                     case_id=self.case_id, step=self.step)
        return self.fail(ErrorCode.PORTAL_DOWN, f"unexpected message: {text!r}")
