"""CSN-like study-aid portal: every study-aid payment a person has had, from the downloadable statement.

The figures exist only in the file, so the driver downloads it through the page (the session cookie goes with
it), reads it and deletes it at once: it is personal data and has no business staying on the robot's disk.
All months are returned; the calculation takes the period month.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from loguru import logger
from playwright.async_api import Download
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from bot.calc.money import shown
from bot.drivers.base import SearchFormDriver, SessionExpired
from bot.drivers.needs import Need, Needs
from bot.errors import BusinessException, CasebotError, ErrorCode, SystemException
from bot.facts import CsnAnswer, CsnPayment, FactsError, NoAnswer, Source
from bot.masking import mask_pnr

SEARCH_PATH = "/sok"
SCREEN = "CSN – Utbetalningsbesked"

GAP_MARK = "avvikelse"
MALFORMED_MARK = "ogiltigt personnummer"
# A statement that is a web page instead: the portal's login form is recognised by its password field's name.
LOGIN_FORM_MARK = 'name="losenord"'

HEADER = ("Månad", "Stödform", "Belopp")
# The statement's kinds → the kind keys the calculation uses; an unknown kind is kept, lower-cased.
KIND_KEYS = {"studiebidrag": "studiemedel_bidrag", "studielån": "studiemedel_lan", "studiehjälp": "studiehjalp"}
# "3 564,00": whole kronor, thousands separated by (any kind of) space, always two decimals.
_AMOUNT = re.compile(r"^(\d+),(\d{2})$")


def kind_key(text: str) -> str:
    kind = " ".join(text.split()).lower()
    return KIND_KEYS.get(kind, kind)


def statement_amount(text: str) -> int:
    """'3 564,00' → 3564. Öre other than ,00 are refused, not rounded: CSN pays whole kronor, so anything
    else means the file is not what it was."""
    match = _AMOUNT.match(re.sub(r"\s", "", text))
    if match is None or match.group(2) != "00":
        raise BusinessException(ErrorCode.UNPARSEABLE_AMOUNT,
                                f"csn: {shown(text)} in the statement is not whole kronor")
    return int(match.group(1))


def parse_statement(text: str) -> tuple[CsnPayment, ...]:
    """The statement (already decoded) → payments. Columns are found by the header, which CSN keeps stable."""
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=";") if any(cell.strip() for cell in row)]
    if not rows or tuple(cell.strip() for cell in rows[0]) != HEADER:
        head = rows[0] if rows else []
        raise SystemException(ErrorCode.SELECTOR_MISSING, f"csn: the statement's columns are {head}, "
                                                          f"expected {list(HEADER)}")
    payments = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(HEADER):
            raise SystemException(ErrorCode.SELECTOR_MISSING, f"csn: statement line {number} has {len(row)} fields")
        month, kind, amount = (cell.strip() for cell in row)
        try:
            payments.append(CsnPayment(month, kind_key(kind), statement_amount(amount)))
        except FactsError as exc:
            raise SystemException(ErrorCode.SELECTOR_MISSING, f"csn: statement line {number}: {exc}") from exc
    return tuple(payments)


class Csn(SearchFormDriver):
    search_path = SEARCH_PATH
    search_what = "the student search"
    needs: ClassVar[Needs] = {**SearchFormDriver.needs, "result": {
        "notice": Need("meddelandet när uppgifter saknas eller inte godtas", conditional=True),
        "download": Need("länken som laddar ner utbetalningsbeskedet")}}

    async def payments(self, pnr: str) -> CsnAnswer | NoAnswer:
        """Every payment on the person's statement (all months). `CsnAnswer(pnr, ())` when CSN paid nothing or
        does not know the person; `NoAnswer("csn", …)` when CSN cannot answer for the person."""
        return await self.with_session(lambda: self._payments(pnr))

    async def _payments(self, pnr: str) -> CsnAnswer | NoAnswer:
        await self.goto(SEARCH_PATH)
        await self.search(pnr)
        source = Source(self.portal, SCREEN, datetime.now())
        if await self.present("result", "notice"):
            return self._from_notice(pnr, await self.text("result", "notice", 0), source)
        text = await self._download_statement()
        try:
            payments = parse_statement(text)
        except CasebotError as exc:
            exc.with_context(self.case_id, self.step)
            raise
        return CsnAnswer(pnr, payments, source)

    async def _download_statement(self) -> str:
        """Download the statement, return its text, delete the file whatever happens."""
        link = await self.el("result", "download")
        try:
            async with self.page.expect_download(timeout=self.timeout_s * 1000) as started:
                await link.click()
            download = await started.value
        except PlaywrightTimeout as exc:
            raise self.fail(ErrorCode.PORTAL_SLOW, "the statement download did not start within the timeout") from exc
        try:
            data = await self._read(download)
        finally:
            await self._discard(download)
        text = data.decode("utf-8-sig", errors="replace")
        if text.lstrip().startswith("<"):
            # A page saved under the file's link: the login page after an expired session, or an error page.
            if LOGIN_FORM_MARK in text:
                raise SessionExpired()
            raise self.fail(ErrorCode.PORTAL_DOWN, "the statement download returned a web page, not the file")
        return text

    async def _read(self, download: Download) -> bytes:
        try:
            path = await download.path()
        except PlaywrightError as exc:
            # The browser drops a download answered with an HTTP error; the search screen tells which one
            # (maintenance, server error, expired session) through goto's own checks.
            await self.goto(SEARCH_PATH)
            raise self.fail(ErrorCode.PORTAL_DOWN, f"the statement download failed: {exc.message}") from exc
        return Path(path).read_bytes()

    async def _discard(self, download: Download) -> None:
        try:
            await download.delete()
        except PlaywrightError as exc:
            # Not worth failing the case for, but an operator must know personal data may be left behind.
            logger.warning("csn: could not delete a downloaded statement: {}", exc.message)

    def _from_notice(self, pnr: str, text: str, source: Source) -> NoAnswer:
        lowered = text.lower()
        if GAP_MARK in lowered:
            return NoAnswer("csn", pnr, text, source)
        if MALFORMED_MARK in lowered:
            # The number came from the case system; only a caseworker can sort out which one is right.
            raise BusinessException(ErrorCode.DATA_MISMATCH, f"csn: refused the personnummer {mask_pnr(pnr)}",
                                    case_id=self.case_id, step=self.step)
        raise self.fail(ErrorCode.PORTAL_DOWN, f"unexpected message after the search: {text!r}")
