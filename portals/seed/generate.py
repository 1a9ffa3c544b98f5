"""Generating the sandbox's world: `generate_world` plans the cases of a seed, then builds them one by one.

Deterministic for a seed and period: one `random.Random`, no set iteration, no clock (only a period left out
defaults to the current month). About a fifth of the cases are deliberately complex, one named kind each
(`COMPLEX_KINDS`); the rest are ordinary monthly re-applications, some of which still end up partly manual for
ordinary reasons (a child of 18–20 at home, a child eating lunch at preschool in a year without the lower norm
figure, and from 2025 any household that needs a norm figure no source gives). The reference case is built last,
from its own random stream, so that it never changes the cases of a seed.

Every re-application also gets the case system's decision history (`_history`), drawn from a second random stream
(seed + HISTORY_SEED_OFFSET): a spell kind for each and a change kind for about a third of the simple ones
(`model.SPELL_KINDS`, `model.CHANGE_KINDS`). Everything else in a decision follows the world: the household is
the declared persons living with the applicant at the decision date (SKV's registrations), the address the
applicant's registered one then (an earlier home in another town is turned into one in town: the decisions are
this municipality's), the decided calculation this month's figures (norms of that month's year and household,
costs as declared with the rent capped by the cap then in force, incomes as counted with the jobbstimulans of
that month), so last month's decision differs from this month only where a kind (or the world: a birth, a
benefit that ended, the end of a window) makes it differ; the tags name those (see `_history_tags`).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field, replace

from portals import names, oracle
from portals.pnr import PnrAllocator, is_female
from portals.seed import history
from portals.seed.model import (
    CHANGE_KINDS,
    COMPLETE,
    COMPLEX_KINDS,
    HISTORY_MONTHS,
    REFERENCE,
    REFERENCE_CASEWORKER,
    REFERENCE_NOTE,
    SIMPLE,
    SPELL_WEIGHTS,
    THINNED,
    AfStatus,
    Case,
    CsnPayment,
    Decision,
    FkPayment,
    Gap,
    Income,
    JournalEntry,
    Member,
    Person,
    Registration,
    User,
    World,
    add_months,
    current_period,
    days_in_month,
    reference_case_id,
    weekdays,
    years_before,
)

AGENCIES: tuple[str, ...] = ("skv", "fk", "af", "csn")
COMPLEX_SHARE = 0.20
# The decision history: its own random stream; the share of simple re-applications with a change kind; the share of
# simple re-applications where nobody earns that get a part-time wage for the applicant (so that jobbstimulans
# matters in enough cases); the share of decisions taken by a colleague of the case's caseworker.
HISTORY_SEED_OFFSET = 2_000_003
CHANGE_SHARE = 0.35
LON_SHARE = 0.4
# … higher where the window is the question: a thinned-out or broken history.
LON_SHARE_HARD = 0.8
LON_SHARE_UNKNOWN = 1.0  # a long unbroken spell: JOBBSTIMULANS_UNKNOWN shows only where an adult earns
HARD_SPELLS = frozenset({"long_unknown", "long_decidable", "gap_return", "return_after_window", "avslag_in_spell"})
COLLEAGUE_SHARE = 0.15

# Household shapes, by share of cases (single adults and single parents dominate försörjningsstöd).
SHAPES: dict[str, int] = {"single": 37, "single_parent": 25, "couple": 10, "couple_children": 24, "large_family": 4}
OVRIG_VUXEN_SHARE = 0.08

# Agency amounts (kr/month), the same for every period (the oracle takes whatever the agencies report, so they
# need only be plausible). Barnbidrag and flerbarnstillägg as paid since March 2018 (still in 2024).
BARNBIDRAG = 1250
FLERBARNSTILLAGG = (0, 0, 150, 730, 1740, 2990)  # by number of children; +1 250 per child over 5
STUDIEHJALP = 1250
UNDERHALLSSTOD = ((10, 1673), (14, 1823), (17, 2223))  # (up to age, amount), 2023–2024 levels
STUDIEMEDEL_FULL_TIME = (3612, 9592)  # (studiebidrag, studielån) per month, synthetic but plausible
UNKNOWN_INCOME_TYPES: tuple[str, ...] = ("inkomst_utland", "vinst")

# The reference case ("testärende") for the robot's preflight: its own random stream (seed + offset), so the
# ordinary cases of a seed are the same with or without it; fixed names (its status and note: `model.py`).
REFERENCE_SEED_OFFSET = 1_000_003
REFERENCE_LAST_NAME = "Tolvansson"
REFERENCE_HOUSEHOLD: tuple[tuple[str, str, bool, int], ...] = (  # role, first name, female, age at the period's end
    ("sokande", "Tolvan", False, 38), ("medsokande", "Tolva", True, 36),
    ("barn", "Elva", True, 9), ("barn", "Nio", False, 4),
)

CASE_SYSTEM_USERS = (("robot", "robot-pass", "robot", "Robot (tjänstekonto)"),) + tuple(
    (f"handlaggare{i}", "hl-pass", "caseworker", names.CASEWORKERS[i - 1]) for i in (1, 2, 3))
AGENCY_ACCOUNT_NAME = "Socialtjänsten – ekonomiskt bistånd"


def _quota(n: int, weights: dict[str, int]) -> list[str]:
    """Exactly n labels in proportion to the weights (largest remainder), so shares hold for small n too."""
    total = sum(weights.values())
    exact = {k: n * w / total for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    by_remainder = sorted(weights, key=lambda k: (-(exact[k] - counts[k]), list(weights).index(k)))
    for k in by_remainder[: n - sum(counts.values())]:
        counts[k] += 1
    return [k for k in weights for _ in range(counts[k])]


def _check_period(period: str) -> None:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period or ""):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    if int(period[:4]) not in oracle.NORMS:
        years = ", ".join(str(y) for y in sorted(oracle.NORMS))
        raise ValueError(f"the sandbox has norm figures for {years} only, not {period[:4]}")


# -- the generator -----------------------------------------------------------------------------------


@dataclass
class _Plan:
    kind: str
    shape: str
    ovrig_vuxen: bool
    odd_name: str | None
    spell: str | None = None  # a SPELL_KINDS for every re-application
    change: str | None = None  # a CHANGE_KINDS for some simple ones


@dataclass
class _Draft:
    """One case's world while it is being built; complex kinds edit it before it is committed."""

    address: str
    persons: dict[str, Person] = field(default_factory=dict)
    registrations: list[Registration] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    fk: list[FkPayment] = field(default_factory=list)
    csn: list[CsnPayment] = field(default_factory=list)
    af: list[AfStatus] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    costs: dict[str, int] = field(default_factory=dict)
    incomes: list[Income] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    application_type: str = "Återansökan"
    bistand_sedan: str | None = None
    decisions: list[Decision] = field(default_factory=list)  # kept, newest first
    older: str = COMPLETE
    spell: str | None = None
    change: str | None = None
    decision_note: JournalEntry | None = None  # the journal's entry about the newest decision

    def role_of(self, role: str) -> list[Member]:
        return [m for m in self.members if m.role == role]

    def family(self) -> list[Member]:
        return [m for m in self.members if m.role in oracle.FAMILY_ROLES]


