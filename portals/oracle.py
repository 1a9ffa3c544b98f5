"""The sandbox's own answer to "what should the robot have done with this case?" (docs/contract.md).

Written from the contract alone and sharing no code with `bot/`: if the robot's calculation or triage drifts,
the two disagree and the tests say so. Kept deliberately small — one table per year, one function per step —
so that a reader can check it against the contract line by line.

What the robot must write (decided here, binding for the tests): on an `auto` or `partial` case, **every**
form field that triage does not leave empty, with 0 where nothing applies (so a stale value from an earlier
run can never survive); on a `manual` case nothing at all, every field stays empty.

The decision history (contract "The case history", "Jobbstimulans from the decision history", "Changes against
last month's decision") decides jobbstimulans and gives the change reasons. Where the contract leaves a choice,
this file takes it as follows (the same reading is written in docs/sandbox-casesystem.md):
- an income's "this month" is the counted amount of the calculation whether or not triage leaves the field empty
  (an agency-reported type: the agency's figure even with INCOME_DEVIATION); only `lon` under
  JOBBSTIMULANS_UNKNOWN has no counted amount, and is then not compared at all;
- "last month's decision" is the newest decision in the history whatever its outcome (an Avslag too) and however
  far back; change reasons are listed on manual cases too;
- RENT_RISE_CAPPED compares with last month's approved `boende`; with none approved (no row) there is no rise.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field

NORM_FIELDS: tuple[str, ...] = ("norm_personliga", "norm_gemensamma")
COST_FIELDS: tuple[str, ...] = ("boende", "hushallsel", "hemforsakring", "arbetsresor", "fackavgift",
                                "akasseavgift", "barnomsorg", "lakarvard", "tandvard")
INCOME_FIELDS: tuple[str, ...] = ("lon", "a_kassa", "sjukpenning", "foraldrapenning", "aktivitetsstod",
                                  "bostadsbidrag", "barnbidrag", "underhallsstod", "studiestod", "pension",
                                  "ovriga_inkomster")
FORM_FIELDS: tuple[str, ...] = NORM_FIELDS + COST_FIELDS + INCOME_FIELDS

# Income types an agency reports, and which agency (contract: "Income types on an application").
REPORTED_BY: dict[str, str] = {
    "sjukpenning": "fk", "foraldrapenning": "fk", "aktivitetsstod": "fk", "bostadsbidrag": "fk",
    "barnbidrag": "fk", "underhallsstod": "fk", "studiestod": "csn",
}
FAMILY_ROLES = frozenset({"sokande", "medsokande", "barn"})
ROLES = FAMILY_ROLES | {"ovrig_vuxen"}

# Triage codes in the contract's table order; the first five send the whole case to a person.
FIRST_APPLICATION = "FIRST_APPLICATION"
PROTECTED_IDENTITY = "PROTECTED_IDENTITY"
AGENCY_NO_ANSWER = "AGENCY_NO_ANSWER"
HOUSEHOLD_MISMATCH = "HOUSEHOLD_MISMATCH"
UNKNOWN_INCOME_TYPE = "UNKNOWN_INCOME_TYPE"
INCOME_DEVIATION = "INCOME_DEVIATION"
RENT_ABOVE_CAP = "RENT_ABOVE_CAP"
YOUNG_ADULT_SCHOOL = "YOUNG_ADULT_SCHOOL"
NORM_FIGURE_MISSING = "NORM_FIGURE_MISSING"
JOBBSTIMULANS_UNKNOWN = "JOBBSTIMULANS_UNKNOWN"
MANUAL_CODES = frozenset({FIRST_APPLICATION, PROTECTED_IDENTITY, AGENCY_NO_ANSWER, HOUSEHOLD_MISMATCH,
                          UNKNOWN_INCOME_TYPE})
# Change reasons against last month's decision, in the contract's table order (after the triage codes). The
# first five are warnings: the case stays automatic; the last two make it partial.
INCOME_NEW = "INCOME_NEW"
INCOME_GONE = "INCOME_GONE"
INCOME_CHANGED = "INCOME_CHANGED"
COST_CHANGED = "COST_CHANGED"
RENT_RISE_CAPPED = "RENT_RISE_CAPPED"
HOUSEHOLD_CHANGED = "HOUSEHOLD_CHANGED"
ADDRESS_CHANGED = "ADDRESS_CHANGED"
CHANGE_CODES: tuple[str, ...] = (INCOME_NEW, INCOME_GONE, INCOME_CHANGED, COST_CHANGED, RENT_RISE_CAPPED,
                                 HOUSEHOLD_CHANGED, ADDRESS_CHANGED)
WARNING_CODES = frozenset({INCOME_NEW, INCOME_GONE, INCOME_CHANGED, COST_CHANGED, RENT_RISE_CAPPED})

# Decision outcomes in the history; only Beviljat is a month with försörjningsstöd.
BEVILJAT = "Beviljat"
AVSLAG = "Avslag"

# Local guidelines: the defaults the contract names.
DEVIATION_KR = 100
DEVIATION_PERCENT = 5
JOBBSTIMULANS_STREAK = 6  # Beviljat months in a row that open a window …
JOBBSTIMULANS_WINDOW = 24  # … of this many calendar months
JOBBSTIMULANS_PERCENT = 25
INCOME_CHANGE_PERCENT = 12  # `income_change_percent`
RENT_RISE_LIMIT_KR = 500  # `rent_rise_limit_kr`
YOUNG_ADULT_AGES = range(18, 21)

# Rent caps: the set in force for the period (contract "Rent caps").
# Up to 2025-12, Högsby kommun 2023: without children by adults; with children by number of children (1–2 adults
# alike).
HOGSBY_LAST_PERIOD = "2025-12"
HOGSBY_NO_CHILDREN: dict[int, int] = {1: 4474, 2: 5581}
HOGSBY_CHILDREN: tuple[int, ...] = (6192, 7416, 8046, 8650, 9255)  # 1, 2, 3, 4, 5 or more children
# From 2026-01, Sundsvall's 2026 limits: without children by the sokande's age (1–2 adults alike); with children
# by number of children.
SUNDSVALL_YOUNG_MAX_AGE = 28
SUNDSVALL_NO_CHILDREN_YOUNG = 5800  # sokande aged 28 or less at the period end
SUNDSVALL_NO_CHILDREN = 6800  # sokande aged 29 or more
SUNDSVALL_CHILDREN: tuple[tuple[int, int], ...] = ((2, 7900), (4, 9900), (6, 11000))  # (up to n children, cap)
SUNDSVALL_MANY_CHILDREN = 14200  # 7 or more children

# A norm figure: kr/month, or None when no source gives it (contract "Norm figures").
Figure = int | None
NONE_4: tuple[Figure, Figure, Figure, Figure] = (None,) * 4


@dataclass(frozen=True)
class Norms:
    """One year's riksnorm (kr/month); None: no source gives the figure.

    Child bands: <1, 1–2, 3, 4–6, 7–10, 11–14, 15–18, 19–20 years; "utan lunch" bands: <1, 1–2, 3, 4–6."""

    single: Figure
    pair: Figure
    children: tuple[Figure, Figure, Figure, Figure, Figure, Figure, Figure, Figure]
    without_lunch: tuple[Figure, Figure, Figure, Figure]
    common: tuple[Figure, Figure, Figure, Figure, Figure, Figure, Figure]  # household of 1..7 persons


NORMS: dict[int, Norms] = {
    # 2026 (shared/domain-research.md section 7). Lifecare's norm catalogue as captured in Sundsvall's public
    # code [S36] (medium confidence), checked against the government's totals (regeringen.se, "Riksnorm för
    # 2026 fastställd": 5 220 single, 8 510 cohabitants):
    #   single 3 940 (catalogue; 3 940 + common(1) 1 280 = 5 220), pair 7 100 (catalogue: 3 550 per person),
    #   barn 7–10 3 820 and barn 11–14 4 390 (catalogue), common(1) 1 280 (5 220 − 3 940), common(2) 1 410
    #   (8 510 − 7 100), common(4) 2 030 (catalogue), common(5) 2 330 (a captured six-month 13 980 = 6 × 2 330).
    # Not found anywhere: barn <1, 1–2, 3, 4–6, 15–18, 19–20, every "utan lunch" figure, common(3, 6, 7).
    2026: Norms(3940, 7100, (None, None, None, None, 3820, 4390, None, None), NONE_4,
                (1280, 1410, None, 2030, 2330, None, None)),
    # 2025: only the uplift (+2.8 %) is known, no amounts (domain-research.md section 7): every figure missing.
    2025: Norms(None, None, (None,) * 8, NONE_4, (None,) * 7),
    # Götene's copy of the 2024 figures (domain-research.md [S5]); no "utan lunch" figures found.
    2024: Norms(3800, 6850, (2640, 2940, 2620, 2940, 3680, 4230, 4780, 4820), NONE_4,
                (1230, 1360, 1720, 1950, 2240, 2540, 2730)),
    # SFS 2020:1013 (domain-research.md [S2]).
    2021: Norms(3160, 5700, (2180, 2440, 2170, 2440, 3060, 3520, 3970, 4000), (2050, 2240, 1990, 2170),
                (1020, 1130, 1420, 1610, 1860, 2100, 2270)),
}


@dataclass(frozen=True)
class Member:
    pnr: str
    role: str
    birth_date: dt.date
    lunch_i_forskola: bool = False


@dataclass(frozen=True)
class Decision:
    """One decided month of the case history, as the case system keeps it."""

    month: str  # YYYY-MM
    outcome: str  # Beviljat | Avslag
    address: str = ""
    household: frozenset[str] = frozenset()  # the persons (pnr) at that decision
    applied: Mapping[str, int] = field(default_factory=dict)  # form field → applied amount (no row: 0)
    approved: Mapping[str, int] = field(default_factory=dict)  # form field → approved amount (no row: 0)


@dataclass(frozen=True)
class CaseFacts:
    """Everything the rules look at, as the portals hold it for the case's period month."""

    case_id: str
    period: str  # YYYY-MM
    application_type: str  # Återansökan | Nyansökan
    bistand_sedan: str | None  # YYYY-MM
    members: tuple[Member, ...]
    costs: Mapping[str, int] = field(default_factory=dict)
    incomes: tuple[tuple[str, str, int], ...] = ()  # declared (pnr, type, amount)
    reported: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (pnr, type) → period month sum
    registered: frozenset[str] | None = None  # registered at the address at period end; None: as declared
    protected: frozenset[str] = frozenset()
    gaps: frozenset[str] = frozenset()  # persons some agency could not answer for
    address: str = ""  # the case's address
    decisions: tuple[Decision, ...] = ()  # the kept history (any order; the newest counts as last month's)
    history_complete: bool = True  # "Äldre beslut: Finns inte"; False: "Gallrade"


