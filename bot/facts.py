"""What the robot knows about one case, as the drivers read it from the portals.

The drivers build one `CaseFacts` per work item; `bot.calc` and `bot.triage` only read it. Every value carries
the `Source` it was read from, so the calculation can say where each figure came from.

Money is whole kronor (`int`), never float. Personnummer are kept as read; `pnr_key` makes the 10- and
12-digit forms comparable.

An agency answer is explicit per person: `FkAnswer(pnr, payments=())` means "Försäkringskassan answered: nothing
paid", `NoAnswer("fk", pnr)` means "Försäkringskassan could not answer", and no entry at all for a family member
means nobody asked. The last two both stop automatic handling; neither is ever read as "no payments".
FK and CSN must be asked for every family member (their incomes count); ask every declared member, so that a
"cannot answer" for anyone reaches the triage (contract: AGENCY_NO_ANSWER, "for a member").

    facts = CaseFacts(
        application=Application("EB-2024-00001", "Återansökan", "2024-12", bistand_sedan="2024-03"),
        members=(Member("19850312-2389", "sokande", date(1985, 3, 12)),),
        costs=(DeclaredCost("boende", 4200, Source("casesystem", "Ansökan")),),
        incomes=(DeclaredIncome("19850312-2389", "bostadsbidrag", 1850),),
        register=Register(at_address=(RegisteredPerson("19850312-2389", date(2019, 5, 1)),)),
        fk=(FkAnswer("19850312-2389", (FkPayment("bostadsbidrag", "2024-12", 1850),)),),
        csn=(CsnAnswer("19850312-2389"),),
    )
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from functools import cache, cached_property
from typing import Any, Literal, get_args

Role = Literal["sokande", "medsokande", "barn", "ovrig_vuxen"]
ROLES: tuple[str, ...] = get_args(Role)
# The applicant's family: the persons whose norm and incomes count. `ovrig_vuxen` shares only the housing.
FAMILY_ROLES: tuple[str, ...] = ("sokande", "medsokande", "barn")
ROLE_LABELS = {"sokande": "sökande", "medsokande": "medsökande", "barn": "barn", "ovrig_vuxen": "övrig vuxen"}

ApplicationType = Literal["Återansökan", "Nyansökan"]
APPLICATION_TYPES: tuple[str, ...] = get_args(ApplicationType)

Agency = Literal["skv", "fk", "csn", "af"]
AGENCIES: tuple[str, ...] = get_args(Agency)
AGENCY_NAMES = {"skv": "Skatteverket", "fk": "Försäkringskassan", "csn": "CSN", "af": "Arbetsförmedlingen"}

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class FactsError(ValueError):
    """Input that cannot be right, naming the field (e.g. `members[2].birth_date`)."""

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        super().__init__(f"{field_name}: {message}")


# ---------------------------------------------------------------------------------------------- small helpers

def parse_month(value: str, field_name: str) -> tuple[int, int]:
    """'YYYY-MM' → (year, month), or a FactsError naming the field."""
    m = _MONTH.match(value) if isinstance(value, str) else None
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise FactsError(field_name, f"expected a month as YYYY-MM, got {value!r}")
    return int(m.group(1)), int(m.group(2))


def period_end(period: str) -> date:
    """The last day of the period month: the day ages are taken on (contract: Ages)."""
    year, month = parse_month(period, "period")
    return date(year, month, calendar.monthrange(year, month)[1])


def age_on(birth: date, day: date) -> int:
    """Completed years on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def months_between(start: str, end: str) -> int:
    """Whole months from `start` to `end` (both YYYY-MM); the same month is 0."""
    y0, m0 = parse_month(start, "start")
    y1, m1 = parse_month(end, "end")
    return (y1 - y0) * 12 + (m1 - m0)


@cache
def pnr_key(pnr: str) -> str:
    """The last ten digits: '19850312-2389', '198503122389' and '850312-2389' are the same person."""
    digits = re.sub(r"\D", "", pnr)
    return digits[-10:] if len(digits) >= 10 else digits


