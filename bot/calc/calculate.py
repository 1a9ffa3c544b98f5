"""The itemised monthly calculation (docs/contract.md, "The calculation"): norm + reasonable costs − counted
incomes, never below zero. Every line says which form field it fills, the rule that produced the amount (with
the figures, so a caseworker can redo it by hand) and where each input was read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from bot.calc import money
from bot.calc.errors import AgencyAnswerMissing, CalcInputError, NormFigureMissing, UnknownIncomeType
from bot.calc.fields import ALL_FIELDS, COST_FIELDS, INCOME_FIELDS, label
from bot.calc.guidelines import Guidelines, RentCapRow, RentCaps, describe_household, load_guidelines
from bot.calc.jobbstimulans import jobbstimulans_status
from bot.calc.law import cite
from bot.calc.norms import OLDEST_CHILD_AGE, NormFigure, NormTable, NormTables, common_amount, load_norms
from bot.facts import (
    AGENCY_NAMES,
    ROLE_LABELS,
    CaseFacts,
    CsnAnswer,
    FkAnswer,
    FkPayment,
    Member,
    Source,
)

n = money.format_num


@dataclass(frozen=True)
class Line:
    field: str
    label: str
    amount: int | None  # None: a figure is missing and the robot has no proposal either
    rule: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class MissingFigure:
    """A figure the household needs that the data does not have: a riksnorm figure of the year's table, or a
    guideline figure (the prisbasbelopp of the year, the rent caps in force). The field that needs it is left
    for the caseworker; `proposal` is the robot's unverified suggestion, if it has one."""

    field: str  # the form field that needs it: norm_personliga, norm_gemensamma, lon, boende
    figure: str  # where it would be: norms.2026.children.age_4_6, prisbasbelopp.amounts.2018, rent_caps
    text_sv: str  # e.g. "barn 4–6 år"
    where: str  # where the caseworker finds it
    member: Member | None = None
    proposal: int | None = None
    proposal_text: str = ""  # the working of a derived proposal
    within: str = "riktlinjerna"  # what lacks it: "Riksnorm 2026", "riktlinjerna", "beslutshistoriken"
    kind: Literal["norm", "guideline", "history"] = "guideline"

    @property
    def is_norm(self) -> bool:
        return self.kind == "norm"


@dataclass(frozen=True)
class Calculation:
    period: str
    norm_year: int
    lines: tuple[Line, ...]
    summa_norm: int
    summa_kostnader: int
    summa_inkomster: int
    att_betala: int
    missing_figures: tuple[MissingFigure, ...] = ()
    notes: tuple[str, ...] = field(default=())
    rent_rise: RentRise | None = None  # the rent counted is last month's approved one (a capped rise)

    def line(self, key: str) -> Line | None:
        return next((ln for ln in self.lines if ln.field == key), None)

    def amount(self, key: str) -> int | None:
        ln = self.line(key)
        return ln.amount if ln else None

    @property
    def values(self) -> dict[str, int]:
        """Form field → amount, for every field the calculation has an amount for (a proposal included: what
        may be filled in is the triage's decision)."""
        return {ln.field: ln.amount for ln in self.lines if ln.amount is not None}

    def missing_for(self, key: str) -> list[MissingFigure]:
        return [m for m in self.missing_figures if m.field == key]

    @property
    def totals(self) -> dict[str, int]:
        return {"summa_norm": self.summa_norm, "summa_kostnader": self.summa_kostnader,
                "summa_inkomster": self.summa_inkomster, "att_betala": self.att_betala}


def who(member: Member) -> str:
    """A member in a rule text: role, and birth year for children (never the personnummer)."""
    if member.role == "barn":
        return f"barn f. {member.birth_date.year}"
    return ROLE_LABELS[member.role]


def _unique(sources: Iterable[Source | None]) -> tuple[Source, ...]:
    seen: list[Source] = []
    for s in sources:
        if s is not None and s not in seen:
            seen.append(s)
    return tuple(seen)


def _sum_text(parts: list[str], total: int | None) -> str:
    return " + ".join(parts) + (f" = {n(total)}" if len(parts) > 1 and total is not None else "")


# ---------------------------------------------------------------------------------------------- norm

def check_children(facts: CaseFacts) -> None:
    """A `barn` is under 21 (contract: Household roles); anything else is a data error to show a human."""
    for i, m in enumerate(facts.members):
        if m.role == "barn" and facts.age(m) > OLDEST_CHILD_AGE:
            raise CalcInputError(f"members[{i}].birth_date",
                                 f"a barn is {facts.age(m)} at the period; the barn role is for children under 21")