@dataclass(frozen=True)
class Expected:
    case_id: str
    outcome: str  # auto | partial | manual
    reasons: tuple[str, ...]
    fields: dict[str, int]  # what the robot must write
    empty_fields: tuple[str, ...]  # what it must leave empty

    @property
    def att_betala(self) -> int | None:
        """The amount the case system will show, for a fully calculated case."""
        if self.outcome != "auto":
            return None
        norm = sum(self.fields[f] for f in NORM_FIELDS)
        costs = sum(self.fields[f] for f in COST_FIELDS)
        incomes = sum(self.fields[f] for f in INCOME_FIELDS)
        return max(0, norm + costs - incomes)


def half_up(numerator: int, denominator: int) -> int:
    """numerator ÷ denominator rounded half up (non-negative amounts only), in integers so no float creeps in."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("half_up is for non-negative amounts")
    return (2 * numerator + denominator) // (2 * denominator)


def period_end(period: str) -> dt.date:
    year, month = int(period[:4]), int(period[5:7])
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def age_at(birth: dt.date, day: dt.date) -> int:
    if birth > day:
        raise ValueError(f"born {birth}, after {day}")
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def months_between(start: str, end: str) -> int:
    return (int(end[:4]) - int(start[:4])) * 12 + int(end[5:7]) - int(start[5:7])


def month_index(month: str) -> int:
    """YYYY-MM as a count of months, so that consecutive months are consecutive integers."""
    return int(month[:4]) * 12 + int(month[5:7]) - 1


# -- jobbstimulans from the decision history ------------------------------------------------------------------------

Window = tuple[int, int]  # (first month, last month) as month indexes


def _walk(outcomes: Mapping[int, str], start: int, period: int, window: Window | None, streak: int) -> int:
    """Walk the calendar months start … period − 1 from the state (window, streak); then which month of its window
    `period` is (1 … 24), or 0 when it is in none. Outside a window a Beviljat month adds 1 to the streak and any
    other month (Avslag, no decision) sets it to 0; at 6 a window opens for the next 24 months, and the streak
    starts again from 0 after the window's last month (months inside a window never count)."""
    for month in range(start, period):
        if window is not None and month <= window[1]:
            if month == window[1]:
                window, streak = None, 0
            continue
        streak = streak + 1 if outcomes.get(month) == BEVILJAT else 0
        if streak == JOBBSTIMULANS_STREAK:
            window, streak = (month + 1, month + JOBBSTIMULANS_WINDOW), 0
    if window is not None and window[0] <= period <= window[1]:
        return period - window[0] + 1
    return 0


