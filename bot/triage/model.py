"""What the triage returns: the reasons a human must look, and the outcome they add up to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.calc.fields import ALL_FIELDS, in_form_order

Outcome = Literal["auto", "partial", "manual"]
SEVERITY: dict[str, int] = {"auto": 0, "partial": 1, "manual": 2}

FIRST_APPLICATION = "FIRST_APPLICATION"
PROTECTED_IDENTITY = "PROTECTED_IDENTITY"
AGENCY_NO_ANSWER = "AGENCY_NO_ANSWER"
HOUSEHOLD_MISMATCH = "HOUSEHOLD_MISMATCH"
UNKNOWN_INCOME_TYPE = "UNKNOWN_INCOME_TYPE"
INCOME_DEVIATION = "INCOME_DEVIATION"
RENT_ABOVE_CAP = "RENT_ABOVE_CAP"
YOUNG_ADULT_SCHOOL = "YOUNG_ADULT_SCHOOL"
NORM_FIGURE_MISSING = "NORM_FIGURE_MISSING"
GUIDELINE_FIGURE_MISSING = "GUIDELINE_FIGURE_MISSING"
JOBBSTIMULANS_UNKNOWN = "JOBBSTIMULANS_UNKNOWN"
# Changes against last month's decision (docs/contract.md); the first five are warnings (the case stays auto).
INCOME_NEW = "INCOME_NEW"
INCOME_GONE = "INCOME_GONE"
INCOME_CHANGED = "INCOME_CHANGED"
COST_CHANGED = "COST_CHANGED"
RENT_RISE_CAPPED = "RENT_RISE_CAPPED"
HOUSEHOLD_CHANGED = "HOUSEHOLD_CHANGED"
ADDRESS_CHANGED = "ADDRESS_CHANGED"

# One generic Swedish line per reason code (docs/contract.md). The reasons a case carries name people and amounts;
# a ranking over many cases says what the rule is about, never whom it concerned.
REASON_SUMMARIES_SV: dict[str, str] = {
    FIRST_APPLICATION: "Nyansökan: första ansökan utreds av handläggare",
    PROTECTED_IDENTITY: "Skyddade personuppgifter i hushållet eller på adressen",
    AGENCY_NO_ANSWER: "En myndighet kunde inte lämna uppgifter för en person i hushållet",
    HOUSEHOLD_MISMATCH: "Hushållet stämmer inte med folkbokföringen",
    UNKNOWN_INCOME_TYPE: "En inkomsttyp som riktlinjerna inte känner till",
    INCOME_DEVIATION: "Inkomsten i ansökan skiljer sig från myndighetens uppgift",
    RENT_ABOVE_CAP: "Boendekostnaden är över riktlinjernas högsta godtagbara (eller taket saknas)",
    YOUNG_ADULT_SCHOOL: "Hemmavarande ungdom: skolgången behöver kontrolleras",
    NORM_FIGURE_MISSING: "En riksnormsiffra saknas i normtabellen",
    GUIDELINE_FIGURE_MISSING: "En siffra saknas i kommunens riktlinjer",
    JOBBSTIMULANS_UNKNOWN: "Beslutshistoriken räcker inte för att avgöra jobbstimulans",
    INCOME_NEW: "Ny inkomst sedan förra beslutet",
    INCOME_GONE: "En inkomst har upphört sedan förra beslutet",
    INCOME_CHANGED: "Ändrad inkomst sedan förra beslutet",
    COST_CHANGED: "Ändrad kostnad sedan förra beslutet",
    RENT_RISE_CAPPED: "Hyreshöjningen över gränsen: förra månadens boendekostnad används",
    HOUSEHOLD_CHANGED: "Hushållet har ändrats sedan förra beslutet",
    ADDRESS_CHANGED: "Ny adress sedan förra beslutet: boendekostnaden bedöms på nytt",
}


@dataclass(frozen=True)
class Reason:
    """One rule that fired: its code (docs/contract.md), the text a caseworker reads, the outcome it calls for and
    the form fields it makes uncertain (all of them for a manual reason)."""

    code: str
    text_sv: str
    outcome: Outcome
    empty_fields: tuple[str, ...]


def manual(code: str, text_sv: str) -> Reason:
    return Reason(code, text_sv, "manual", ALL_FIELDS)


def partial(code: str, text_sv: str, *fields: str) -> Reason:
    return Reason(code, text_sv, "partial", in_form_order(fields))


@dataclass(frozen=True)
class TriageResult:
    outcome: Outcome
    reasons: tuple[Reason, ...]
    empty_fields: tuple[str, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.code for r in self.reasons))


def combine(reasons: Iterable[Reason]) -> TriageResult:
    """The most severe outcome wins; every reason is kept (contract: evaluated all)."""
    found = tuple(reasons)
    outcome: Outcome = max((r.outcome for r in found), key=SEVERITY.__getitem__, default="auto")
    empty = ALL_FIELDS if outcome == "manual" else in_form_order({f for r in found for f in r.empty_fields})
    return TriageResult(outcome, found, empty)