def _missing_norm(table: NormTable, fig: NormFigure, field: str, member: Member | None = None) -> MissingFigure:
    return MissingFigure(field, f"norms.{table.year}.{fig.key}", fig.label, table.where, member,
                         fig.derived.amount if fig.derived else None, fig.derived.text if fig.derived else "",
                         f"Riksnorm {table.year}", "norm")


def personal_norm(facts: CaseFacts, table: NormTable) -> tuple[list[NormFigure], list[MissingFigure]]:
    """The figures of the personal part, and those the table lacks."""
    parts = [table.adults(pair=bool(facts.with_role("medsokande")))]
    members: list[Member | None] = [None]
    for child in facts.with_role("barn"):
        parts.append(table.child(facts.age(child), without_lunch=child.lunch_i_forskola))
        members.append(child)
    missing = [_missing_norm(table, f, "norm_personliga", m) for f, m in zip(parts, members, strict=True) if f.missing]
    return parts, missing


def common_norm(facts: CaseFacts, table: NormTable) -> tuple[list[NormFigure], list[MissingFigure]]:
    size = len(facts.family) + len(facts.with_role("ovrig_vuxen"))
    figures = table.common_for(size)
    return figures, [_missing_norm(table, f, "norm_gemensamma") for f in figures if f.missing]


def _shown(fig: NormFigure) -> str:
    if not fig.missing:
        return f"{fig.label} {n(fig.amount or 0)}"
    if fig.derived is None:
        return f"{fig.label} saknas (inget förslag)"
    return f"{fig.label} saknas (förslag {n(fig.derived.amount)})"


def _shown_common(figures: list[NormFigure], size_text: str, common: int) -> str:
    if any(f.missing for f in figures):
        return f"{size_text} saknas (förslag {n(common)})"
    return f"{size_text} {n(common)}"


def _proposal_sum(figures: list[NormFigure]) -> int | None:
    amounts = [f.proposal for f in figures]
    return None if any(a is None for a in amounts) else sum(a for a in amounts if a is not None)


def _norm_lines(facts: CaseFacts, table: NormTable) -> tuple[list[Line], list[MissingFigure]]:
    parts, missing = personal_norm(facts, table)
    personal = _proposal_sum(parts)
    head = f"Riksnorm {table.year} ({table.origin})"
    law = cite(facts.period, "forsorjningsstod")
    rule = (f"Riksnorm {table.year}" + (f" enligt {law}" if law else "") + f", {table.origin}: "
            + _sum_text([_shown(f) for f in parts], personal))
    first = table.sources[0]
    norm_source = Source("riksnorm", f"{table.year} ({table.origin}): {first.title} {first.url}")
    member_sources = [m.source for m in facts.family]
    lines = [Line("norm_personliga", label("norm_personliga"), personal, rule,
                  _unique([*member_sources, norm_source]))]

    family = len(facts.family)
    others = len(facts.with_role("ovrig_vuxen"))
    size = family + others
    figures, common_missing = common_norm(facts, table)
    missing += common_missing
    proposals = [f.proposal for f in figures]
    common = common_amount(size, [p for p in proposals if p is not None]) if None not in proposals else None
    size_text = f"{size} personer" if size > 1 else "1 person"
    if size > 7 and common is not None:
        six, seven = (p or 0 for p in proposals)
        size_text += f" ({n(seven)} för 7 + {size - 7} × {n(seven - six)})"
    if common is None:
        amount = None
        rule = f"{head}: gemensamma hushållskostnader, {size_text}: " + "; ".join(_shown(f) for f in figures)
    elif others == 0:
        amount = common
        rule = f"{head}: gemensamma hushållskostnader, " + _shown_common(figures, size_text, common)
    else:
        amount = money.share(common, family, size)
        exact = common * family % size == 0
        grown = "övrig vuxen" if others == 1 else "övriga vuxna"
        shown = _shown_common(figures, size_text, common)
        rule = (f"{head}: gemensamma hushållskostnader, {shown} × {family} ÷ {size} "
                f"(familjen {family} av {size} i hushållet; {others} {grown}) = {n(amount)}"
                + ("" if exact else " (avrundat till hela kronor)"))
    lines.append(Line("norm_gemensamma", label("norm_gemensamma"), amount, rule,
                      _unique([*[m.source for m in facts.members], norm_source])))
    return lines, missing


# ---------------------------------------------------------------------------------------------- costs