def jobbstimulans_month(decisions: tuple[Decision, ...], period: str, complete: bool) -> int | None:
    """Which month of a jobbstimulans window the period is (1 … 24), 0 when none, None when the history cannot
    tell (contract "Jobbstimulans from the decision history").

    A complete history is walked from its oldest month with no window and streak 0. An incomplete one ("Gallrade")
    is walked from every state the thinned-out months could have left: no window and streak 0 … 5, or a window
    ending at any month from the oldest kept month to 23 months later; only if every walk gives the same month
    (or none) is that the answer."""
    p = month_index(period)
    outcomes = {month_index(d.month): d.outcome for d in decisions if month_index(d.month) < p}
    if not outcomes:
        # No decision in the kept months at all: nothing can have opened a window that is still running.
        return 0
    oldest = min(outcomes)
    states: list[tuple[Window | None, int]] = [(None, 0)]
    if not complete:
        states = [(None, streak) for streak in range(JOBBSTIMULANS_STREAK)] + [
            ((end - JOBBSTIMULANS_WINDOW + 1, end), 0) for end in range(oldest, oldest + JOBBSTIMULANS_WINDOW)]
    answers = {_walk(outcomes, oldest, p, window, streak) for window, streak in states}
    return answers.pop() if len(answers) == 1 else None


