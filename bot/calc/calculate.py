"""The itemised monthly calculation (docs/contract.md, "The calculation"): norm + reasonable costs − counted
incomes, never below zero. Every line says which form field it fills, the rule that produced the amount (with
the figures, so a caseworker can redo it by hand) and where each input was read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.calc import money
from bot.calc.errors import AgencyAnswerMissing, CalcInputError, NormFigureMissing, UnknownIncomeType
from bot.calc.fields import ALL_FIELDS, COST_FIELDS, INCOME_FIELDS, label
from bot.calc.guidelines import Guidelines, describe_household, load_guidelines
from bot.calc.norms import OLDEST_CHILD_AGE, NormTable, NormTables, load_norms
from bot.facts import (
    AGENCY_NAMES,
    ROLE_LABELS,
    CaseFacts,
    CsnAnswer,
    FkAnswer,
    FkPayment,
    Member,
    Source,
    months_between,
)

n = money.format_num


@dataclass(frozen=True)
class Line:
    field: str
    label: str
    amount: int
    rule: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class MissingFigure:
    """A norm figure the household needs that the year's table does not have."""

    year: int
    figure: str  # the table key, e.g. children_without_lunch.age_4_6
    text_sv: str  # e.g. "barn 4–6 år utan lunch 5 dagar/vecka"
    member: Member


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

    def line(self, key: str) -> Line | None:
        return next((ln for ln in self.lines if ln.field == key), None)

    def amount(self, key: str) -> int | None:
        ln = self.line(key)
        return ln.amount if ln else None

    @property
    def values(self) -> dict[str, int]:
        """Form field → amount, for every field the calculation has a line for."""
        return {ln.field: ln.amount for ln in self.lines}

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


def _sum_text(parts: list[str], total: int) -> str:
    return " + ".join(parts) + (f" = {n(total)}" if len(parts) > 1 else "")


# ---------------------------------------------------------------------------------------------- norm

def check_children(facts: CaseFacts) -> None:
    """A `barn` is under 21 (contract: Household roles); anything else is a data error to show a human."""
    for i, m in enumerate(facts.members):
        if m.role == "barn" and facts.age(m) > OLDEST_CHILD_AGE:
            raise CalcInputError(f"members[{i}].birth_date",
                                 f"a barn is {facts.age(m)} at the period; the barn role is for children under 21")


def personal_norm(facts: CaseFacts, table: NormTable) -> tuple[list[tuple[str, int]], list[MissingFigure]]:
    """(label, amount) per norm part, and the figures the table lacks (the full figure stands in for those)."""
    parts: list[tuple[str, int]] = []
    if facts.with_role("medsokande"):
        parts.append(("sambor", table.pair))
    else:
        parts.append(("ensamstående", table.single))
    missing: list[MissingFigure] = []
    for child in facts.with_role("barn"):
        age = facts.age(child)
        try:
            fig = table.child(age, without_lunch=child.lunch_i_forskola)
            parts.append((fig.label, fig.amount))
        except NormFigureMissing as exc:
            full = table.child(age)
            missing.append(MissingFigure(table.year, exc.figure, exc.figure_sv, child))
            parts.append((f"{full.label} (utan lunch saknas, helt belopp)", full.amount))
    return parts, missing


def _norm_lines(facts: CaseFacts, table: NormTable) -> tuple[list[Line], list[MissingFigure]]:
    parts, missing = personal_norm(facts, table)
    personal = sum(a for _, a in parts)
    head = f"Riksnorm {table.year} ({table.origin})"
    rule = f"{head}: " + _sum_text([f"{lbl} {n(a)}" for lbl, a in parts], personal)
    if missing:
        lacking = ", ".join(m.text_sv for m in missing)
        rule += (f". OBS: tabellen saknar belopp för {lacking}; helt belopp visas som förslag och fältet lämnas "
                 "till handläggaren")
    first = table.sources[0]
    norm_source = Source("riksnorm", f"{table.year} ({table.origin}): {first.title} {first.url}")
    member_sources = [m.source for m in facts.family]
    lines = [Line("norm_personliga", label("norm_personliga"), personal, rule,
                  _unique([*member_sources, norm_source]))]

    family = len(facts.family)
    others = len(facts.with_role("ovrig_vuxen"))
    size = family + others
    common = table.common_for(size)
    size_text = f"{size} personer" if size > 1 else "1 person"
    if size > 7:
        size_text += f" ({n(table.common[7])} för 7 + {size - 7} × {n(table.over_seven_step())})"
    if others == 0:
        amount = common
        rule = f"{head}: gemensamma hushållskostnader, {size_text} {n(common)}"
    else:
        amount = money.share(common, family, size)
        exact = common * family % size == 0
        grown = "övrig vuxen" if others == 1 else "övriga vuxna"
        rule = (f"{head}: gemensamma hushållskostnader, {size_text} {n(common)} × {family} ÷ {size} "
                f"(familjen {family} av {size} i hushållet; {others} {grown}) = {n(amount)}"
                + ("" if exact else " (avrundat till hela kronor)"))
    lines.append(Line("norm_gemensamma", label("norm_gemensamma"), amount, rule,
                      _unique([*[m.source for m in facts.members], norm_source])))
    return lines, missing


# ---------------------------------------------------------------------------------------------- costs

