"""What the sandbox's world is made of: people, households, their applications, their decision history and what
each agency holds.

Frozen dataclasses (besides `World`, which the generator fills), compared by value, so tests can check that
the same seed gives the same world. Also the case kinds, the reference case's fixed facts and the month
arithmetic that the generator and the tests share.

A case has up to three kinds, each from its own list:
- `Case.kind`: SIMPLE or one of COMPLEX_KINDS (about a fifth of the cases), the triage reason it is built for
  (KIND_REASON);
- `Case.spell`: the shape of a re-application's decision history (SPELL_KINDS, every `Återansökan`; None for a
  `Nyansökan`, whose history is complete and empty), i.e. what jobbstimulans makes of it;
- `Case.change`: a deliberate difference from last month's decision (CHANGE_KINDS, about a third of the simple
  re-applications), the change reason it is built for (CHANGE_REASON).
Both lists are described at their definitions below; how they are built: `portals/seed/history.py`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from portals import oracle

SIMPLE = "simple"
COMPLEX_KINDS: tuple[str, ...] = ("first_application", "household_changed", "income_deviation",
                                  "missing_agency_data", "rent_above_cap", "protected_identity",
                                  "unknown_income_type")
# The triage code each complex kind must produce (tests hold the oracle to it).
KIND_REASON: dict[str, str] = {
    "first_application": oracle.FIRST_APPLICATION,
    "household_changed": oracle.HOUSEHOLD_MISMATCH,
    "income_deviation": oracle.INCOME_DEVIATION,
    "missing_agency_data": oracle.AGENCY_NO_ANSWER,
    "rent_above_cap": oracle.RENT_ABOVE_CAP,
    "protected_identity": oracle.PROTECTED_IDENTITY,
    "unknown_income_type": oracle.UNKNOWN_INCOME_TYPE,
}

# The shapes of a re-application's decision history (months relative to the period P; n = Beviljat months in a
# row up to P − 1, so P is month n + 1 of the spell). "Window" is jobbstimulans: six Beviljat months in a row open
# 24 calendar months (contract "Jobbstimulans from the decision history").
SPELL_KINDS: tuple[str, ...] = (
    "short",                # unbroken, n = 1…5: jobbstimulans not yet (n = 5: P is month 6 of the spell)
    "window",               # unbroken, n = 6…29: P is month n − 5 of the window (n = 6: the window's first month)
    "window_ended",         # unbroken, n = 30…36: the window is over; at n = 36 six new months open a second one
    "long_unknown",         # unbroken, n = 40…84: decisions older than 36 months are gallrade and the kept 36
                            # Beviljat months cannot tell where the window stands: JOBBSTIMULANS_UNKNOWN with lon
    "long_decidable",       # decisions before the 36 months too (gallrade), but the kept months end in a pause
                            # long enough that every possible earlier state gives the same answer
    "gap_return",           # 6+ months on, 1–4 off, back: still inside the window opened the first time
    "return_after_window",  # a window, then a pause past its end: back for 0–8 months, six new ones needed
                            # (months back while the old window still ran do not count)
    "avslag_in_spell",      # an Avslag inside the spell: it resets the streak before a window, not inside one
)
SPELL_WEIGHTS: dict[str, int] = {"short": 18, "window": 26, "window_ended": 8, "long_unknown": 8,
                                 "long_decidable": 7, "gap_return": 8, "return_after_window": 8, "avslag_in_spell": 8}
# Deliberate differences from last month's decision, and the change reason each must produce (None: none).
CHANGE_KINDS: tuple[str, ...] = (
    "income_changed",    # an income's approved amount last month differs from this month's by more than 12 %
    "income_steady",     # … differs, but by 12 % or less: no reason
    "income_new",        # an income counted this month had no row in last month's decision
    "income_gone",       # last month's decision had an income (a-kassa, lön, …) that is gone now
    "cost_changed",      # a cost other than the rent changed, came or went
    "rent_rise_capped",  # the rent rose by more than 500 kr (501 at the edge) and is within the cap
    "rent_rise_small",   # the rent rose by 500 kr or less (500 at the edge): only COST_CHANGED
    "member_added",      # a person in the household now was not in last month's decision (moved in since;
                         # registered at the address after last month's decision, so SKV agrees with the application)
    "member_gone",       # last month's decision had a person who has moved out since (registered elsewhere)
    "address_changed",   # the household moved in during the period month (SKV shows the new address from then)
)
CHANGE_REASON: dict[str, str | None] = {
    "income_changed": oracle.INCOME_CHANGED, "income_steady": None, "income_new": oracle.INCOME_NEW,
    "income_gone": oracle.INCOME_GONE, "cost_changed": oracle.COST_CHANGED,
    "rent_rise_capped": oracle.RENT_RISE_CAPPED, "rent_rise_small": oracle.COST_CHANGED,
    "member_added": oracle.HOUSEHOLD_CHANGED, "member_gone": oracle.HOUSEHOLD_CHANGED,
    "address_changed": oracle.ADDRESS_CHANGED,
}
# The case system keeps this many months of decisions; older ones are thinned out ("gallrade").
HISTORY_MONTHS = 36
COMPLETE, THINNED = "finns_inte", "gallrade"  # the history's "Äldre beslut"

# The reference case ("testärende") for the robot's preflight; see `generate.py` for how it is built.
REFERENCE = "reference"  # its Case.kind
# Under way and owned by a caseworker: every action form is drawn (a locked status hides the save button), and
# the robot takes under-way cases only when it started them itself, which it never does with this one.
REFERENCE_STATUS = "under_behandling"
REFERENCE_CASEWORKER = "handlaggare1"
REFERENCE_NOTE = "Testärende för robotens förkontroll av skärmarna – handläggs inte."


@dataclass(frozen=True)
class Person:
    pnr: str  # 12 digits, YYYYMMDDNNNC
    first_name: str
    last_name: str
    birth_date: dt.date
    protected: bool = False


@dataclass(frozen=True)
class Registration:
    pnr: str
    address: str
    from_date: dt.date


@dataclass(frozen=True)
class Member:
    pnr: str
    first_name: str
    last_name: str
    role: str  # sokande | medsokande | barn | ovrig_vuxen
    lunch_i_forskola: bool = False


@dataclass(frozen=True)
class Income:
    pnr: str
    income_type: str
    amount: int


@dataclass(frozen=True)
class FkPayment:
    pnr: str
    benefit: str  # a contract income key
    month: str  # YYYY-MM
    amount: int


@dataclass(frozen=True)
class CsnPayment:
    pnr: str
    month: str
    kind: str  # studiebidrag | studielan | studiehjalp
    amount: int


@dataclass(frozen=True)
class AfStatus:
    pnr: str
    registered: bool
    activity: str | None
    from_date: dt.date | None


@dataclass(frozen=True)
class Gap:
    portal: str
    pnr: str


@dataclass(frozen=True)
class JournalEntry:
    ts: str
    author: str
    text: str


@dataclass(frozen=True)
class Decision:
    """One decided month of a case's history: `rows` are (form field, applied, approved), non-zero ones only."""

    month: str  # YYYY-MM
    outcome: str  # Beviljat | Avslag
    decided_by: str
    decided_on: dt.date
    address: str
    household: tuple[str, ...]  # personnummer
    rows: tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class User:
    portal: str
    username: str
    password: str
    role: str
    display_name: str


