"""Försäkringskassan-like payments app: what FK paid a person, month by month.

A single-page app: the answer is fetched as JSON after the button and drawn by script, so the driver waits for
the app's API call and then for one of the known results to appear — never for a fixed time. The app page is
reused between persons (the form clears the previous result), which saves a page load per person and means an
expired session shows up as the app's own 401 banner rather than as a redirect.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Mapping
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlsplit

from playwright.async_api import Response
from playwright.async_api import TimeoutError as PlaywrightTimeout

from bot.calc.money import shown
from bot.drivers.base import Driver, Reference, SessionExpired
from bot.drivers.needs import LOGIN, Need, Needs, search_screen
from bot.errors import BusinessException, ErrorCode, SystemException
from bot.facts import FactsError, FkAnswer, FkPayment, NoAnswer, Source, parse_month
from bot.masking import mask_pnr

APP_PATH = "/app"
API_PATH = "/api/utbetalningar"
SCREEN = "Försäkringskassan – Utbetalningar"
MONTHS_BEFORE_PERIOD = 2  # a little history around the period month, for a caseworker reading the note

# The app's labels → the contract's benefit keys (docs/contract.md); an unknown label is kept, lower-cased.
BENEFIT_KEYS = {
    "bostadsbidrag": "bostadsbidrag",
    "barnbidrag": "barnbidrag",
    "underhållsstöd": "underhallsstod",
    "sjukpenning": "sjukpenning",
    "aktivitetsstöd": "aktivitetsstod",
    "föräldrapenning": "foraldrapenning",
}

GAP_MARK = "kunde inte hämtas"
# The result area, in the order they are checked: the banner first, as a 401 leaves the result area empty.
OUTCOMES = ("session_banner", "notice", "no_payments", "payments")
POLL_S = 0.05


def benefit_key(label: str) -> str:
    text = " ".join(label.split()).lower()
    return BENEFIT_KEYS.get(text, text)


def shift_month(month: str, delta: int) -> str:
    year, mon = parse_month(month, "period")
    index = year * 12 + (mon - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


class Fk(Driver):
    needs: ClassVar[Needs] = {**LOGIN, "search": search_screen(("from", "fältet för första månad"),
                                                             ("to", "fältet för sista månad")), "result": {
        "spinner": Need("laddningsindikatorn medan svaret hämtas", conditional=True),
        "payments": Need("tabellen över utbetalningar", columns=("month", "benefit", "amount")),
        "no_payments": Need("meddelandet när det inte finns några utbetalningar", conditional=True),
        "notice": Need("meddelandet när uppgifter saknas eller inte godtas", conditional=True),
        "session_banner": Need("meddelandet att sessionen har gått ut", conditional=True)}}
    async def payments(self, pnr: str, period: str) -> FkAnswer | NoAnswer:
        """Payments from two months before `period` up to and including it (`period` is YYYY-MM).

        `FkAnswer(pnr, ())` when FK paid nothing; `NoAnswer("fk", …)` when FK cannot answer for the person.
        """
        start = shift_month(period, -MONTHS_BEFORE_PERIOD)
        return await self.with_session(lambda: self._payments(pnr, start, period))

    async def walk_logged_in(self, reference: Reference) -> AsyncGenerator[str, None]:
        await self.goto(APP_PATH)
        yield "search"
        if reference.pnr is not None:
            await self._search(reference.pnr)  # the months as the app suggests them
            with contextlib.suppress(SystemException):
                await self._outcome()  # a result the selectors no longer know is for the check to name
            yield "result"

    async def _payments(self, pnr: str, start: str, end: str) -> FkAnswer | NoAnswer:
        if urlsplit(self.page.url).path != APP_PATH:
            await self.goto(APP_PATH)
        response = await self._search(pnr, (start, end))
        source = Source(self.portal, SCREEN, datetime.now())
        outcome = await self._outcome()
        if outcome == "session_banner":
            raise SessionExpired()
        if outcome == "no_payments":
            return FkAnswer(pnr, (), source)
        if outcome == "notice":
            return self._from_notice(pnr, response.status, await self.text("result", "notice", 0), source)
        rows = await self.read_records("result", "payments")
        return FkAnswer(pnr, tuple(self._payment(row) for row in rows), source)

    async def _search(self, pnr: str, months: tuple[str, str] | None = None) -> Response:
        """Fill the search (the months only when given) and ask; the API's answer, checked."""
        await (await self.el("search", "pnr")).fill(pnr)
        if months is not None:
            await (await self.el("search", "from")).fill(months[0])
            await (await self.el("search", "to")).fill(months[1])
        response = await self._ask()
        self.check_response(response, "the payments API")
        return response

    async def _ask(self) -> Response:
        """Press the button and wait for the app's own API call to come back."""
        submit = await self.el("search", "submit")
        try:
            async with self.page.expect_response(lambda r: urlsplit(r.url).path == API_PATH,
                                                 timeout=self.timeout_s * 1000) as answer:
                await submit.click()
            return await answer.value
        except PlaywrightTimeout as exc:
            raise self.fail(ErrorCode.PORTAL_SLOW, "the payments API did not answer within the timeout") from exc

    async def _outcome(self) -> str:
        """The first known result to be drawn, once the spinner is gone. Nothing known within the timeout
        means the app draws its results differently now (layout drift)."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            if not await self.present("result", "spinner"):
                for name in OUTCOMES:
                    if await self.present("result", name):
                        return name
            if time.monotonic() >= deadline:
                raise self.fail(ErrorCode.SELECTOR_MISSING,
                                f"screen 'result': none of {', '.join(OUTCOMES)} appeared after the answer")
            await asyncio.sleep(POLL_S)

    def _from_notice(self, pnr: str, status: int, text: str, source: Source) -> NoAnswer:
        if status == 200 and GAP_MARK in text.lower():
            return NoAnswer("fk", pnr, text, source)
        if status == 400:
            # Our query was refused (personnummer or months): the case data needs a human, retrying won't help.
            raise BusinessException(ErrorCode.DATA_MISMATCH, f"fk: refused the query for {mask_pnr(pnr)}: {text}",
                                    case_id=self.case_id, step=self.step)
        raise self.fail(ErrorCode.PORTAL_DOWN, f"the app says: {text}")

    def _payment(self, row: Mapping[str, str]) -> FkPayment:
        amount = self.amount(row["amount"], f"payment {shown(row['benefit'])} {shown(row['month'])}")
        try:
            return FkPayment(benefit_key(row["benefit"]), row["month"].strip(), amount)
        except FactsError as exc:
            code = ErrorCode.UNPARSEABLE_AMOUNT if exc.field.endswith("amount") else ErrorCode.SELECTOR_MISSING
            raise self.fail(code, f"payments table: {exc}") from exc