def _kronor(value: Any, field_name: str) -> int:
    # bool is an int in Python; a float has no place in money.
    if isinstance(value, bool) or not isinstance(value, int):
        raise FactsError(field_name, f"expected whole kronor as int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise FactsError(field_name, f"an amount cannot be negative, got {value}")
    return value


def _text(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FactsError(field_name, f"expected a non-empty text, got {value!r}")
    return value


def _one_of(value: Any, allowed: tuple[str, ...], field_name: str) -> str:
    if value not in allowed:
        raise FactsError(field_name, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _tuple(obj: Any, name: str) -> None:
    # Drivers may pass lists; the facts stay immutable.
    value = getattr(obj, name)
    if not isinstance(value, tuple):
        object.__setattr__(obj, name, tuple(value))


# ---------------------------------------------------------------------------------------------- the model

@dataclass(frozen=True)
class Source:
    """Where a value was read: portal (`casesystem`, `skv`, `fk`, `csn`, `af`) and screen, when."""

    portal: str
    screen: str
    seen_at: datetime | date | None = None

    def __str__(self) -> str:
        if isinstance(self.seen_at, datetime):
            return f"{self.portal}: {self.screen} ({self.seen_at:%Y-%m-%d %H:%M})"
        if isinstance(self.seen_at, date):
            return f"{self.portal}: {self.screen} ({self.seen_at:%Y-%m-%d})"
        return f"{self.portal}: {self.screen}"


@dataclass(frozen=True)
class Member:
    """A person declared on the application. `lunch_i_forskola` only matters for children 0–6."""

    pnr: str
    role: Role
    birth_date: date
    lunch_i_forskola: bool = False
    source: Source | None = None

    def __post_init__(self) -> None:
        _text(self.pnr, "Member.pnr")
        _one_of(self.role, ROLES, "Member.role")
        if not isinstance(self.birth_date, date) or isinstance(self.birth_date, datetime):
            raise FactsError("Member.birth_date", f"expected a date, got {self.birth_date!r}")

    @property
    def in_family(self) -> bool:
        return self.role in FAMILY_ROLES


@dataclass(frozen=True)
class DeclaredCost:
    """A cost on the application; `field` is a cost form field key (`boende`, `hushallsel`, …)."""

    field: str
    amount: int
    source: Source | None = None

    def __post_init__(self) -> None:
        _text(self.field, "DeclaredCost.field")
        _kronor(self.amount, "DeclaredCost.amount")


@dataclass(frozen=True)
class DeclaredIncome:
    """An income on the application for one member; `type` is a declared income type key (`lon`, …)."""

    pnr: str
    type: str
    amount: int
    source: Source | None = None

    def __post_init__(self) -> None:
        _text(self.pnr, "DeclaredIncome.pnr")
        _text(self.type, "DeclaredIncome.type")
        _kronor(self.amount, "DeclaredIncome.amount")


@dataclass(frozen=True)
class Application:
    """The application header. `bistand_sedan`: first month of the current unbroken assistance spell."""

    case_id: str
    application_type: ApplicationType
    period: str
    bistand_sedan: str | None = None
    source: Source | None = None

    def __post_init__(self) -> None:
        _text(self.case_id, "application.case_id")
        _one_of(self.application_type, APPLICATION_TYPES, "application.application_type")
        parse_month(self.period, "application.period")
        if self.bistand_sedan is not None:
            parse_month(self.bistand_sedan, "application.bistand_sedan")
            if months_between(self.bistand_sedan, self.period) < 0:
                raise FactsError("application.bistand_sedan",
                                 f"{self.bistand_sedan} is after the period {self.period}")


@dataclass(frozen=True)
class FkPayment:
    """A payment from Försäkringskassan: benefit key (`bostadsbidrag`, …), the month it is for, amount."""

    benefit: str
    month: str
    amount: int

    def __post_init__(self) -> None:
        _text(self.benefit, "FkPayment.benefit")
        parse_month(self.month, "FkPayment.month")
        _kronor(self.amount, "FkPayment.amount")


@dataclass(frozen=True)
class FkAnswer:
    """Försäkringskassan answered for `pnr`; an empty `payments` means nothing was paid."""

    pnr: str
    payments: tuple[FkPayment, ...] = ()
    source: Source | None = None

    def __post_init__(self) -> None:
        _text(self.pnr, "FkAnswer.pnr")
        _tuple(self, "payments")


@dataclass(frozen=True)
class CsnPayment:
    """A payment from CSN: month, kind (`studiemedel_bidrag`, `studiemedel_lan`, `studiehjalp`, …), amount."""

    month: str
    kind: str
    amount: int

    def __post_init__(self) -> None:
        parse_month(self.month, "CsnPayment.month")
        _text(self.kind, "CsnPayment.kind")
        _kronor(self.amount, "CsnPayment.amount")


@dataclass(frozen=True)
class CsnAnswer:
    """CSN answered for `pnr`; an empty `payments` means nothing was paid."""

    pnr: str
    payments: tuple[CsnPayment, ...] = ()
    source: Source | None = None

    def __post_init__(self) -> None:
        _text(self.pnr, "CsnAnswer.pnr")
        _tuple(self, "payments")


@dataclass(frozen=True)
class AfAnswer:
    """Arbetsförmedlingen's job-seeker status for `pnr`."""

    pnr: str
    registered: bool
    activity: str | None = None
    registered_from: date | None = None
    source: Source | None = None

    def __post_init__(self) -> None:
        _text(self.pnr, "AfAnswer.pnr")


@dataclass(frozen=True)
class NoAnswer:
    """An agency could not answer for `pnr` (e.g. "uppgifter kan inte lämnas just nu")."""

    agency: Agency
    pnr: str
    message: str = "uppgifter kan inte lämnas just nu"
    source: Source | None = None

    def __post_init__(self) -> None:
        _one_of(self.agency, AGENCIES, "NoAnswer.agency")
        _text(self.pnr, "NoAnswer.pnr")


@dataclass(frozen=True)
class RegisteredPerson:
    """A person Skatteverket has registered at the applicant's address, from `registered_from`."""

    pnr: str
    registered_from: date
    protected: bool = False
    source: Source | None = None

    def __post_init__(self) -> None:
        _text(self.pnr, "RegisteredPerson.pnr")
        if not isinstance(self.registered_from, date):
            raise FactsError("RegisteredPerson.registered_from", f"expected a date, got {self.registered_from!r}")


@dataclass(frozen=True)
class Register:
    """Skatteverket's answers. SKV is asked person by person: `protected_pnrs` are declared members it marks as
    protected (so a protected member registered elsewhere is still seen), `at_address` everyone it shows at the
    applicant's address, `unanswered` the persons it could not answer about (each one stops automatic handling)."""

    at_address: tuple[RegisteredPerson, ...] = ()
    protected_pnrs: frozenset[str] = frozenset()
    source: Source | None = None
    unanswered: tuple[NoAnswer, ...] = ()

    def __post_init__(self) -> None:
        _tuple(self, "at_address")
        _tuple(self, "unanswered")
        if not isinstance(self.protected_pnrs, frozenset):
            object.__setattr__(self, "protected_pnrs", frozenset(self.protected_pnrs))
        for i, entry in enumerate(self.unanswered):
            if not isinstance(entry, NoAnswer) or entry.agency != "skv":
                raise FactsError(f"register.unanswered[{i}]", "expected NoAnswer('skv', pnr)")


DECISION_OUTCOMES = ("Beviljat", "Avslag")


@dataclass(frozen=True)
class DecisionRow:
    """One row of a decided calculation: the form field, the amount applied for and the amount approved."""

    field: str
    applied: int
    approved: int

    def __post_init__(self) -> None:
        _text(self.field, "decision_row.field")
        _kronor(self.applied, "decision_row.applied")
        _kronor(self.approved, "decision_row.approved")


@dataclass(frozen=True)
class Decision:
    """An earlier month's decision as the case system's history shows it. Only `Beviljat` is a month with
    försörjningsstöd."""

    month: str
    outcome: str
    decided_by: str = ""
    decided_on: date | None = None
    address: str = ""
    household: tuple[str, ...] = ()  # the persons' personnummer at that decision
    rows: tuple[DecisionRow, ...] = ()

    def __post_init__(self) -> None:
        parse_month(self.month, "decision.month")
        _one_of(self.outcome, DECISION_OUTCOMES, "decision.outcome")
        _tuple(self, "household")
        _tuple(self, "rows")

    @property
    def granted(self) -> bool:
        return self.outcome == "Beviljat"

    def approved(self, field_key: str) -> int:
        return sum(r.approved for r in self.rows if r.field == field_key)

    def applied(self, field_key: str) -> int:
        return sum(r.applied for r in self.rows if r.field == field_key)


@dataclass(frozen=True)
class History:
    """The household's earlier decisions (months before the period). `complete`: the case system says there were
    no older decisions; otherwise older ones were thinned out and the months before `kept_from` are unknown."""

    decisions: tuple[Decision, ...] = ()
    complete: bool = True
    kept_from: str | None = None
    source: Source | None = None

    def __post_init__(self) -> None:
        _tuple(self, "decisions")
        months = [d.month for d in self.decisions]
        if len(set(months)) != len(months):
            raise FactsError("history.decisions", "two decisions for the same month")
        if self.kept_from is not None:
            parse_month(self.kept_from, "history.kept_from")

    @property
    def last(self) -> Decision | None:
        """The newest decision: what this month is compared with."""
        return max(self.decisions, key=lambda d: d.month, default=None)

    @property
    def oldest_month(self) -> str | None:
        if self.kept_from is not None:
            return self.kept_from
        return min((d.month for d in self.decisions), default=None)

    def granted_months(self) -> frozenset[str]:
        return frozenset(d.month for d in self.decisions if d.granted)


FkEntry = FkAnswer | NoAnswer
CsnEntry = CsnAnswer | NoAnswer
AfEntry = AfAnswer | NoAnswer


@dataclass(frozen=True)
class CaseFacts:
    """Everything collected for one case and period. `register=None` means Skatteverket was not read."""

    application: Application
    members: tuple[Member, ...]
    costs: tuple[DeclaredCost, ...] = ()
    incomes: tuple[DeclaredIncome, ...] = ()
    register: Register | NoAnswer | None = None
    fk: tuple[FkEntry, ...] = ()
    csn: tuple[CsnEntry, ...] = ()
    af: tuple[AfEntry, ...] = ()
    history: History | None = None  # None: the case system's history was not read
    address: str | None = None  # the case's address as the case system shows it
    collected_at: datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name in ("members", "costs", "incomes", "fk", "csn", "af"):
                _tuple(self, f.name)
        if not isinstance(self.application, Application):
            raise FactsError("application", f"expected an Application, got {type(self.application).__name__}")
        self._check_members()
        keys = {pnr_key(m.pnr) for m in self.members}
        for i, inc in enumerate(self.incomes):
            if pnr_key(inc.pnr) not in keys:
                raise FactsError(f"incomes[{i}].pnr", "the income belongs to no declared member")
        for name, kinds in (("fk", (FkAnswer,)), ("csn", (CsnAnswer,)), ("af", (AfAnswer,))):
            self._check_answers(name, kinds)
        if isinstance(self.register, NoAnswer) and self.register.agency != "skv":
            raise FactsError("register.agency", f"a NoAnswer from {self.register.agency!r} filed as the register")
        if self.register is not None and not isinstance(self.register, Register | NoAnswer):
            raise FactsError("register", f"expected a Register or NoAnswer, got {type(self.register).__name__}")
        if self.history is not None:
            for i, d in enumerate(self.history.decisions):
                if months_between(d.month, self.period) <= 0:
                    raise FactsError(f"history.decisions[{i}].month",
                                     f"{d.month} is not before the period {self.period}")

    def _check_members(self) -> None:
        if not self.members:
            raise FactsError("members", "a household needs at least the applicant")
        end = self.period_end
        seen: set[str] = set()
        for i, m in enumerate(self.members):
            if not isinstance(m, Member):
                raise FactsError(f"members[{i}]", f"expected a Member, got {type(m).__name__}")
            if m.birth_date > end:
                raise FactsError(f"members[{i}].birth_date",
                                 f"{m.birth_date} is after the period's last day {end}")
            if pnr_key(m.pnr) in seen:
                raise FactsError(f"members[{i}].pnr", "the same person is declared twice")
            seen.add(pnr_key(m.pnr))
        roles = [m.role for m in self.members]
        if roles.count("sokande") != 1:
            raise FactsError("members", f"expected exactly one sokande, got {roles.count('sokande')}")
        if roles.count("medsokande") > 1:
            raise FactsError("members", f"expected at most one medsokande, got {roles.count('medsokande')}")

    def _check_answers(self, name: str, kinds: tuple[type, ...]) -> None:
        seen: set[str] = set()
        for i, entry in enumerate(getattr(self, name)):
            if isinstance(entry, NoAnswer):
                if entry.agency != name:
                    raise FactsError(f"{name}[{i}].agency", f"a NoAnswer from {entry.agency!r} filed under {name}")
            elif not isinstance(entry, kinds):
                raise FactsError(f"{name}[{i}]", f"expected {kinds[0].__name__} or NoAnswer")
            if pnr_key(entry.pnr) in seen:
                raise FactsError(f"{name}[{i}].pnr", "two answers for the same person")
            seen.add(pnr_key(entry.pnr))

    # -- reading helpers ---------------------------------------------------------------------------------

    @property
    def period(self) -> str:
        return self.application.period

    @property
    def period_end(self) -> date:
        return period_end(self.application.period)

    @property
    def year(self) -> int:
        return parse_month(self.application.period, "application.period")[0]

    @property
    def family(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.in_family)

    def with_role(self, *roles: str) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.role in roles)

    def age(self, member: Member) -> int:
        return age_on(member.birth_date, self.period_end)

    def member(self, pnr: str) -> Member | None:
        return next((m for m in self.members if pnr_key(m.pnr) == pnr_key(pnr)), None)

    def incomes_of(self, pnr: str, type_key: str | None = None) -> tuple[DeclaredIncome, ...]:
        return tuple(i for i in self.incomes
                     if pnr_key(i.pnr) == pnr_key(pnr) and (type_key is None or i.type == type_key))

    @cached_property
    def _answers(self) -> dict[tuple[str, str], FkEntry | CsnEntry | AfEntry]:
        # cached_property writes the instance __dict__ directly, so it works on a frozen dataclass.
        return {(agency, pnr_key(e.pnr)): e for agency in ("fk", "csn", "af") for e in getattr(self, agency)}

    def answer(self, agency: str, pnr: str) -> FkEntry | CsnEntry | AfEntry | None:
        """The agency's entry for the person, or None when nobody asked."""
        return self._answers.get((agency, pnr_key(pnr)))