@dataclass(frozen=True)
class Case:
    case_id: str
    application_type: str  # Återansökan | Nyansökan
    period: str
    received: dt.date
    caseworker: str
    bistand_sedan: str | None
    address: str
    members: tuple[Member, ...]
    costs: tuple[tuple[str, int], ...]
    incomes: tuple[Income, ...]
    journal: tuple[JournalEntry, ...]
    kind: str  # SIMPLE or one of COMPLEX_KINDS
    tags: tuple[str, ...] = ()  # generator notes (odd name, large family, …), for tests and the summary
    decisions: tuple[Decision, ...] = ()  # the kept history, newest first
    older: str = COMPLETE  # COMPLETE | THINNED
    spell: str | None = None  # one of SPELL_KINDS (None: a Nyansökan)
    change: str | None = None  # one of CHANGE_KINDS

    @property
    def applicant(self) -> Member:
        return self.members[0]


@dataclass
class World:
    seed: int
    period: str
    cases: list[Case] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    fk_payments: list[FkPayment] = field(default_factory=list)
    csn_payments: list[CsnPayment] = field(default_factory=list)
    af_statuses: list[AfStatus] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    # The preflight's reference case: not in `cases`; its people and agency data are in the lists above, after
    # everyone else's. None when generated with `reference=False`.
    reference: Case | None = None


def reference_case_id(period: str) -> str:
    return f"TEST-{period[:4]}-0001"


# -- months ------------------------------------------------------------------------------------------


def current_period(today: dt.date | None = None) -> str:
    """The default period of a seeded sandbox: the current month, YYYY-MM (contract "Norm figures")."""
    return (today or dt.date.today()).strftime("%Y-%m")


def add_months(month: str, delta: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def weekdays(month: str) -> int:
    year, mon = int(month[:4]), int(month[5:7])
    return sum(1 for day in range(1, calendar.monthrange(year, mon)[1] + 1) if dt.date(year, mon, day).weekday() < 5)


def days_in_month(month: str) -> int:
    return calendar.monthrange(int(month[:4]), int(month[5:7]))[1]


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
