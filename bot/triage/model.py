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