def _cost_lines(facts: CaseFacts, guidelines: Guidelines
                ) -> tuple[list[Line], list[MissingFigure], RentRise | None]:
    by_field: dict[str, list[int]] = defaultdict(list)
    sources: dict[str, list[Source | None]] = defaultdict(list)
    for i, cost in enumerate(facts.costs):
        if cost.field not in COST_FIELDS:
            raise CalcInputError(f"costs[{i}].field",
                                 f"{cost.field!r} is not a cost field ({', '.join(COST_FIELDS)})")
        by_field[cost.field].append(cost.amount)
        sources[cost.field].append(cost.source)
    lines = []
    missing: list[MissingFigure] = []
    rise: RentRise | None = None
    guide = Source("riktlinjer", guidelines.municipality)
    for key in COST_FIELDS:
        if key not in by_field:
            continue
        amounts = by_field[key]
        declared = sum(amounts)
        applied = "Enligt ansökan " + _sum_text([n(a) for a in amounts], declared)
        src = list(sources[key])
        if not guidelines.cost_counts(key):
            amount, rule = 0, f"{applied}; räknas inte enligt lokala riktlinjer ({guidelines.municipality})"
            src.append(guide)
        elif key == "boende":
            cap = rent_cap_for(facts, guidelines)
            amount, rule = _rent(cap, declared, applied)
            # Within the caps in force (above them RENT_ABOVE_CAP decides), a rise over the limit is capped.
            if cap.caps is not None and amount == declared:
                rise = rent_rise_capped(facts, guidelines, declared)
                if rise is not None:
                    amount, rule = rise.approved, rise.text
            if cap.caps is None:
                missing.append(MissingFigure(
                    "boende", "rent_caps", f"högsta godtagbara boendekostnad för {facts.period}",
                    f"kommunens riktlinjer om skälig boendekostnad ({guidelines.municipality})", proposal=declared))
            else:
                src.append(Source("riktlinjer", f"{cap.caps.name}: {cap.caps.source.title} {cap.caps.source.url}"))
        else:
            amount, rule = declared, applied
        lines.append(Line(key, label(key), amount, rule, _unique(src)))
    return lines, missing, rise


def rent_household(facts: CaseFacts) -> tuple[int, int]:
    """(adults, children) for the rent cap: the applicant's family; an ovrig_vuxen does not change the cap."""
    return len(facts.with_role("sokande", "medsokande")), len(facts.with_role("barn"))


@dataclass(frozen=True)
class RentCap:
    """The rent cap for the case: the set in force for the period (None: no set covers it) and its row for the
    household (None: the set has none)."""

    caps: RentCaps | None
    row: RentCapRow | None
    household: str  # e.g. "1 vuxen utan barn (sökande 27 år)"


def rent_cap_for(facts: CaseFacts, guidelines: Guidelines) -> RentCap:
    adults, children = rent_household(facts)
    applicant = facts.with_role("sokande")
    age = facts.age(applicant[0]) if applicant else 0
    caps = guidelines.rent_caps_for(facts.period)
    row = guidelines.rent_cap(facts.period, adults, children, age)
    household = describe_household(adults, children)
    if row is not None and row.applicant_age != "0+":
        household += f" (sökande {age} år)"
    return RentCap(caps, row, household)


@dataclass(frozen=True)
class RentRise:
    """A rent rise over last month's approved rent above the municipality's limit: last month's figure counts."""

    applied: int
    approved: int
    month: str
    limit: int

    @property
    def text(self) -> str:
        return (f"Kapad kostnad: ansökt {n(self.applied)} kr, beviljat {n(self.approved)} kr (höjningen "
                f"{n(self.applied - self.approved)} kr mot beslutet för {self.month} är över riktlinjernas gräns "
                f"{n(self.limit)} kr: förra månadens godkända hyra räknas)")


def rent_rise_capped(facts: CaseFacts, guidelines: Guidelines, declared: int) -> RentRise | None:
    """The capped rent when the guidelines cap a rise over last month's approved rent and this one is above it;
    None otherwise (no such rule, no earlier approved rent, or a rise within the limit)."""
    limit = guidelines.changes.rent_rise_limit_kr
    last = facts.history.last if facts.history is not None else None
    if limit is None or last is None:
        return None
    approved = last.approved("boende")
    if approved <= 0 or declared - approved <= limit:
        return None
    return RentRise(declared, approved, last.month, limit)


def _rent(cap: RentCap, declared: int, applied: str) -> tuple[int, str]:
    if cap.caps is None:
        return declared, (f"{applied}; OBS: inga riktlinjer om högsta boendekostnad gäller för perioden, "
                          "fältet lämnas till handläggaren")
    if cap.row is None:
        return declared, f"{applied}; riktlinjerna anger ingen högsta boendekostnad för {cap.household}"
    amount, name = cap.row.amount, cap.caps.name
    if declared > amount:
        return amount, (f"{applied}, över högsta godtagbara {n(amount)} för {cap.household} "
                        f"({name}): {n(amount)} räknas som förslag")
    return declared, f"{applied} (högsta godtagbara för {cap.household}: {n(amount)}, {name})"