def income_changed(now: int, before: int) -> bool:
    """Both > 0 and |now − before| × 100 > 12 × before (exactly 12 % is no change), in integers."""
    return now > 0 and before > 0 and 100 * abs(now - before) > INCOME_CHANGE_PERCENT * before


def _band(age: int) -> int:
    for band, upper in enumerate((0, 2, 3, 6, 10, 14, 18, 20)):
        if age <= upper:
            return band
    raise ValueError(f"a barn aged {age}: children count only under 21")


def _total(figures: list[Figure]) -> int | None:
    """The sum, or None when a figure is missing: a field that needs a missing figure stays empty."""
    if any(figure is None for figure in figures):
        return None
    return sum(figure for figure in figures if figure is not None)


def personal_norm(norms: Norms, adults: int, children: list[tuple[int, bool]]) -> int | None:
    """The pair's or the single adult's figure plus each child's band figure (age, lunch at preschool): a child
    of 0–6 eating lunch at preschool gets the "utan lunch" figure. None when any of them is missing."""
    figures = [norms.pair if adults == 2 else norms.single]
    for age, lunch in children:
        band = _band(age)
        figures.append(norms.without_lunch[band] if lunch and age <= 6 else norms.children[band])
    return _total(figures)


def common_costs(norms: Norms, persons: int) -> int | None:
    """common(N); over 7 persons common(7) + (N − 7) × (common(7) − common(6)). None when a figure is missing."""
    if persons <= 7:
        return norms.common[persons - 1]
    six, seven = norms.common[5], norms.common[6]
    if six is None or seven is None:
        return None
    return seven + (persons - 7) * (seven - six)


def common_norm(norms: Norms, family: int, household: int) -> int | None:
    """The family's share of the household's common costs: common(N) × family ÷ N, rounded half up."""
    total = common_costs(norms, household)
    return None if total is None else half_up(total * family, household)


def rent_cap(period: str, adults: int, children: int, sokande_age: int) -> int:
    """The cap in force for the period: Högsby 2023 up to 2025-12, Sundsvall 2026 from 2026-01."""
    if period <= HOGSBY_LAST_PERIOD:
        if children == 0:
            return HOGSBY_NO_CHILDREN[adults]
        return HOGSBY_CHILDREN[min(children, 5) - 1]
    if children == 0:
        return SUNDSVALL_NO_CHILDREN_YOUNG if sokande_age <= SUNDSVALL_YOUNG_MAX_AGE else SUNDSVALL_NO_CHILDREN
    return next((cap for most, cap in SUNDSVALL_CHILDREN if children <= most), SUNDSVALL_MANY_CHILDREN)


