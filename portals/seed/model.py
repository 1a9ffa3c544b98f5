"""What the sandbox's world is made of: people, households, their applications and what each agency holds.

Frozen dataclasses (besides `World`, which the generator fills), compared by value, so tests can check that
the same seed gives the same world. Also the case kinds, the reference case's fixed facts and the month
arithmetic that the generator and the tests share.
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