# ---------------------------------------------------------------------------------------------- incomes

def check_income_types(facts: CaseFacts, guidelines: Guidelines) -> None:
    for i, inc in enumerate(facts.incomes):
        if guidelines.income_type(inc.type) is None:
            raise UnknownIncomeType(f"incomes[{i}].type",
                                    f"{inc.type!r} is not an income type the guidelines know "
                                    f"({', '.join(guidelines.income_types)})")


def reported_amount(facts: CaseFacts, guidelines: Guidelines, key: str, member: Member) -> tuple[int, Source | None]:
    """The agency's payments of this type to `member` for the period month. The agency must have answered."""
    rule = guidelines.income_types[key]
    agency = rule.reported_by
    assert agency is not None
    answer = facts.answer(agency, member.pnr)
    if not isinstance(answer, FkAnswer | CsnAnswer):
        index = facts.members.index(member)
        state = "could not answer" if answer is not None else "was not asked"
        raise AgencyAnswerMissing(agency, f"{AGENCY_NAMES[agency]} {state} for members[{index}] ({member.role}); "
                                          "its figure is needed for the calculation")
    wanted = guidelines.reported_keys(key)
    total = 0
    for p in answer.payments:
        kind = p.benefit if isinstance(p, FkPayment) else p.kind
        if p.month == facts.period and (wanted is None or kind in wanted):
            total += p.amount
    return total, answer.source


def _per(citation: str) -> str:
    """' (12 kap. 9 § socialtjänstlagen (2025:400))', or nothing where no act is on file for the period."""
    return f" ({citation})" if citation else ""


class _IncomePart:
    __slots__ = ("counted", "text", "sources")

    def __init__(self, counted: int | None, text: str, sources: list[Source | None]) -> None:
        self.counted = counted
        self.text = text
        self.sources = sources


def _exempt(facts: CaseFacts, guidelines: Guidelines, member: Member, amount: int
            ) -> tuple[int | None, str, str, MissingFigure | None]:
    """The part of `member`'s earned income that does not count (None: what decides it is missing, and which),
    the part's text and a note for the line."""
    if member.role == "barn":
        child_law = cite(facts.period, "child_work_income")
        pbb = guidelines.prisbasbelopp_or_none(facts.year)
        if pbb is None:
            missing = MissingFigure("lon", f"prisbasbelopp.amounts.{facts.year}", f"prisbasbeloppet för {facts.year}",
                                    "förordningen om prisbasbeloppet för året (SFS) eller SCB:s sida om "
                                    "prisbasbeloppet", member)
            return None, " − undantaget okänt", (
                f"barns eget arbete undantas upp till ett prisbasbelopp per år{_per(child_law)}, men riktlinjerna "
                f"saknar prisbasbeloppet för {facts.year}: fältet lämnas till handläggaren"), missing
        exempt = min(amount, pbb)
        return exempt, f" − undantaget {n(exempt)}", (
            f"barns eget arbete undantas upp till ett prisbasbelopp ({n(pbb)} kr för {facts.year}) per år"
            f"{_per(child_law)}; tidigare månader under året är inte kontrollerade"), None
    js = guidelines.jobbstimulans
    status = jobbstimulans_status(facts.history, facts.period, qualifying_months=js.qualifying_months,
                                  months=js.months)
    note = status.text(facts.period) + _per(cite(facts.period, "jobbstimulans"))
    if status.applies is None:
        missing = MissingFigure("lon", "history.jobbstimulans", "om jobbstimulans gäller",
                                "ärendets äldre beslut (arkivet) eller handläggarens egen kännedom", member,
                                within="beslutshistoriken", kind="history")
        return None, " − jobbstimulans okänd", note, missing
    if not status.applies:
        return 0, "", note, None
    exempt = money.percent_of(amount, js.percent)
    return exempt, f" − jobbstimulans {js.percent} % {n(exempt)}", note, None