def deviates(declared: int | None, reported: int) -> bool:
    if declared is None:
        return reported > 0
    # |d − r| > max(100, 5 % of r), multiplied by 100 to stay in integers.
    return 100 * abs(declared - reported) > max(100 * DEVIATION_KR, DEVIATION_PERCENT * reported)


def expected_outcome(facts: CaseFacts) -> Expected:
    norms = NORMS.get(int(facts.period[:4]))
    if norms is None:
        raise ValueError(f"the oracle has no norm table for {facts.period[:4]}")
    end = period_end(facts.period)
    roles = [m.role for m in facts.members]
    if roles.count("sokande") != 1 or roles.count("medsokande") > 1 or not set(roles) <= ROLES:
        raise ValueError(f"{facts.case_id}: need one sokande, at most one medsokande, known roles")
    ages = {m.pnr: age_at(m.birth_date, end) for m in facts.members}
    family = [m for m in facts.members if m.role in FAMILY_ROLES]
    family_pnrs = {m.pnr for m in family}
    children = [m for m in family if m.role == "barn"]
    declared = frozenset(m.pnr for m in facts.members)
    registered = declared if facts.registered is None else facts.registered

    reasons: list[str] = []
    empty: set[str] = set()

    def flag(code: str, *fields: str) -> None:
        if code not in reasons:
            reasons.append(code)
        empty.update(fields)

    if facts.application_type == "Nyansökan":
        flag(FIRST_APPLICATION)
    if facts.protected & (declared | registered):
        flag(PROTECTED_IDENTITY)
    if facts.gaps & declared:
        flag(AGENCY_NO_ANSWER)
    if registered != declared:
        flag(HOUSEHOLD_MISMATCH)
    if any(kind not in INCOME_FIELDS for _, kind, _ in facts.incomes):
        flag(UNKNOWN_INCOME_TYPE)

    declared_by: dict[tuple[str, str], int] = {}
    for pnr, kind, amount in facts.incomes:
        declared_by[(pnr, kind)] = declared_by.get((pnr, kind), 0) + amount
    for kind in REPORTED_BY:
        for pnr in sorted(family_pnrs):
            if deviates(declared_by.get((pnr, kind)), facts.reported.get((pnr, kind), 0)):
                flag(INCOME_DEVIATION, kind)

    adults = sum(1 for m in family if m.role in ("sokande", "medsokande"))
    sokande = next(m for m in family if m.role == "sokande")
    rent = facts.costs.get("boende", 0)
    above_cap = rent > rent_cap(facts.period, adults, len(children), ages[sokande.pnr])
    if above_cap:
        flag(RENT_ABOVE_CAP, "boende")
    if any(ages[m.pnr] in YOUNG_ADULT_AGES for m in children):
        flag(YOUNG_ADULT_SCHOOL, "norm_personliga")
    # An ovrig_vuxen shares the flat: the family pays its share common(N) × family ÷ N.
    norm = {"norm_personliga": personal_norm(norms, adults, [(ages[m.pnr], m.lunch_i_forskola) for m in children]),
            "norm_gemensamma": common_norm(norms, len(family), len(facts.members))}
    missing = [key for key, value in norm.items() if value is None]
    if missing:
        flag(NORM_FIGURE_MISSING, *missing)

    # Jobbstimulans from the decision history; unknown matters only when the sokande or medsokande earns.
    stimulans = jobbstimulans_month(facts.decisions, facts.period, facts.history_complete)
    lon_unknown = stimulans is None and any(
        declared_by.get((m.pnr, "lon"), 0) > 0 for m in family if m.role in ("sokande", "medsokande"))
    if lon_unknown:
        flag(JOBBSTIMULANS_UNKNOWN, "lon")

    values: dict[str, int] = {key: value for key, value in norm.items() if value is not None}
    for cost in COST_FIELDS:
        values[cost] = facts.costs.get(cost, 0)
    for kind in INCOME_FIELDS:
        total = 0
        for member in family:
            if kind in REPORTED_BY:
                total += facts.reported.get((member.pnr, kind), 0)
                continue
            amount = declared_by.get((member.pnr, kind), 0)
            if kind == "lon" and amount and member.role == "barn":
                raise NotImplementedError("a barn's own work income (SoL 4:1 a) is not modelled by the sandbox")
            if kind == "lon" and stimulans:
                amount -= half_up(amount * JOBBSTIMULANS_PERCENT, 100)
            total += amount
        values[kind] = total

    last = max(facts.decisions, key=lambda d: d.month, default=None)
    if last is not None:
        for code, left_empty, fill in _changes(facts, last, values, lon_unknown, above_cap):
            flag(code, *left_empty)
            values.update(fill)

    if MANUAL_CODES & set(reasons):
        return Expected(facts.case_id, "manual", tuple(reasons), {}, FORM_FIELDS)
    outcome = "partial" if set(reasons) - WARNING_CODES else "auto"
    fields = {k: v for k, v in values.items() if k not in empty}
    return Expected(facts.case_id, outcome, tuple(reasons), fields, tuple(f for f in FORM_FIELDS if f in empty))