def _cost_lines(facts: CaseFacts, guidelines: Guidelines) -> list[Line]:
    by_field: dict[str, list[int]] = defaultdict(list)
    sources: dict[str, list[Source | None]] = defaultdict(list)
    for i, cost in enumerate(facts.costs):
        if cost.field not in COST_FIELDS:
            raise CalcInputError(f"costs[{i}].field",
                                 f"{cost.field!r} is not a cost field ({', '.join(COST_FIELDS)})")
        by_field[cost.field].append(cost.amount)
        sources[cost.field].append(cost.source)
    lines = []
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
            amount, rule = _rent(facts, guidelines, declared, applied)
            caps = guidelines.rent_caps
            src.append(Source("riktlinjer", f"{caps.name}: {caps.source.title} {caps.source.url}"))
        else:
            amount, rule = declared, applied
        lines.append(Line(key, label(key), amount, rule, _unique(src)))
    return lines


def rent_household(facts: CaseFacts) -> tuple[int, int]:
    """(adults, children) for the rent cap: the applicant's family; an ovrig_vuxen does not change the cap."""
    return len(facts.with_role("sokande", "medsokande")), len(facts.with_role("barn"))


def _rent(facts: CaseFacts, guidelines: Guidelines, declared: int, applied: str) -> tuple[int, str]:
    adults, children = rent_household(facts)
    household = describe_household(adults, children)
    cap = guidelines.rent_cap(adults, children)
    if cap is None:
        return declared, f"{applied}; riktlinjerna anger ingen högsta boendekostnad för {household}"
    if declared > cap.amount:
        return cap.amount, (f"{applied}, över högsta godtagbara {n(cap.amount)} för {household} "
                            f"({guidelines.rent_caps.name}): {n(cap.amount)} räknas som förslag")
    return declared, f"{applied} (högsta godtagbara för {household}: {n(cap.amount)}, {guidelines.rent_caps.name})"


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


class _IncomePart:
    __slots__ = ("counted", "text", "sources")

    def __init__(self, counted: int, text: str, sources: list[Source | None]) -> None:
        self.counted = counted
        self.text = text
        self.sources = sources


def _exempt(facts: CaseFacts, guidelines: Guidelines, member: Member, amount: int) -> tuple[int, str, str]:
    """The part of `member`'s earned income that does not count, the part's text and a note for the line."""
    if member.role == "barn":
        pbb = guidelines.prisbasbelopp_for(facts.year)
        exempt = min(amount, pbb)
        return exempt, f" − undantaget {n(exempt)}", (
            f"barns eget arbete undantas upp till ett prisbasbelopp ({n(pbb)} kr för {facts.year}) per år; "
            "tidigare månader under året är inte kontrollerade")
    since = facts.application.bistand_sedan
    js = guidelines.jobbstimulans
    last = js.qualifying_months + js.months - 1
    if since is None:
        return 0, "", "ingen jobbstimulans: bistånd sedan saknas i ärendet"
    month = months_between(since, facts.period)
    window = f"bistånd sedan {since}, månad {month}; jobbstimulans gäller månad {js.qualifying_months}–{last}"
    if not js.applies(month):
        return 0, "", f"ingen jobbstimulans: {window}"
    exempt = money.percent_of(amount, js.percent)
    return exempt, f" − jobbstimulans {js.percent} % {n(exempt)}", window


def _income_lines(facts: CaseFacts, guidelines: Guidelines) -> tuple[list[Line], list[str]]:
    per_field: dict[str, list[_IncomePart]] = defaultdict(list)
    phrase: dict[str, set[str]] = defaultdict(set)
    line_notes: dict[str, list[str]] = defaultdict(list)
    notes: list[str] = []
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
            counted = amount
            if rule.earned and amount > 0:
                exempt, why, note = _exempt(facts, guidelines, member, amount)
                counted = amount - exempt
                text += why + (f" = {n(counted)}" if exempt else "")
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
        total = sum(p.counted for p in parts)
        head = "; ".join(sorted(phrase[key]))
        text = f"{head}: " + _sum_text([p.text for p in parts], total)
        if line_notes.get(key):
            text += " (" + "; ".join(line_notes[key]) + ")"
        lines.append(Line(key, label(key), total, text, _unique(s for p in parts for s in p.sources)))
    return lines, notes


# ---------------------------------------------------------------------------------------------- entry

def calculate(facts: CaseFacts, guidelines: Guidelines | None = None, norms: NormTables | None = None, *,
              allow_missing_figures: bool = False) -> Calculation:
    """The itemised calculation for the case's period.

    Raises `NormTableMissing` for a period without a table, `NormFigureMissing` when the table lacks a figure the
    household needs (unless `allow_missing_figures`: then the full figure stands in and `missing_figures` says so),
    and a `CalcInputError` naming the field for facts that cannot be calculated (an unknown income type, an agency
    that did not answer, a barn aged 21 or more, an unknown cost field).
    """
    guidelines = guidelines if guidelines is not None else load_guidelines()
    norms = norms if norms is not None else load_norms()
    table = norms.for_period(facts.period)
    check_children(facts)
    check_income_types(facts, guidelines)
    norm_lines, missing = _norm_lines(facts, table)
    if missing and not allow_missing_figures:
        first = missing[0]
        raise NormFigureMissing(first.year, first.figure, first.text_sv)
    cost_lines = _cost_lines(facts, guidelines)
    income_lines, notes = _income_lines(facts, guidelines)
    lines = tuple(sorted([*norm_lines, *cost_lines, *income_lines], key=lambda ln: ALL_FIELDS.index(ln.field)))
    summa_norm = sum(ln.amount for ln in norm_lines)
    summa_kostnader = sum(ln.amount for ln in cost_lines)
    summa_inkomster = sum(ln.amount for ln in income_lines)
    return Calculation(
        period=facts.period, norm_year=table.year, lines=lines,
        summa_norm=summa_norm, summa_kostnader=summa_kostnader, summa_inkomster=summa_inkomster,
        att_betala=max(0, summa_norm + summa_kostnader - summa_inkomster),
        missing_figures=tuple(missing), notes=tuple(notes))