def _income_lines(facts: CaseFacts, guidelines: Guidelines) -> tuple[list[Line], list[str], list[MissingFigure]]:
    per_field: dict[str, list[_IncomePart]] = defaultdict(list)
    phrase: dict[str, set[str]] = defaultdict(set)
    line_notes: dict[str, list[str]] = defaultdict(list)
    notes: list[str] = []
    missing: list[MissingFigure] = []
    for key, rule in guidelines.income_types.items():
        target = guidelines.income_field(key)
        for member in facts.family:
            declared = facts.incomes_of(member.pnr, key)
            declared_sum = sum(d.amount for d in declared)
            if not rule.counts:
                if declared:
                    notes.append(f"{rule.label} {n(declared_sum)} kr ({who(member)}) räknas inte enligt riktlinjerna")
                continue
            assert target is not None
            if rule.reported_by:
                amount, src = reported_amount(facts, guidelines, key, member)
                if amount == 0 and not declared:
                    continue
                text = f"{who(member)} {n(amount)}"
                if not declared:
                    text += " (ej i ansökan)"
                elif declared_sum != amount:
                    text += f" (i ansökan {n(declared_sum)})"
                sources = [src, *(d.source for d in declared)]
                phrase[target].add(f"{AGENCY_NAMES[rule.reported_by]}, utbetalt för {facts.period}")
            else:
                if not declared:
                    continue
                amount = declared_sum
                text = f"{who(member)} {n(amount)}"
                sources = [d.source for d in declared]
                phrase[target].add("Enligt ansökan")
            counted: int | None = amount
            if rule.earned and amount > 0:
                exempt, why, note, lacking = _exempt(facts, guidelines, member, amount)
                if lacking is not None:
                    missing.append(lacking)
                counted = None if exempt is None else amount - exempt
                text += why + (f" = {n(counted)}" if exempt and counted is not None else "")
                if note not in line_notes[target]:
                    line_notes[target].append(note)
            per_field[target].append(_IncomePart(counted, text, sources))
    for member in facts.with_role("ovrig_vuxen"):
        for inc in facts.incomes_of(member.pnr):
            notes.append(f"Inkomst för övrig vuxen ({inc.type} {n(inc.amount)} kr) räknas inte: "
                         "hen ingår inte i sökandens familj")
    lines = []
    for key in INCOME_FIELDS:
        parts = per_field.get(key)
        if not parts:
            continue
        amounts = [p.counted for p in parts]
        total = None if None in amounts else sum(c for c in amounts if c is not None)
        head = "; ".join(sorted(phrase[key]))
        text = f"{head}: " + _sum_text([p.text for p in parts], total)
        if line_notes.get(key):
            text += " (" + "; ".join(line_notes[key]) + ")"
        lines.append(Line(key, label(key), total, text, _unique(s for p in parts for s in p.sources)))
    return lines, notes, missing


# ---------------------------------------------------------------------------------------------- entry

def calculate(facts: CaseFacts, guidelines: Guidelines | None = None, norms: NormTables | None = None, *,
              allow_missing_figures: bool = False) -> Calculation:
    """The itemised calculation for the case's period.

    Raises `NormTableMissing` for a period without a table, `NormFigureMissing` when the table lacks a figure the
    household needs (unless `allow_missing_figures`: then `missing_figures` names them and their lines carry the
    robot's proposal, or no amount), and a `CalcInputError` naming the field for facts that cannot be calculated
    (an unknown income type, an agency that did not answer, a barn aged 21 or more, an unknown cost field).
    A missing guideline figure (the prisbasbelopp of the year, rent caps for the period) is always a missing
    figure, never an error.
    """
    guidelines = guidelines if guidelines is not None else load_guidelines()
    norms = norms if norms is not None else load_norms()
    table = norms.for_period(facts.period)
    check_children(facts)
    check_income_types(facts, guidelines)
    norm_lines, missing = _norm_lines(facts, table)
    if missing and not allow_missing_figures:
        first = missing[0]
        raise NormFigureMissing(table.year, first.figure.removeprefix(f"norms.{table.year}."), first.text_sv)
    cost_lines, cost_missing, rent_rise = _cost_lines(facts, guidelines)
    income_lines, notes, income_missing = _income_lines(facts, guidelines)
    lines = tuple(sorted([*norm_lines, *cost_lines, *income_lines], key=lambda ln: ALL_FIELDS.index(ln.field)))

    def total(group: list[Line]) -> int:
        return sum(ln.amount for ln in group if ln.amount is not None)

    summa_norm, summa_kostnader, summa_inkomster = total(norm_lines), total(cost_lines), total(income_lines)
    return Calculation(
        period=facts.period, norm_year=table.year, lines=lines,
        summa_norm=summa_norm, summa_kostnader=summa_kostnader, summa_inkomster=summa_inkomster,
        att_betala=max(0, summa_norm + summa_kostnader - summa_inkomster),
        missing_figures=(*missing, *cost_missing, *income_missing), notes=tuple(notes), rent_rise=rent_rise)