def _changes(facts: CaseFacts, last: Decision, counted: Mapping[str, int], lon_unknown: bool,
             above_cap: bool) -> list[tuple[str, tuple[str, ...], dict[str, int]]]:
    """The change reasons against the newest decision, in the contract's order: (code, fields left empty, fields
    filled otherwise). "This month" is the counted income (not for `lon` when jobbstimulans cannot be told) and the
    declared cost; "last month" the approved income and the applied cost, 0 where the decision has no row."""
    found: dict[str, tuple[tuple[str, ...], dict[str, int]]] = {}
    for kind in INCOME_FIELDS:
        if kind == "lon" and lon_unknown:
            continue
        now, before = counted[kind], last.approved.get(kind, 0)
        if now > 0 and before == 0:
            found[INCOME_NEW] = ((), {})
        elif now == 0 and before > 0:
            found[INCOME_GONE] = ((), {})
        elif income_changed(now, before):
            found[INCOME_CHANGED] = ((), {})
    last_rent = last.approved.get("boende", 0)
    rent_capped = (not above_cap and last_rent > 0
                   and facts.costs.get("boende", 0) - last_rent > RENT_RISE_LIMIT_KR)
    for cost in COST_FIELDS:
        if cost == "boende" and rent_capped:
            continue
        if facts.costs.get(cost, 0) != last.applied.get(cost, 0):
            found[COST_CHANGED] = ((), {})
    if rent_capped:
        found[RENT_RISE_CAPPED] = ((), {"boende": last_rent})
    if frozenset(m.pnr for m in facts.members) != last.household:
        found[HOUSEHOLD_CHANGED] = ((), {})
    if facts.address != last.address:
        found[ADDRESS_CHANGED] = (("boende",), {})
    return [(code, *found[code]) for code in CHANGE_CODES if code in found]


# -- reading the facts from the sandbox database ---------------------------------------------------------


def _marks(values: list[str] | frozenset[str]) -> str:
    return ", ".join("?" * len(values))


def _rows(conn: sqlite3.Connection, sql: str, params: tuple[object, ...] | list[str] = ()) -> list[sqlite3.Row]:
    """Rows by column name whatever the connection's own row factory."""
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params).fetchall()


