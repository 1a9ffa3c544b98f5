"""Skatteverket-like population register: is a person protected, and who is folkbokförd at their address.

The register is searched person by person (authorities get no address search), so the household at the
address comes from the applicant's own result, and each other declared member is looked up only to learn
whether they are protected. `build_register` folds those answers into the `Register` the triage reads.

A protected person's data never leaves this module: the register withholds it, and the driver keeps only the
fact that a protected person exists (never a name, which the screen does not show anyway).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from bot.drivers.base import SearchFormDriver
from bot.drivers.needs import Need, Needs
from bot.errors import BusinessException, ErrorCode
from bot.facts import NoAnswer, Register, RegisteredPerson, Source, pnr_key
from bot.masking import mask_pnr

SEARCH_PATH = "/sok"
SCREEN = "Folkbokföring – Personuppgifter"

# The register's own texts (docs/sandbox-agencies.md); the same in layout v1 and v2.
GAP_MARK = "avvikelse"
PROTECTED_MARK = "skyddad identitet"
NOT_FOUND_MARK = "ingen person"
MALFORMED_MARK = "ogiltigt personnummer"

# How the register prints a personnummer (also samordningsnummer and T-style tails).
_SHOWN_PNR = re.compile(r"^\d{8}-[0-9A-Z]\d{3}$")


@dataclass(frozen=True)
class SkvPerson:
    """The register's answer about one person.

    - `protected`: the person has a protected identity; then the register shows nothing else, so
      `at_address` is empty.
    - `at_address`: everyone whose current registration is the person's address, the person included; a
      protected housemate is `RegisteredPerson("skyddad-<n>", date.min, protected=True)` (n counts from 1 in
      table order), so it is counted and, dated "always", compared with the declared household.
    - A person the register does not know ("Ingen person … finns i folkbokföringen") is an answer, not a gap:
      `protected=False`, `at_address=()`. Nobody is then registered with the applicant, which the triage's
      household comparison turns into a manual case; so does a person registered without an address.
    """

    pnr: str
    protected: bool
    at_address: tuple[RegisteredPerson, ...] = ()
    source: Source | None = None


def residents_from_rows(rows: Sequence[Mapping[str, str]], source: Source | None = None
                        ) -> tuple[RegisteredPerson, ...]:
    """The rows of "Folkbokförda på adressen" (logical columns `pnr`, `registered_from`) → persons.

    Raises ValueError when a cell does not hold what its column should: a sign the columns were misread.
    """
    persons: list[RegisteredPerson] = []
    hidden = 0
    for row in rows:
        number = row["pnr"].strip()
        if not any(ch.isdigit() for ch in number):
            # No personnummer shown ("–"): the register withholds it for a protected identity.
            hidden += 1
            persons.append(RegisteredPerson(f"skyddad-{hidden}", date.min, protected=True, source=source))
            continue
        if not _SHOWN_PNR.match(number):
            raise ValueError(f"the personnummer column holds {number!r}")
        persons.append(RegisteredPerson(number, _iso_date(row["registered_from"]), source=source))
    return tuple(persons)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"the 'Folkbokförd från' column holds {text.strip()!r}, not a date") from None


def build_register(answers: Sequence[SkvPerson | NoAnswer], applicant_pnr: str) -> Register | NoAnswer:
    """Fold the per-person answers into the `Register` the triage reads.

    The applicant's own answer gives the address and who lives there; if the register could not answer for
    the applicant, nothing is known about the address and that NoAnswer is the result. For everyone else a
    NoAnswer goes to `unanswered` (each one stops automatic handling), a protected mark to `protected_pnrs`.
    """
    key = pnr_key(applicant_pnr)
    own = next((a for a in answers if pnr_key(a.pnr) == key), None)
    if own is None:
        raise ValueError(f"no register answer for the applicant {mask_pnr(applicant_pnr)}")
    if isinstance(own, NoAnswer):
        return own
    return Register(
        at_address=own.at_address,
        protected_pnrs=frozenset(a.pnr for a in answers if isinstance(a, SkvPerson) and a.protected),
        source=own.source,
        unanswered=tuple(a for a in answers if isinstance(a, NoAnswer) and pnr_key(a.pnr) != key),
    )


class Skv(SearchFormDriver):
    search_path = SEARCH_PATH
    search_what = "the person search"
    needs: ClassVar[Needs] = {**SearchFormDriver.needs, "result": {
        "notice": Need("meddelandet när uppgifter saknas, är skyddade eller inte godtas", conditional=True),
        "no_address": Need("meddelandet när ingen är folkbokförd på adressen", conditional=True),
        "residents": Need("tabellen över folkbokförda på adressen", columns=("pnr", "registered_from"))}}

    async def lookup(self, pnr: str) -> SkvPerson | NoAnswer:
        """Search the person; see `SkvPerson` for what each kind of answer becomes."""
        return await self.with_session(lambda: self._lookup(pnr))

    async def _lookup(self, pnr: str) -> SkvPerson | NoAnswer:
        await self.goto(SEARCH_PATH)
        await self.search(pnr)
        source = Source(self.portal, SCREEN, datetime.now())
        # Server-rendered: once the page has loaded, a notice is either there or not.
        if await self.present("result", "notice"):
            return self._from_notice(pnr, await self.text("result", "notice", timeout_s=0), source)
        if await self.present("result", "no_address"):
            return SkvPerson(pnr, protected=False, at_address=(), source=source)
        rows = await self.read_records("result", "residents")
        try:
            residents = residents_from_rows(rows, source)
        except ValueError as exc:
            raise self.fail(ErrorCode.SELECTOR_MISSING, f"table 'Folkbokförda på adressen': {exc}") from exc
        return SkvPerson(pnr, protected=False, at_address=residents, source=source)

    def _from_notice(self, pnr: str, text: str, source: Source) -> SkvPerson | NoAnswer:
        lowered = text.lower()
        if GAP_MARK in lowered:
            return NoAnswer("skv", pnr, text.splitlines()[0].strip(), source)
        if PROTECTED_MARK in lowered:
            return SkvPerson(pnr, protected=True, at_address=(), source=source)
        if NOT_FOUND_MARK in lowered:
            return SkvPerson(pnr, protected=False, at_address=(), source=source)
        if MALFORMED_MARK in lowered:
            # The number came from the case system; only a caseworker can sort out which one is right.
            raise BusinessException(ErrorCode.DATA_MISMATCH, f"skv: refused the personnummer {mask_pnr(pnr)}",
                                    case_id=self.case_id, step=self.step)
        raise self.fail(ErrorCode.PORTAL_DOWN, f"unexpected message after the search: {text!r}")