class _Generator:
    def __init__(self, seed: int, period: str) -> None:
        self.rng = random.Random(seed)
        self.hrng = random.Random(seed + HISTORY_SEED_OFFSET)  # the decision histories' own stream
        self.period = period
        self.end = oracle.period_end(period)
        self.start = self.end.replace(day=1)
        self.months = [add_months(period, -2), add_months(period, -1), period]
        self.pnrs = PnrAllocator(self.rng)
        self.addresses: set[str] = set()
        self.world = World(seed, period)
        self.world.users = [User("casesystem", *u) for u in CASE_SYSTEM_USERS] + [
            User(p, "kommun", f"{p}-pass", "myndighet", AGENCY_ACCOUNT_NAME) for p in AGENCIES]

    # -- planning -------------------------------------------------------------------------------------

    def plan(self, n: int) -> list[_Plan]:
        rng = self.rng
        n_complex = round(n * COMPLEX_SHARE)
        order = list(COMPLEX_KINDS)
        rng.shuffle(order)
        kinds = [order[i % len(order)] for i in range(n_complex)] + [SIMPLE] * (n - n_complex)
        shapes = _quota(n, SHAPES)
        rng.shuffle(kinds)
        rng.shuffle(shapes)
        with_ovrig = set(rng.sample(range(n), round(n * OVRIG_VUXEN_SHARE)))
        simple = [i for i, k in enumerate(kinds) if k == SIMPLE]
        n_odd = min(len(names.ODD_NAMES), max(1, n // 8), len(simple))
        odd = dict(zip(rng.sample(simple, n_odd), names.ODD_NAMES, strict=False))
        # The decision histories, from their own stream: a spell kind for every re-application in proportion to
        # SPELL_WEIGHTS (among the simple ones and among the complex ones alike, so that the simple ones, whose
        # figures are written, get their share of every spell), a change kind (each in turn) for CHANGE_SHARE of
        # the simple ones.
        hrng = self.hrng
        spell_of: dict[int, str] = {}
        for group in (simple, [i for i, k in enumerate(kinds) if k not in (SIMPLE, "first_application")]):
            spells = _quota(len(group), SPELL_WEIGHTS)
            hrng.shuffle(spells)
            spell_of.update(zip(group, spells, strict=True))
        n_change = round(len(simple) * CHANGE_SHARE)
        order = list(CHANGE_KINDS)
        hrng.shuffle(order)
        change_of = dict(zip(hrng.sample(simple, n_change), (order[j % len(order)] for j in range(n_change)),
                             strict=True))
        return [_Plan(kinds[i], shapes[i], i in with_ovrig, odd.get(i), spell_of.get(i), change_of.get(i))
                for i in range(n)]

    # -- people ---------------------------------------------------------------------------------------

    def _birth(self, age: int, rng: random.Random | None = None) -> dt.date:
        """A birth date giving exactly `age` completed years on the period's last day."""
        rng = self.rng if rng is None else rng
        latest = years_before(self.end, age)
        earliest = years_before(self.end, age + 1) + dt.timedelta(days=1)
        return earliest + dt.timedelta(days=rng.randint(0, (latest - earliest).days))

    def _person(self, draft: _Draft, age: int, female: bool, first: str | None = None,
                last: str | None = None) -> Person:
        rng = self.rng
        birth = self._birth(age)
        person = Person(self.pnrs.allocate(birth, female),
                        first or rng.choice(names.FEMALE_FIRST if female else names.MALE_FIRST),
                        last or rng.choice(names.LAST), birth)
        draft.persons[person.pnr] = person
        return person

    def _child_age(self) -> int:
        # 0–17 evenly; fewer 18–20-year-olds still live at home and go to school.
        ages = list(range(21))
        return self.rng.choices(ages, weights=[10] * 18 + [6, 5, 3])[0]

    def _adult_age(self, child_ages: list[int]) -> int:
        rng = self.rng
        if child_ages:
            low = max(19, max(child_ages) + 18)
            high = max(low, min(58, min(child_ages) + 45))
            return rng.randint(low, high)
        band = rng.choices([(19, 25), (26, 40), (41, 63)], weights=[35, 35, 30])[0]
        return rng.randint(*band)

    def _new_address(self, rng: random.Random | None = None) -> str:
        rng = self.rng if rng is None else rng
        while True:
            street, postcode = rng.choice(names.STREETS)
            flat = (10 + rng.randint(0, 4)) * 100 + rng.randint(1, 6)
            address = names.format_address(street, rng.randint(1, 68), flat, postcode, names.TOWN)
            if address not in self.addresses:
                self.addresses.add(address)
                return address

    def _elsewhere(self, rng: random.Random | None = None) -> str:
        """An address outside the case addresses (another town), for earlier homes and moves."""
        rng = self.rng if rng is None else rng
        street, postcode, town = rng.choice(names.OTHER_PLACES)
        flat = (10 + rng.randint(0, 5)) * 100 + rng.randint(1, 8)
        return names.format_address(street, rng.randint(1, 90), flat, postcode, town)

    def _register(self, draft: _Draft, person: Person, moved_in: dt.date, earlier: str | None = None,
                  child: bool = False) -> None:
        """The person's registration at the case address and, unless born there, the home before it.

        A child born before the move was registered from birth at the family's earlier home."""
        since = max(moved_in, person.birth_date)
        if since > person.birth_date:
            back = person.birth_date if child else since - dt.timedelta(days=self.rng.randint(200, 3000))
            draft.registrations.append(
                Registration(person.pnr, earlier or self._elsewhere(), max(back, person.birth_date)))
        draft.registrations.append(Registration(person.pnr, draft.address, since))

    # -- a case ---------------------------------------------------------------------------------------

    def build(self, index: int, plan: _Plan) -> None:
        rng = self.rng
        draft = _Draft(self._new_address())
        shape = plan.shape
        two_adults = shape in ("couple", "couple_children") or (shape == "large_family" and rng.random() < 0.8)
        n_children = {
            "single": 0, "couple": 0,
            "single_parent": rng.choices([1, 2, 3, 4], weights=[40, 33, 18, 9])[0],
            "couple_children": rng.choices([1, 2, 3, 4, 5], weights=[30, 35, 20, 10, 5])[0],
            "large_family": rng.randint(6, 8) if two_adults else 7,
        }[shape]
        child_ages = sorted((self._child_age() for _ in range(n_children)), reverse=True)
        if shape == "large_family":
            draft.tags.append("large_family")

        # Names: the family name is the applicant's; a partner keeps their own name half the time.
        female = rng.random() < (0.8 if child_ages and not two_adults else 0.5)
        odd = names.ODD_NAMES.get(plan.odd_name or "")
        family_last = odd[2] if odd else rng.choice(names.LAST)
        first = (odd[0] if female else odd[1]) if odd else None
        if plan.odd_name:
            draft.tags.append(f"odd_name:{plan.odd_name}")
        applicant_age = self._adult_age(child_ages)
        applicant = self._person(draft, applicant_age, female, first, family_last)
        moved_in = max(self.end - dt.timedelta(days=rng.randint(45, 9 * 365)),
                       years_before(self.end, applicant_age - 18))
        earlier_home = self._elsewhere()
        self._register(draft, applicant, moved_in, earlier_home)
        draft.members.append(Member(applicant.pnr, applicant.first_name, applicant.last_name, "sokande"))

        if two_adults:
            low = max(19, max(child_ages, default=0) + 18)
            partner_age = min(66, max(low, applicant_age + rng.randint(-5, 7)))
            partner_female = (not female) if rng.random() < 0.94 else female
            partner = self._person(draft, partner_age, partner_female,
                                   last=family_last if rng.random() < 0.45 else None)
            partner_in = moved_in if rng.random() < 0.5 else moved_in + dt.timedelta(
                days=rng.randint(0, max(0, (self.end - moved_in).days - 30)))
            self._register(draft, partner, partner_in)
            draft.members.append(Member(partner.pnr, partner.first_name, partner.last_name, "medsokande"))

        for age in child_ages:
            child = self._person(draft, age, rng.random() < 0.5, last=family_last)
            self._register(draft, child, moved_in, earlier_home, child=True)
            lunch = 1 <= age <= 6 and rng.random() < 0.12
            if lunch:
                draft.tags.append("lunch_i_forskola")
            if age >= 18:
                draft.tags.append("young_adult")
            draft.members.append(Member(child.pnr, child.first_name, child.last_name, "barn", lunch))

        if plan.ovrig_vuxen:
            self._add_ovrig_vuxen(draft, applicant, applicant_age, moved_in)

        self._adult_incomes(draft)
        self._family_benefits(draft)
        self._declare_agency_incomes(draft)
        if plan.kind == SIMPLE:
            self._ordinary_variations(draft)
        self._costs(draft)
        if plan.kind != SIMPLE:
            getattr(self, f"_complex_{plan.kind}")(draft)
        lon_share = 0.0
        if plan.kind == SIMPLE:
            lon_share = (LON_SHARE_UNKNOWN if plan.spell == "long_unknown"
                         else LON_SHARE_HARD if plan.spell in HARD_SPELLS else LON_SHARE)
        self._history(draft, plan.spell, plan.change, self.hrng, self._caseworker(index), lon_share)
        self._commit(index, plan, draft)

    def _add_ovrig_vuxen(self, draft: _Draft, applicant: Person, applicant_age: int, moved_in: dt.date) -> None:
        """An adult sibling or parent sharing the flat: registered there, not in the applicant's family."""
        rng = self.rng
        parent = applicant_age <= 45 and rng.random() < 0.4
        age = min(88, applicant_age + rng.randint(20, 30)) if parent else max(18, applicant_age + rng.randint(-8, 8))
        person = self._person(draft, age, rng.random() < 0.5,
                              last=applicant.last_name if rng.random() < 0.7 else None)
        since = moved_in + dt.timedelta(days=rng.randint(0, max(0, (self.end - moved_in).days - 20)))
        self._register(draft, person, since)
        draft.members.append(Member(person.pnr, person.first_name, person.last_name, "ovrig_vuxen"))
        draft.tags.append("ovrig_vuxen")
        draft.af.append(self._job_seeker(person.pnr, age < 65 and rng.random() < 0.6))
        if age < 65 and rng.random() < 0.4:
            # Their own benefit, paid to them: it must not be counted for the applicant's family.
            benefit = rng.choice(["aktivitetsstod", "sjukpenning"])
            daily = rng.randint(250, 520)
            for month in self.months:
                days = weekdays(month) if benefit == "aktivitetsstod" else days_in_month(month)
                draft.fk.append(FkPayment(person.pnr, benefit, month, daily * days))
            draft.tags.append("ovrig_vuxen_income")

    def _job_seeker(self, pnr: str, registered: bool) -> AfStatus:
        """An adult outside the applicant's family: openly unemployed, or not registered at all."""
        if not registered:
            return AfStatus(pnr, False, None, None)
        return AfStatus(pnr, True, "oppet_arbetslos", self.end - dt.timedelta(days=self.rng.randint(30, 700)))

    # -- incomes --------------------------------------------------------------------------------------

    def _age(self, pnr: str, draft: _Draft) -> int:
        return oracle.age_at(draft.persons[pnr].birth_date, self.end)

    def _adult_incomes(self, draft: _Draft) -> None:
        rng = self.rng
        children = draft.role_of("barn")
        baby = any(self._age(c.pnr, draft) <= 1 for c in children)
        earners = 0
        for adult in draft.role_of("sokande") + draft.role_of("medsokande"):
            age = self._age(adult.pnr, draft)
            profile = rng.choices(
                ["none", "lon", "a_kassa", "lon_a_kassa", "aktivitetsstod", "sjukpenning", "foraldrapenning",
                 "studiemedel", "pension", "ovriga"],
                weights=[30, 18, 10, 4, 14, 9, 15 if baby else 0, 4 if age <= 45 else 0, 3, 3])[0]
            since = self.end - dt.timedelta(days=rng.randint(20, 1100))
            af = AfStatus(adult.pnr, False, None, None)
            if profile in ("lon", "lon_a_kassa"):
                high = 14000 if profile == "lon" else 7000
                amount = rng.randint(3000 if profile == "lon" else 2000, high)
                if earners:
                    # Second earner's pay is a multiple of 4: the 25 % jobbstimulans is then whole kronor for
                    # them, so rounding per person or on the household total gives the same answer.
                    amount -= amount % 4
                earners += 1
                draft.incomes.append(Income(adult.pnr, "lon", amount))
                if profile == "lon_a_kassa" or rng.random() < 0.6:
                    af = AfStatus(adult.pnr, True, "deltid", since)
            if profile in ("a_kassa", "lon_a_kassa"):
                amount = rng.randint(4000, 12500) if profile == "a_kassa" else rng.randint(2000, 7000)
                draft.incomes.append(Income(adult.pnr, "a_kassa", amount))
                if profile == "a_kassa":
                    af = AfStatus(adult.pnr, True, "oppet_arbetslos", since)
            if profile == "aktivitetsstod":
                daily = rng.randint(250, 560)
                for month in self.months:
                    draft.fk.append(FkPayment(adult.pnr, "aktivitetsstod", month, daily * weekdays(month)))
                programmes = ["jobbgarantin", "etablering", "rusta_och_matcha", "arbetsmarknadsutbildning"]
                if age < 25:
                    programmes.append("ungdomsgarantin")
                af = AfStatus(adult.pnr, True, rng.choice(programmes), since)
            if profile == "sjukpenning":
                daily = rng.randint(200, 520)
                for month in self.months:
                    draft.fk.append(FkPayment(adult.pnr, "sjukpenning", month, daily * days_in_month(month)))
            if profile == "foraldrapenning":
                daily = rng.randint(180, 560)
                for month in self.months:
                    draft.fk.append(FkPayment(adult.pnr, "foraldrapenning", month, daily * rng.randint(12, 30)))
            if profile == "studiemedel":
                extent = rng.choice([50, 75, 100])
                for month in self.months:
                    if int(month[5:7]) in (7, 8):
                        continue  # no study aid over the summer break
                    bidrag, lan = (amount * extent // 100 for amount in STUDIEMEDEL_FULL_TIME)
                    draft.csn.append(CsnPayment(adult.pnr, month, "studiebidrag", bidrag))
                    draft.csn.append(CsnPayment(adult.pnr, month, "studielan", lan))
            if profile == "pension":
                draft.incomes.append(Income(adult.pnr, "pension", rng.randint(800, 3500)))
            if profile == "ovriga":
                draft.incomes.append(Income(adult.pnr, "ovriga_inkomster", rng.randint(300, 2000)))
            if profile in ("none", "ovriga"):
                af = AfStatus(adult.pnr, True, rng.choice(["oppet_arbetslos", "rusta_och_matcha"]), since)
            draft.af.append(af)
        for child in draft.role_of("barn"):
            if self._age(child.pnr, draft) >= 18:
                draft.af.append(AfStatus(child.pnr, False, None, None))  # at school, not a job seeker

    def _studiehjalp(self, birth: dt.date, month: str) -> bool:
        """Studiehjälp from 16, September–June, until the spring term of the year the student turns 20."""
        year, mon = int(month[:4]), int(month[5:7])
        if mon in (7, 8) or oracle.age_at(birth, oracle.period_end(month)) < 16:
            return False
        return year - birth.year <= (19 if mon >= 7 else 20)

    def _family_benefits(self, draft: _Draft) -> None:
        rng = self.rng
        children = [draft.persons[m.pnr] for m in draft.role_of("barn")]
        adults = [draft.persons[m.pnr] for m in draft.role_of("sokande") + draft.role_of("medsokande")]
        applicant = adults[0]
        at_school = {c.pnr: oracle.age_at(c.birth_date, self.end) >= 18 or rng.random() < 0.85 for c in children}
        # Barnbidrag goes to one parent (the mother by default) or is split in half between two.
        split = len(adults) == 2 and rng.random() < 0.5
        females = [a for a in adults if is_female(a.pnr)]
        receiver = females[0] if females else applicant
        housing = 0
        if children and rng.random() < 0.55:
            housing = rng.randint(900, 4300)
        elif not children and len(adults) == 1 and self._age(applicant.pnr, draft) < 29 and rng.random() < 0.12:
            housing = rng.randint(400, 1500)
        maintenance = len(adults) == 1 and bool(children) and rng.random() < 0.75
        for month in self.months:
            month_end = oracle.period_end(month)
            # Child benefits start the month after the birth.
            born = [c for c in children if c.birth_date < month_end.replace(day=1)]
            under_16 = [c for c in born if oracle.age_at(c.birth_date, month_end) < 16]
            studying = [c for c in born if at_school[c.pnr] and self._studiehjalp(c.birth_date, month)]
            for c in studying:
                draft.csn.append(CsnPayment(c.pnr, month, "studiehjalp", STUDIEHJALP))
            if under_16:
                count = len(under_16) + len(studying)
                extra = FLERBARNSTILLAGG[count] if count <= 5 else FLERBARNSTILLAGG[5] + (count - 5) * BARNBIDRAG
                amount = BARNBIDRAG * len(under_16) + extra
                if split:
                    for adult in adults:
                        draft.fk.append(FkPayment(adult.pnr, "barnbidrag", month, amount // 2))
                else:
                    draft.fk.append(FkPayment(receiver.pnr, "barnbidrag", month, amount))
            if housing:
                draft.fk.append(FkPayment(applicant.pnr, "bostadsbidrag", month, housing))
            if maintenance:
                total = 0
                for c in born:
                    age = oracle.age_at(c.birth_date, month_end)
                    total += next((amount for upper, amount in UNDERHALLSSTOD if age <= upper), 0)
                if total:
                    draft.fk.append(FkPayment(applicant.pnr, "underhallsstod", month, total))

    def _declare_agency_incomes(self, draft: _Draft) -> None:
        """The applicant declares what the family gets from FK and CSN this month, as the agencies pay it."""
        family = {m.pnr for m in draft.family()}
        totals: dict[tuple[str, str], int] = {}
        for p in draft.fk:
            if p.pnr in family and p.month == self.period:
                totals[(p.pnr, p.benefit)] = totals.get((p.pnr, p.benefit), 0) + p.amount
        for c in draft.csn:
            if c.pnr in family and c.month == self.period:
                totals[(c.pnr, "studiestod")] = totals.get((c.pnr, "studiestod"), 0) + c.amount
        for (pnr, kind), amount in totals.items():
            draft.incomes.append(Income(pnr, kind, amount))

    def _ordinary_variations(self, draft: _Draft) -> None:
        """Harmless differences a robot must still get right (none of them changes the triage outcome)."""
        rng = self.rng
        applicant = draft.members[0]
        if rng.random() < 0.12:
            # Declared rounded to the hundred: at most 50 kr off, inside the threshold; the agency figure wins.
            agency = [i for i, inc in enumerate(draft.incomes)
                      if inc.income_type in oracle.REPORTED_BY and inc.amount % 100]
            if agency:
                i = rng.choice(agency)
                inc = draft.incomes[i]
                draft.incomes[i] = replace(inc, amount=oracle.half_up(inc.amount, 100) * 100)
                draft.tags.append("rounded_declaration")
        if rng.random() < 0.06:
            # A benefit that stopped last month: on the portal for M−2 and M−1, rightly not declared for M.
            benefit = "foraldrapenning" if draft.role_of("barn") else "sjukpenning"
            if not any(p.pnr == applicant.pnr and p.benefit == benefit for p in draft.fk):
                daily = rng.randint(200, 450)
                for month in self.months[:2]:
                    draft.fk.append(FkPayment(applicant.pnr, benefit, month, daily * rng.randint(10, 25)))
                draft.tags.append("ended_benefit")

    # -- costs and the assistance spell ------------------------------------------------------------------

    def _cap(self, draft: _Draft) -> int:
        """The rent cap in force for the period (Högsby's up to 2025, Sundsvall's by the applicant's age from 2026)."""
        adults = len(draft.role_of("sokande")) + len(draft.role_of("medsokande"))
        return oracle.rent_cap(self.period, adults, len(draft.role_of("barn")),
                               self._age(draft.role_of("sokande")[0].pnr, draft))

    def _costs(self, draft: _Draft) -> None:
        rng = self.rng
        persons = len(draft.members)
        cap = self._cap(draft)
        if rng.random() < 0.05:
            draft.costs["boende"] = cap  # exactly at the cap: still within it
            draft.tags.append("rent_at_cap")
        else:
            draft.costs["boende"] = int(cap * rng.uniform(0.66, 0.99))
        working = any(i.income_type == "lon" for i in draft.incomes)
        insured = working or any(i.income_type == "a_kassa" for i in draft.incomes)
        young_children = any(1 <= self._age(m.pnr, draft) <= 12 for m in draft.role_of("barn"))
        optional = [
            ("hushallsel", 0.78, 150 + 50 * persons, 450 + 90 * persons),
            ("hemforsakring", 0.85, 90 + 10 * persons, 260 + 20 * persons),
            ("arbetsresor", 0.7 if working else 0.0, 300, 1100),
            ("fackavgift", 0.4 if working else 0.0, 150, 480),
            ("akasseavgift", 0.5 if insured else 0.0, 100, 190),
            ("barnomsorg", 0.65 if young_children else 0.0, 150, 1650),
            ("lakarvard", 0.15, 100, 1300),
            ("tandvard", 0.05, 400, 3500),
        ]
        for key, chance, low, high in optional:
            if rng.random() < chance:
                draft.costs[key] = rng.randint(low, high)

    # -- complex kinds -----------------------------------------------------------------------------------

    def _complex_first_application(self, draft: _Draft) -> None:
        draft.application_type = "Nyansökan"  # no decision yet: no history, no current spell (bistand_sedan)

    def _complex_household_changed(self, draft: _Draft) -> None:
        rng = self.rng
        moved_in_at = {r.pnr: r.from_date for r in draft.registrations if r.address == draft.address}
        # Only someone who has lived here a while can have moved out since (the move must come after).
        others = [m for m in draft.members[1:] if moved_in_at[m.pnr] < self.end - dt.timedelta(days=10)]
        if others and rng.random() < 0.7:
            # A declared member has moved out; the application still lists them.
            leaver = rng.choice(others)
            earliest = max(moved_in_at[leaver.pnr] + dt.timedelta(days=1), self.end - dt.timedelta(days=80))
            since = earliest + dt.timedelta(days=rng.randint(0, (self.end - earliest).days - 5))
            draft.registrations.append(Registration(leaver.pnr, self._elsewhere(), since))
            draft.tags.append("member_moved_out")
        else:
            # Someone has moved in (a new partner, a lodger) who is not on the application.
            newcomer = self._person(draft, rng.randint(20, 55), rng.random() < 0.5)
            since = self.end - dt.timedelta(days=rng.randint(5, 100))
            draft.registrations.append(Registration(newcomer.pnr, self._elsewhere(), since - dt.timedelta(
                days=rng.randint(300, 2000))))
            draft.registrations.append(Registration(newcomer.pnr, draft.address, since))
            draft.af.append(self._job_seeker(newcomer.pnr, rng.random() < 0.5))
            draft.tags.append("person_moved_in")

    def _complex_income_deviation(self, draft: _Draft) -> None:
        rng = self.rng
        declared = [i for i, inc in enumerate(draft.incomes) if oracle.REPORTED_BY.get(inc.income_type) == "fk"]
        if declared and rng.random() < 0.6:
            i = rng.choice(declared)
            inc = draft.incomes[i]
            factor = rng.uniform(1.2, 1.5) if rng.random() < 0.5 else rng.uniform(0.5, 0.8)
            amount = int(inc.amount * factor)
            while not oracle.deviates(amount, inc.amount):
                amount += 100
            draft.incomes[i] = replace(inc, amount=amount)
            draft.tags.append("declared_differs")
            return
        # A payment the applicant did not declare (sickness benefit started last month, say).
        applicant = draft.members[0].pnr
        have = {p.benefit for p in draft.fk if p.pnr == applicant}
        benefit = next(b for b in ("sjukpenning", "foraldrapenning", "bostadsbidrag") if b not in have)
        daily = rng.randint(220, 480)
        for month in self.months[1:]:
            draft.fk.append(FkPayment(applicant, benefit, month, daily * rng.randint(8, 30)))
        draft.tags.append("undeclared_payment")

    def _complex_missing_agency_data(self, draft: _Draft) -> None:
        rng = self.rng
        portal = rng.choice(AGENCIES)
        adults = draft.role_of("sokande") + draft.role_of("medsokande")
        # The register is searched by the applicant (the address follows from them), so an SKV gap is the
        # applicant's; the other agencies are asked about every family member.
        partner = len(adults) > 1 and portal != "skv" and rng.random() < 0.3
        draft.gaps.append(Gap(portal, adults[1 if partner else 0].pnr))

    def _complex_rent_above_cap(self, draft: _Draft) -> None:
        cap = self._cap(draft)
        draft.costs["boende"] = max(cap + 1, int(cap * self.rng.uniform(1.03, 1.45)))
        if "rent_at_cap" in draft.tags:
            draft.tags.remove("rent_at_cap")

    def _complex_protected_identity(self, draft: _Draft) -> None:
        who = draft.members[0] if len(draft.members) == 1 or self.rng.random() < 0.5 else self.rng.choice(
            draft.members[1:])
        draft.persons[who.pnr] = replace(draft.persons[who.pnr], protected=True)
        draft.tags.append("protected_" + who.role)

    def _complex_unknown_income_type(self, draft: _Draft) -> None:
        kind = self.rng.choice(UNKNOWN_INCOME_TYPES)
        amount = self.rng.randint(1500, 6500) if kind == "inkomst_utland" else self.rng.randint(300, 3000)
        draft.incomes.append(Income(draft.members[0].pnr, kind, amount))

    # -- the decision history ------------------------------------------------------------------------------

    def _history(self, draft: _Draft, spell: str | None, change: str | None, rng: random.Random,
                 caseworker: str, lon_share: float = 0.0, shape: history.Shape | None = None) -> None:
        """The case system's earlier decisions of a re-application (none for a Nyansökan: `spell` None), its
        `bistand_sedan` and the journal's note on the newest decision. `shape` fixes the decided months (the
        reference case); `change` (model.CHANGE_KINDS) makes last month's decision differ on purpose."""
        if spell is None:
            return
        if shape is None:
            shape, spell = self._spell_shape(draft, spell, rng)
        draft.spell = spell
        if lon_share and rng.random() < lon_share:
            self._add_lon(draft, rng)
        offsets = sorted(shape)  # newest first: 1 = P − 1
        newest = offsets[0]
        months = {o: add_months(self.period, -o) for o in offsets}
        decided_on = {o: dt.date.fromisoformat(months[o] + "-01") + dt.timedelta(days=rng.randint(1, 5))
                      for o in offsets}
        colleagues = [f"handlaggare{i}" for i in (1, 2, 3) if f"handlaggare{i}" != caseworker]
        decided_by = {o: rng.choice(colleagues) if rng.random() < COLLEAGUE_SHARE else caseworker for o in offsets}
        rents = {draft.address: draft.costs.get("boende", 0)}
        # Who left the household since (pnr, joined, left): in the decisions while they lived there.
        gone: list[tuple[str, dt.date, dt.date]] = []
        if change in ("member_added", "member_gone", "address_changed"):
            change = self._household_change(draft, change, rng, decided_on[newest], gone, rents)

        sokande = draft.members[0]
        addresses = {o: self._address_on(draft, sokande.pnr, decided_on[o]) for o in offsets}
        for o in offsets:  # the decisions are this municipality's: an earlier home elsewhere becomes one in town
            if not addresses[o].endswith(" " + names.TOWN):
                self._move_home_to_town(draft, addresses, addresses[o], rng)
        joined = self._joined(draft)
        births = {pnr: person.birth_date for pnr, person in draft.persons.items()}

        def present(o: int) -> list[Member]:  # this month (0): everyone declared
            return [m for m in draft.members if not o or joined[m.pnr] <= decided_on[o]]

        def lodgers(o: int) -> list[str]:
            return [pnr for pnr, came, left in gone if o and came <= decided_on[o] < left]

        status = history.windows(shape)
        paid = self._paid(draft)
        calcs: dict[int, dict[str, list[int]]] = {}
        caps: dict[int, int] = {}
        for o in [0, *offsets]:
            month = months.get(o, self.period)
            home = addresses[o] if o else draft.address
            if home not in rents:  # an earlier home: its own rent
                rents[home] = int(rents[draft.address] * rng.uniform(0.8, 1.02))
            calcs[o], caps[o] = self._decided_calc(draft, month, present(o), len(lodgers(o)), rents[home],
                                                   status[o] > 0, paid, births)
            if shape.get(o) == history.AVSLAG:  # refused: the month's incomes (a tax refund) exceeded the need
                extra = rng.randint(9000, 20000)
                applied, approved = calcs[o].get("ovriga_inkomster", [0, 0])
                calcs[o]["ovriga_inkomster"] = [applied + extra, approved + extra]
        now = calcs.pop(0)
        lon_told = spell != "long_unknown"  # the oracle cannot tell the window of a long unbroken spell
        if change is not None and change not in ("member_added", "member_gone", "address_changed"):
            window_same = bool(status[newest]) == bool(status[0])  # the same share of the wage counted
            change = self._decision_change(draft, change, rng, calcs, caps, now, offsets, addresses,
                                           lon_told and window_same)
        draft.change = change

        households = {o: tuple([m.pnr for m in present(o)] + lodgers(o)) for o in offsets}
        draft.decisions = [
            Decision(months[o], shape[o], decided_by[o], decided_on[o], addresses[o], households[o],
                     tuple((key, calcs[o][key][0], calcs[o][key][1]) for key in oracle.FORM_FIELDS
                           if key in calcs[o] and any(calcs[o][key])))
            for o in offsets if o <= HISTORY_MONTHS]
        draft.older = THINNED if offsets[-1] > HISTORY_MONTHS else COMPLETE
        run = history.spell_start(shape)
        draft.bistand_sedan = add_months(self.period, -run) if run else None
        self._history_tags(draft, change, calcs[newest], now, households[newest], addresses[newest],
                           lon_told and bool(status[newest]) != bool(status[0]))
        last = draft.decisions[0]
        text = "Bifall enligt norm." if last.outcome == history.BEVILJAT else "Avslag: inkomsterna överstiger normen."
        draft.decision_note = JournalEntry(
            f"{last.decided_on.isoformat()} {rng.randint(9, 16):02d}:{rng.randint(0, 59):02d}:00", last.decided_by,
            f"Beslut om försörjningsstöd för {last.month} fattat. {text}")

    def _spell_shape(self, draft: _Draft, spell: str, rng: random.Random) -> tuple[history.Shape, str]:
        """The decided months of `spell`, or of a shorter kind when the applicant was not 18 that far back."""
        birth = draft.persons[draft.members[0].pnr].birth_date
        adult = years_before(birth, -18)  # the 18th birthday
        room = oracle.months_between(adult.strftime("%Y-%m"), self.period) - 1
        for kind in (spell, "window", "short"):
            drawn = history.spell_shape(kind, rng, room)
            if drawn is not None:
                shape, tags = drawn
                draft.tags.extend(tags)
                if kind != spell:
                    draft.tags.append(f"spell_too_young:{spell}")
                return shape, kind
        raise AssertionError("a short spell always fits an adult applicant")

    def _add_lon(self, draft: _Draft, rng: random.Random) -> None:
        """A part-time wage in a household where no adult works: the applicant's, or the partner's when the applicant
        has a benefit that rules it out (sickness, parental, activity benefit, study aid), so that jobbstimulans
        matters in enough cases."""
        adults = draft.role_of("sokande") + draft.role_of("medsokande")
        if any(i.income_type == "lon" and i.pnr in {a.pnr for a in adults} for i in draft.incomes):
            return
        busy = {"sjukpenning", "foraldrapenning", "aktivitetsstod"}
        free = [a.pnr for a in adults if not any(p.pnr == a.pnr and p.benefit in busy for p in draft.fk)
                and not any(c.pnr == a.pnr for c in draft.csn)]
        if not free:
            return
        earner = free[0]
        draft.incomes.append(Income(earner, "lon", rng.randint(2500, 11000)))
        since = self.end - dt.timedelta(days=rng.randint(30, 600))
        draft.af = [AfStatus(a.pnr, True, "deltid", a.from_date or since) if a.pnr == earner else a for a in draft.af]
        draft.tags.append("part_time_wage")

    @staticmethod
    def _address_on(draft: _Draft, pnr: str, day: dt.date) -> str:
        """The person's registered address on `day` (before their first registration: that one's)."""
        regs = sorted((r for r in draft.registrations if r.pnr == pnr), key=lambda r: r.from_date)
        address = regs[0].address
        for r in regs:
            if r.from_date <= day:
                address = r.address
        return address

    def _move_home_to_town(self, draft: _Draft, addresses: dict[int, str], elsewhere: str,
                           rng: random.Random) -> None:
        """The household's earlier home `elsewhere` becomes an address in town, in the register and the decisions."""
        town = self._new_address(rng)
        draft.registrations = [replace(r, address=town) if r.address == elsewhere else r for r in draft.registrations]
        for o, address in addresses.items():
            if address == elsewhere:
                addresses[o] = town

    @staticmethod
    def _joined(draft: _Draft) -> dict[str, dt.date]:
        """When each declared person joined the applicant's household: the first registration at an address where
        the applicant has lived (a child born there: from birth; a partner: when they moved in)."""
        applicant = draft.members[0].pnr
        homes = {r.address for r in draft.registrations if r.pnr == applicant}
        joined = {applicant: dt.date.min}
        for m in draft.members[1:]:
            joined[m.pnr] = min((r.from_date for r in draft.registrations if r.pnr == m.pnr and r.address in homes),
                                default=dt.date.max)
        return joined

    def _paid(self, draft: _Draft) -> dict[tuple[str, str], dict[str, int]]:
        """What the agencies paid each family member, per income type and month (the period and the two before)."""
        family = {m.pnr for m in draft.family()}
        paid: dict[tuple[str, str], dict[str, int]] = {}
        for p in draft.fk:
            if p.pnr in family and oracle.REPORTED_BY.get(p.benefit) == "fk":
                by_month = paid.setdefault((p.pnr, p.benefit), {})
                by_month[p.month] = by_month.get(p.month, 0) + p.amount
        for c in draft.csn:
            if c.pnr in family:
                by_month = paid.setdefault((c.pnr, "studiestod"), {})
                by_month[c.month] = by_month.get(c.month, 0) + c.amount
        return paid

    def _agency_figure(self, by_month: dict[str, int], month: str) -> int:
        """An agency-reported income in a past month: this month's figure while it is still paid; the month's own
        payment for one that has ended (the portal holds the two months before); before the first payment the
        portal shows, that first one."""
        if not by_month:
            return 0
        if self.period in by_month:
            return by_month[self.period]
        if month in by_month:
            return by_month[month]
        first = min(by_month)
        return by_month[first] if month < first else 0

    def _decided_calc(self, draft: _Draft, month: str, present: list[Member], lodgers: int, rent: int,
                      stimulans: bool, paid: dict[tuple[str, str], dict[str, int]],
                      births: dict[str, dt.date]) -> tuple[dict[str, list[int]], int]:
        """The calculation decided for `month` ({field: [applied, approved]}) and the rent cap then in force: the
        norms of the month's year for the household then, the declared costs (the rent of that home, capped), the
        family's incomes counted as the calculation counts them (25 % of an adult's wage exempt in a window)."""
        end = oracle.period_end(month)
        adults = [m for m in present if m.role in ("sokande", "medsokande")]
        children = [m for m in present if m.role == "barn"]
        family = adults + children
        norms = history.history_norms(int(month[:4]))
        calc: dict[str, list[int]] = {}
        personal = oracle.personal_norm(norms, len(adults), [(oracle.age_at(births[m.pnr], end), False)
                                                             for m in children])
        common = oracle.common_norm(norms, len(family), len(present) + lodgers)
        for key, value in (("norm_personliga", personal), ("norm_gemensamma", common)):
            calc[key] = [value or 0, value or 0]
        cap = oracle.rent_cap(month, len(adults), len(children), oracle.age_at(births[draft.members[0].pnr], end))
        for key, amount in draft.costs.items():
            amount = rent if key == "boende" else amount
            calc[key] = [amount, min(amount, cap) if key == "boende" else amount]
        declared: dict[tuple[str, str], int] = {}
        for i in draft.incomes:
            declared[(i.pnr, i.income_type)] = declared.get((i.pnr, i.income_type), 0) + i.amount
        for kind in oracle.INCOME_FIELDS:
            total = 0
            for m in family:
                if kind in oracle.REPORTED_BY:
                    total += self._agency_figure(paid.get((m.pnr, kind), {}), month)
                    continue
                amount = declared.get((m.pnr, kind), 0)
                if kind == "lon" and stimulans and m.role != "barn":
                    amount -= oracle.half_up(amount * oracle.JOBBSTIMULANS_PERCENT, 100)
                total += amount
            calc[kind] = [total, total]
        return calc, cap

    def _household_change(self, draft: _Draft, change: str, rng: random.Random, after: dt.date,
                          gone: list[tuple[str, dt.date, dt.date]], rents: dict[str, int]) -> str:
        """A person joined or left, or the household moved, after the newest decision (taken on `after`): the
        register shows it from a date up to the period's end, so it agrees with the application."""
        between = (self.end - after).days - 3  # the change happens in (after, end − 3]
        applicant = draft.members[0]
        if change == "member_added":
            candidates = [m for m in draft.members[1:] if m.role != "barn"] or list(draft.members[1:])
            if candidates:
                member = rng.choice(candidates)
                person = draft.persons[member.pnr]
                moved = max(after + dt.timedelta(days=rng.randint(1, between)), person.birth_date)
                homes = {r.address for r in draft.registrations if r.pnr == applicant.pnr}
                elsewhere = self._elsewhere(rng)
                kept = [r if r.address not in homes else replace(r, address=elsewhere)  # lived apart until now
                        for r in draft.registrations if r.pnr == member.pnr and r.address != draft.address]
                if person.birth_date < moved and not any(r.from_date < moved for r in kept):
                    kept.append(Registration(member.pnr, elsewhere, max(person.birth_date, moved - dt.timedelta(
                        days=rng.randint(300, 3000)))))
                draft.registrations = [r for r in draft.registrations if r.pnr != member.pnr] + kept + [
                    Registration(member.pnr, draft.address, moved)]
                draft.tags.append(f"added_{member.role}")
                return change
            change = "member_gone"  # nobody but the applicant: someone left instead
        if change == "member_gone":
            since = min(r.from_date for r in draft.registrations
                        if r.pnr == applicant.pnr and r.address == draft.address)
            came = min(max(since, after - dt.timedelta(days=rng.randint(40, 900))), after - dt.timedelta(days=1))
            left = after + dt.timedelta(days=rng.randint(1, between))
            female = rng.random() < 0.5
            birth = self._birth(rng.randint(21, 60), rng)
            person = Person(self.pnrs.allocate(birth, female, rng),
                            rng.choice(names.FEMALE_FIRST if female else names.MALE_FIRST),
                            applicant.last_name if rng.random() < 0.5 else rng.choice(names.LAST), birth)
            draft.persons[person.pnr] = person
            draft.registrations += [
                Registration(person.pnr, self._elsewhere(rng), max(birth, came - dt.timedelta(
                    days=rng.randint(300, 3000)))),
                Registration(person.pnr, draft.address, came),
                Registration(person.pnr, self._elsewhere(rng), left)]
            gone.append((person.pnr, came, left))
            return change
        # address_changed: the household moves in during the period month; before, it lived at another flat in town.
        start = max(after + dt.timedelta(days=1), self.start)
        moved = start + dt.timedelta(days=rng.randint(0, max(0, (self.end - start).days - 3)))
        old = self._new_address(rng)
        registrations = []
        for r in draft.registrations:
            if r.address == draft.address and r.from_date < moved:
                registrations += [replace(r, address=old), replace(r, from_date=moved)]
            else:
                registrations.append(r)
        draft.registrations = registrations
        rent = draft.costs.get("boende", 0)
        rents[old] = rent + rng.choice((-1, 1)) * rng.randint(50, 400)
        return change

    def _decision_change(self, draft: _Draft, change: str, rng: random.Random, calcs: dict[int, dict[str, list[int]]],
                         caps: dict[int, int], now: dict[str, list[int]], offsets: list[int],
                         addresses: dict[int, str], lon_comparable: bool) -> str:
        """Last month's decided figures made to differ from this month's on purpose; returns the kind it became
        (an income kind with no income to change falls back to `income_gone`, which always fits)."""
        newest = offsets[0]
        last = calcs[newest]
        if change in ("income_changed", "income_steady", "income_new"):
            fields = [f for f in oracle.INCOME_FIELDS if now[f][1] > 0 and last.get(f, [0, 0])[1] == now[f][1]
                      and (f != "lon" or lon_comparable)]
            if not fields:
                change = "income_gone"
            else:
                key = rng.choice(fields)
                value = now[key][1]
                draft.tags.append(f"changed:{key}")
                if change == "income_new":  # not in any earlier decision
                    for calc in calcs.values():
                        calc.pop(key, None)
                    return change
                if change == "income_changed":
                    before = 0
                    while not (before > 0 and 100 * abs(value - before) > oracle.INCOME_CHANGE_PERCENT * before):
                        factor = rng.uniform(1.15, 1.6) if rng.random() < 0.5 else rng.uniform(0.6, 0.87)
                        before = round(value / factor)
                else:
                    # Within 12 %; a third of them at the edge: the least `before` with value ≤ 1.12 × before.
                    edge = -(-value * 100 // (100 + oracle.INCOME_CHANGE_PERCENT))
                    before = edge if rng.random() < 0.35 and edge != value else round(value * rng.uniform(0.93, 1.1))
                    before = before if before != value else value + 1
                    assert 0 < 100 * abs(value - before) <= oracle.INCOME_CHANGE_PERCENT * before
                last[key] = [before, before]
                return change
        if change == "income_gone":
            options = [f for f in ("a_kassa", "ovriga_inkomster", "lon", "pension") if now[f][1] == 0]
            key = rng.choice(options)
            amount = rng.randint(1200, 7000)
            for o in offsets[: rng.randint(1, min(6, len(offsets)))]:
                calcs[o][key] = [amount, amount]
            draft.tags.append(f"changed:{key}")
            return change
        if change == "cost_changed":
            declared = [k for k, v in draft.costs.items() if k != "boende" and v > 0]
            variant = rng.choice(("amount", "new", "gone")) if declared else "gone"
            if variant == "gone":
                key = rng.choice([k for k in oracle.COST_FIELDS if k not in draft.costs])
                amount = rng.randint(200, 1500)
                for o in offsets[: rng.randint(1, min(3, len(offsets)))]:
                    calcs[o][key] = [amount, amount]
            else:
                key = rng.choice(declared)
                amount = max(50, draft.costs[key] + rng.choice((-1, 1)) * rng.randint(30, 300))
                for calc in calcs.values():
                    if variant == "new":
                        calc.pop(key, None)
                    elif key in calc:
                        calc[key] = [amount, amount]
            draft.tags.append(f"cost_{variant}:{key}")
            return change
        # rent_rise_capped / rent_rise_small: the rent rose this month; every decision at this home had the old one.
        rent = draft.costs["boende"]
        if change == "rent_rise_capped":
            rise = 501 if rng.random() < 0.25 else rng.randint(502, 1800)
        else:
            rise = 500 if rng.random() < 0.25 else rng.randint(1, 499)
        old = rent - rise
        for o in offsets:
            if addresses[o] == addresses[newest]:
                calcs[o]["boende"] = [old, min(old, caps[o])]
        draft.tags.append(f"rent_rise:{rise}")
        if rent - last["boende"][1] > oracle.RENT_RISE_LIMIT_KR:  # last month's cap was lower still
            return "rent_rise_capped"
        return change

    def _history_tags(self, draft: _Draft, change: str | None, last: dict[str, list[int]], now: dict[str, list[int]],
                      household: tuple[str, ...], address: str, window_changed: bool) -> None:
        """Tags for what makes last month's decision differ besides a change kind (the world moved on)."""
        tags = draft.tags
        if change != "member_added" and any(m.pnr not in household for m in draft.members):
            tags.append("joined_since_last_decision")  # a birth, someone moving in (SKV shows it)
        if change != "address_changed" and address != draft.address:
            tags.append("moved_since_last_decision")
        adults = {m.pnr for m in draft.role_of("sokande") + draft.role_of("medsokande")}
        if window_changed and any(i.income_type == "lon" and i.pnr in adults and i.amount > 0 for i in draft.incomes):
            tags.append("jobbstimulans_changes")  # a window began or ended: 25 % of the wage more or less counted
        if any(last.get(k, [0, 0])[1] > 0 and now[k][1] == 0 for k in oracle.REPORTED_BY):
            tags.append("benefit_ended")  # paid last month, not this month (FK, CSN's summer break)
        rent = draft.costs.get("boende", 0)
        if (change not in ("rent_rise_capped", "rent_rise_small") and rent <= self._cap(draft)
                and rent - last.get("boende", [0, 0])[1] > oracle.RENT_RISE_LIMIT_KR):
            tags.append("cap_changed")  # last month's cap was lower (other guidelines, a birthday, fewer children)

    # -- committing ----------------------------------------------------------------------------------------

    def _absorb(self, draft: _Draft) -> World:
        """Move a finished draft's people and agency data into the world."""
        w = self.world
        w.persons.extend(draft.persons.values())
        w.registrations.extend(draft.registrations)
        w.fk_payments.extend(draft.fk)
        w.csn_payments.extend(draft.csn)
        w.af_statuses.extend(draft.af)
        w.gaps.extend(draft.gaps)
        return w

    @staticmethod
    def _caseworker(index: int) -> str:
        return f"handlaggare{(index - 1) % 3 + 1}"

    def _commit(self, index: int, plan: _Plan, draft: _Draft) -> None:
        rng = self.rng
        case_id = f"EB-{self.period[:4]}-{index:05d}"
        received = self.start - dt.timedelta(days=rng.randint(-4, 14))
        clock = f"{rng.randint(6, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        received_ts = f"{received.isoformat()} {clock}"
        caseworker = self._caseworker(index)
        journal = [draft.decision_note] if draft.decision_note else []
        journal.append(JournalEntry(received_ts, "E-tjänst",
                                    f"{draft.application_type} om ekonomiskt bistånd för {self.period} "
                                    "har kommit in via e-tjänsten."))
        w = self._absorb(draft)
        w.cases.append(Case(
            case_id=case_id, application_type=draft.application_type, period=self.period, received=received,
            caseworker=caseworker, bistand_sedan=draft.bistand_sedan, address=draft.address,
            members=tuple(draft.members), costs=tuple(draft.costs.items()), incomes=tuple(draft.incomes),
            journal=tuple(journal), kind=plan.kind, tags=tuple(dict.fromkeys(draft.tags)),
            decisions=tuple(draft.decisions), older=draft.older, spell=draft.spell, change=draft.change))

    # -- the reference case ------------------------------------------------------------------------------

    def build_reference(self, seed: int) -> None:
        """The preflight's testärende, after the ordinary cases: a couple with two children, everyone registered
        at the address for a couple of years, nobody protected, no agency gaps, and data at every agency so each
        result screen shows its full variant (FK: barnbidrag and bostadsbidrag; AF: the applicant registered in an
        activity; CSN: the partner's study aid). Declared costs and incomes match what the agencies pay, so the
        case is consistent, but it is never in `World.cases`: nobody is to process it.

        Every random number comes from its own stream, never from `self.rng`, so the ordinary cases are the same
        with or without it; numbers and addresses already given out are skipped."""
        rng = random.Random(seed + REFERENCE_SEED_OFFSET)
        taken = {p.pnr for p in self.world.persons}
        pnrs = PnrAllocator(rng)
        draft = _Draft(self._new_address(rng))
        moved_in = self.end - dt.timedelta(days=rng.randint(2 * 365, 3 * 365))
        earlier_home = self._elsewhere(rng)
        for role, first, female, age in REFERENCE_HOUSEHOLD:
            birth = self._birth(age, rng)
            number = pnrs.allocate(birth, female)
            while number in taken:
                number = pnrs.allocate(birth, female)
            person = Person(number, first, REFERENCE_LAST_NAME, birth)
            draft.persons[number] = person
            # The home before this one: the children from birth, the adults for some years before the move.
            lived_there = birth if role == "barn" else max(birth, moved_in - dt.timedelta(
                days=rng.randint(800, 3000)))
            draft.registrations.append(Registration(number, earlier_home, lived_there))
            draft.registrations.append(Registration(number, draft.address, moved_in))
            draft.members.append(Member(number, first, REFERENCE_LAST_NAME, role))
        applicant, partner = draft.members[0].pnr, draft.members[1].pnr
        n_children = len(draft.role_of("barn"))

        draft.af.append(AfStatus(applicant, True, "rusta_och_matcha",
                                 self.end - dt.timedelta(days=rng.randint(90, 400))))
        draft.af.append(AfStatus(partner, False, None, None))  # studies full time: not a job seeker
        barnbidrag = BARNBIDRAG * n_children + FLERBARNSTILLAGG[n_children]
        housing = rng.randint(9, 43) * 100
        bidrag, lan = STUDIEMEDEL_FULL_TIME
        for month in self.months:  # all three months, summer or not: every screen must have rows
            draft.fk.append(FkPayment(applicant, "barnbidrag", month, barnbidrag))
            draft.fk.append(FkPayment(applicant, "bostadsbidrag", month, housing))
            draft.csn.append(CsnPayment(partner, month, "studiebidrag", bidrag))
            draft.csn.append(CsnPayment(partner, month, "studielan", lan))
        self._declare_agency_incomes(draft)  # barnbidrag, bostadsbidrag, studiestod: as paid for the period

        cap = self._cap(draft)
        draft.costs["boende"] = int(cap * rng.uniform(0.75, 0.95))
        draft.costs["hushallsel"] = rng.randint(350, 700)
        draft.costs["hemforsakring"] = rng.randint(150, 320)
        draft.costs["barnomsorg"] = rng.randint(300, 1600)
        # On assistance for the 14 months before the period, every decision like this month's: the history tab
        # shows its full variant and nothing differs from last month.
        self._history(draft, "window", None, rng, REFERENCE_CASEWORKER, shape=history.run(1, 14))

        received = self.start - dt.timedelta(days=rng.randint(1, 6))
        received_ts = f"{received.isoformat()} {rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}:00"
        set_aside_ts = f"{(received + dt.timedelta(days=1)).isoformat()} 08:{rng.randint(0, 59):02d}:00"
        journal = (
            JournalEntry(received_ts, "E-tjänst", f"Återansökan om ekonomiskt bistånd för {self.period} "
                                                  "har kommit in via e-tjänsten."),
            JournalEntry(set_aside_ts, REFERENCE_CASEWORKER,
                         f"{REFERENCE_NOTE} Ärendet används bara för att kontrollera att roboten hittar "
                         "rätt på varje skärm; ändra inte uppgifterna."),
        )
        w = self._absorb(draft)
        w.reference = Case(
            case_id=reference_case_id(self.period), application_type="Återansökan", period=self.period,
            received=received, caseworker=REFERENCE_CASEWORKER, bistand_sedan=draft.bistand_sedan,
            address=draft.address, members=tuple(draft.members), costs=tuple(draft.costs.items()),
            incomes=tuple(draft.incomes), journal=journal, kind=REFERENCE, tags=(REFERENCE,),
            decisions=tuple(draft.decisions), older=draft.older, spell=draft.spell)


def generate_world(n_cases: int, seed: int, period: str | None = None, reference: bool = True) -> World:
    """`n_cases` applications for `period` with everything the portals hold about them; same seed and period, same
    world. Without a period, the current month (the contract's default; the only place the clock is read).

    With `reference` (the default) the world also holds the preflight's reference case (`World.reference`),
    built after the cases from its own random stream: the cases are identical either way."""
    period = current_period() if period is None else period
    _check_period(period)
    if n_cases < 0:
        raise ValueError("n_cases must be >= 0")
    gen = _Generator(seed, period)
    for index, plan in enumerate(gen.plan(n_cases), start=1):
        gen.build(index, plan)
    if reference:
        gen.build_reference(seed)
    return gen.world