def load_case_facts(conn: sqlite3.Connection, case_id: str) -> CaseFacts:
    """The facts as the portals hold them: the case system's application, the agencies' period month."""
    found = _rows(conn, "SELECT * FROM cs_cases WHERE case_id = ?", (case_id,))
    if not found:
        raise KeyError(case_id)
    case = found[0]
    period = case["period"]
    end = period_end(period).isoformat()
    household = _rows(conn, "SELECT h.pnr, h.role, h.lunch_i_forskola, p.birth_date FROM cs_household h "
                            "JOIN skv_persons p ON p.pnr = h.pnr WHERE h.case_id = ? ORDER BY h.position", (case_id,))
    members = tuple(Member(r["pnr"], r["role"], dt.date.fromisoformat(r["birth_date"]), bool(r["lunch_i_forskola"]))
                    for r in household)
    pnrs = [m.pnr for m in members]
    costs = {r["field"]: r["amount"]
             for r in _rows(conn, "SELECT field, amount FROM cs_declared_costs WHERE case_id = ?", (case_id,))}
    income_rows = _rows(conn, "SELECT pnr, income_type, amount FROM cs_declared_incomes WHERE case_id = ? "
                              "ORDER BY rowid", (case_id,))
    incomes = tuple((r["pnr"], r["income_type"], r["amount"]) for r in income_rows)

    reported: dict[tuple[str, str], int] = {}
    fk_rows = _rows(conn, f"SELECT pnr, benefit, SUM(amount) AS total FROM fk_payments WHERE pnr IN ({_marks(pnrs)}) "
                          "AND substr(month, 1, 7) = ? GROUP BY pnr, benefit", (*pnrs, period))
    for r in fk_rows:
        if REPORTED_BY.get(r["benefit"]) == "fk":
            reported[(r["pnr"], r["benefit"])] = r["total"]
    csn_rows = _rows(conn, f"SELECT pnr, SUM(amount) AS total FROM csn_payments WHERE pnr IN ({_marks(pnrs)}) "
                           "AND substr(month, 1, 7) = ? GROUP BY pnr", (*pnrs, period))
    for r in csn_rows:
        reported[(r["pnr"], "studiestod")] = r["total"]

    # Registered at the address = the person's latest registration on or before the period's last day.
    registered = frozenset(r["pnr"] for r in _rows(
        conn, "SELECT r.pnr FROM skv_registrations r WHERE r.address = ? AND r.from_date <= ? "
              "AND r.from_date = (SELECT MAX(x.from_date) FROM skv_registrations x WHERE x.pnr = r.pnr "
              "AND x.from_date <= ?)", (case["address"], end, end)))
    involved = sorted(set(pnrs) | registered)
    protected = frozenset(r["pnr"] for r in _rows(
        conn, f"SELECT pnr FROM skv_persons WHERE protected = 1 AND pnr IN ({_marks(involved)})", involved))
    gaps = frozenset(r["pnr"] for r in _rows(
        conn, f"SELECT DISTINCT pnr FROM agency_gaps WHERE pnr IN ({_marks(pnrs)})", pnrs))
    decisions, complete = load_history(conn, case_id)
    return CaseFacts(case_id, period, case["application_type"], case["bistand_sedan"], members, costs, incomes,
                     reported, registered, protected, gaps, case["address"], decisions, complete)


def load_history(conn: sqlite3.Connection, case_id: str) -> tuple[tuple[Decision, ...], bool]:
    """The case system's decision history of the case (newest first) and whether it is complete (no history row:
    complete and empty)."""
    kept = _rows(conn, "SELECT older FROM cs_history WHERE case_id = ?", (case_id,))
    complete = not kept or kept[0]["older"] == "finns_inte"
    household: dict[str, set[str]] = {}
    for r in _rows(conn, "SELECT month, pnr FROM cs_decision_household WHERE case_id = ?", (case_id,)):
        household.setdefault(r["month"], set()).add(r["pnr"])
    applied: dict[str, dict[str, int]] = {}
    approved: dict[str, dict[str, int]] = {}
    for r in _rows(conn, "SELECT month, field, applied, approved FROM cs_decision_rows WHERE case_id = ?",
                   (case_id,)):
        applied.setdefault(r["month"], {})[r["field"]] = r["applied"]
        approved.setdefault(r["month"], {})[r["field"]] = r["approved"]
    decisions = tuple(
        Decision(r["month"], r["outcome"], r["address"], frozenset(household.get(r["month"], ())),
                 applied.get(r["month"], {}), approved.get(r["month"], {}))
        for r in _rows(conn, "SELECT month, outcome, address FROM cs_decisions WHERE case_id = ? "
                             "ORDER BY month DESC", (case_id,)))
    return decisions, complete


def expected_for_all(conn: sqlite3.Connection) -> list[Expected]:
    return [expected_outcome(load_case_facts(conn, r["case_id"]))
            for r in _rows(conn, "SELECT case_id FROM cs_cases ORDER BY case_id")]


def to_row(expected: Expected, kind: str | None) -> tuple[str, str | None, str, str, str, str]:
    """An `sb_expected` row: (case_id, kind, outcome, fields_json, empty_fields_json, reasons_json)."""
    return (expected.case_id, kind, expected.outcome, json.dumps(expected.fields, sort_keys=True),
            json.dumps(list(expected.empty_fields)), json.dumps(list(expected.reasons)))
