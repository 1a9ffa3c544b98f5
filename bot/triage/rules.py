"""The triage rules (docs/contract.md, "Triage rules"), one pure function each.

Every rule takes (facts, guidelines, norms) and returns zero or more `Reason`s. The texts are for the caseworker:
Swedish, with the figures. They name persons by role and masked personnummer, and by role alone when anyone in
the case has a protected identity.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from bot.calc.calculate import MissingFigure, calculate, rent_cap_for, reported_amount
from bot.calc.errors import CalcInputError
from bot.calc.fields import label
from bot.calc.guidelines import Guidelines
from bot.calc.money import format_kr, round_kr
from bot.calc.norms import NormTables
from bot.facts import (
    AGENCY_NAMES,
    ROLE_LABELS,
    CaseFacts,
    CsnAnswer,
    FkAnswer,
    Member,
    NoAnswer,
    Register,
    pnr_key,
)
from bot.masking import mask_pnr
from bot.triage.model import (
    AGENCY_NO_ANSWER,
    FIRST_APPLICATION,
    GUIDELINE_FIGURE_MISSING,
    HOUSEHOLD_MISMATCH,
    INCOME_DEVIATION,
    JOBBSTIMULANS_UNKNOWN,
    NORM_FIGURE_MISSING,
    PROTECTED_IDENTITY,
    RENT_ABOVE_CAP,
    UNKNOWN_INCOME_TYPE,
    YOUNG_ADULT_SCHOOL,
    Reason,
    manual,
    partial,
)

Rule = Callable[[CaseFacts, Guidelines, NormTables], list[Reason]]


# ---------------------------------------------------------------------------------------------- helpers

def protected_keys(facts: CaseFacts) -> set[str]:
    """Persons Skatteverket marks as protected: declared members looked up, and anyone registered at the address."""
    if not isinstance(facts.register, Register):
        return set()
    keys = {pnr_key(p) for p in facts.register.protected_pnrs}
    keys |= {pnr_key(p.pnr) for p in facts.register.at_address if p.protected}
    return keys


def who(facts: CaseFacts, member: Member) -> str:
    """'sökande 19850312-XXXX'; only the role when the case has a protected identity."""
    role = ROLE_LABELS[member.role]
    return role if protected_keys(facts) else f"{role} {mask_pnr(member.pnr)}"


def _upper_first(text: str) -> str:
    # str.capitalize() would also lower-case the rest ("20050303-xxxx").
    return text[:1].upper() + text[1:]


def person(facts: CaseFacts, pnr: str) -> str:
    member = facts.member(pnr)
    if member is not None:
        return who(facts, member)
    return "en person" if protected_keys(facts) else f"person {mask_pnr(pnr)}"


# ---------------------------------------------------------------------------------------------- manual rules

def first_application(facts: CaseFacts, guidelines: Guidelines, norms: NormTables) -> list[Reason]:
    if facts.application.application_type != "Nyansökan":
        return []
    return [manual(FIRST_APPLICATION,
                   "Nyansökan: första ansökan utreds av handläggare (bl.a. möte och bedömning av arbetsförmåga)")]


def protected_identity(facts: CaseFacts, guidelines: Guidelines, norms: NormTables) -> list[Reason]:
    # Deliberately says nothing about who: the fewer copies of that fact, the better.
    if not protected_keys(facts):
        return []
    return [manual(PROTECTED_IDENTITY,
                   "Skyddade personuppgifter enligt Skatteverket i hushållet eller på adressen: ärendet handläggs "
                   "manuellt enligt rutinen för skyddad identitet")]


def agency_no_answer(facts: CaseFacts, guidelines: Guidelines, norms: NormTables) -> list[Reason]:
    reasons = []
    if facts.register is None:
        reasons.append(manual(AGENCY_NO_ANSWER, "Skatteverket: folkbokföringen på adressen har inte hämtats"))
    elif isinstance(facts.register, NoAnswer):
        reasons.append(manual(AGENCY_NO_ANSWER, "Skatteverket kunde inte lämna uppgifter om folkbokföringen: "
                                                f"”{facts.register.message}”"))
    else:
        for entry in facts.register.unanswered:
            reasons.append(manual(AGENCY_NO_ANSWER, f"Skatteverket kunde inte lämna uppgifter för "
                                                    f"{person(facts, entry.pnr)}: ”{entry.message}”"))
    # FK and CSN figures are needed for every family member (their incomes count); a missing entry means nobody
    # asked, which must never pass as "nothing paid".
    for agency in ("fk", "csn"):
        for member in facts.family:
            if facts.answer(agency, member.pnr) is None:
                reasons.append(manual(AGENCY_NO_ANSWER,
                                      f"{AGENCY_NAMES[agency]}: uppgifter har inte hämtats för {who(facts, member)}"))
    for agency in ("fk", "csn", "af"):
        for entry in getattr(facts, agency):
            if isinstance(entry, NoAnswer):
                reasons.append(manual(AGENCY_NO_ANSWER, f"{AGENCY_NAMES[agency]} kunde inte lämna uppgifter för "
                                                        f"{person(facts, entry.pnr)}: ”{entry.message}”"))
    return reasons


def household_mismatch(facts: CaseFacts, guidelines: Guidelines, norms: NormTables) -> list[Reason]:
    if not isinstance(facts.register, Register):
        return []  # agency_no_answer already sends the case to a human
    end = facts.period_end
    registered = {pnr_key(p.pnr): p.pnr for p in facts.register.at_address if p.registered_from <= end}
    declared = {pnr_key(m.pnr): m for m in facts.members}
    extra = [pnr for key, pnr in registered.items() if key not in declared]
    absent = [m for key, m in declared.items() if key not in registered]
    if not extra and not absent:
        return []
    parts = []
    if extra:
        parts.append(f"{len(extra)} folkbokförd{'a' if len(extra) > 1 else ''} på adressen saknas i ansökan ("
                     + ", ".join(person(facts, p) for p in extra) + ")")
    if absent:
        parts.append(f"{len(absent)} i ansökan är inte folkbokförd{'a' if len(absent) > 1 else ''} på adressen ("
                     + ", ".join(who(facts, m) for m in absent) + ")")
    return [manual(HOUSEHOLD_MISMATCH,
                   f"Hushållet stämmer inte med folkbokföringen per {end}: " + "; ".join(parts))]


def unknown_income_type(facts: CaseFacts, guidelines: Guidelines, norms: NormTables) -> list[Reason]:
    reasons = []
    for inc in facts.incomes:
        if guidelines.income_type(inc.type) is None:
            reasons.append(manual(UNKNOWN_INCOME_TYPE,
                                  f"Inkomsttypen ”{inc.type}” ({format_kr(inc.amount)}, {person(facts, inc.pnr)}) "
                                  "finns inte i reglerna: handläggaren bedömer om och hur den ska räknas"))
    return reasons


# ---------------------------------------------------------------------------------------------- partial rules

def income_deviation(facts: CaseFacts, guidelines: Guidelines, norms: NormTables) -> list[Reason]:
    t = guidelines.triage
    reasons = []
    for key, rule in guidelines.income_types.items():
        target = guidelines.income_field(key)
        if rule.reported_by is None or target is None:
            continue
        for member in facts.family:
            if not isinstance(facts.answer(rule.reported_by, member.pnr), FkAnswer | CsnAnswer):
                continue  # agency_no_answer covers it
            reported, _ = reported_amount(facts, guidelines, key, member)
            declared = facts.incomes_of(member.pnr, key)
            claimed = sum(d.amount for d in declared)
            limit = max(Decimal(t.income_deviation_kr), Decimal(reported) * t.income_deviation_percent / 100)
            agency = AGENCY_NAMES[rule.reported_by]
            head = f"{rule.label} ({who(facts, member)})"
            if not declared and reported > 0:
                reasons.append(partial(INCOME_DEVIATION, f"{head}: inte med i ansökan, {agency} "
                                                         f"{format_kr(reported)} för {facts.period}", target))
            elif declared and abs(claimed - reported) > limit:
                reasons.append(partial(INCOME_DEVIATION,
                                       f"{head}: sökt {format_kr(claimed)}, {agency} {format_kr(reported)} för "
                                       f"{facts.period} (skillnad {format_kr(abs(claimed - reported))}, "
                                       f"gräns {format_kr(round_kr(limit))})", target))
    return reasons


def rent_above_cap(facts: CaseFacts, guidelines: Guidelines, norms: NormTables) -> list[Reason]:
    rents = [c.amount for c in facts.costs if c.field == "boende"]
    if not rents or not guidelines.cost_counts("boende"):
        return []
    rent = sum(rents)
    cap = rent_cap_for(facts, guidelines)
    if cap.caps is None:
        return []  # no caps in force for the period at all: a missing guideline figure (missing_figures)
    if cap.row is None:
        return [partial(RENT_ABOVE_CAP, f"Riktlinjerna anger ingen högsta boendekostnad för {cap.household}: "
                                        f"boendekostnaden {format_kr(rent)} behöver bedömas", "boende")]
    if rent <= cap.row.amount:
        return []
    return [partial(RENT_ABOVE_CAP,
                    f"Boendekostnaden {format_kr(rent)} är över högsta godtagbara {format_kr(cap.row.amount)} för "
                    f"{cap.household} ({cap.caps.name})", "boende")]


def young_adult_school(facts: CaseFacts, guidelines: Guidelines, norms: NormTables) -> list[Reason]:
    t = guidelines.triage
    reasons = []
    for child in facts.with_role("barn"):
        age = facts.age(child)
        if t.young_adult_min_age <= age <= t.young_adult_max_age:
            reasons.append(partial(YOUNG_ADULT_SCHOOL,
                                   f"{_upper_first(who(facts, child))} är {age} år i perioden: kontrollera skolgång "
                                   "(hemmavarande ungdom räknas som barn i normen bara under gymnasiestudier)",
                                   "norm_personliga"))
    return reasons


MISSING_CODES = {"norm": NORM_FIGURE_MISSING, "guideline": GUIDELINE_FIGURE_MISSING, "history": JOBBSTIMULANS_UNKNOWN}


def missing_figures(facts: CaseFacts, guidelines: Guidelines, norms: NormTables) -> list[Reason]:
    """A figure the case needs that the data lacks: a riksnorm figure (NORM_FIGURE_MISSING), a guideline figure
    (GUIDELINE_FIGURE_MISSING), or whether jobbstimulans applies when the decision history is too short to tell
    (JOBBSTIMULANS_UNKNOWN). The field that needs it is left empty; one reason per field and kind names each missing
    figure once (with whom it concerns), shows the robot's proposal only as such, and says where it is found."""
    try:
        calc = calculate(facts, guidelines, norms, allow_missing_figures=True)
    except CalcInputError:
        return []  # the facts cannot be calculated at all: the rules above, or the run, send it to a human
    reasons = []
    groups: dict[tuple[str, str], list[MissingFigure]] = {}
    for m in calc.missing_figures:
        groups.setdefault((m.kind, m.field), []).append(m)
    for (kind, key), found in sorted(groups.items(), key=lambda g: list(MISSING_CODES).index(g[0][0])):
        figures: dict[str, list[MissingFigure]] = {}
        for m in found:
            figures.setdefault(m.figure, []).append(m)
        named, proposals = [], []
        for same in figures.values():
            first = same[0]
            whom = [who(facts, m.member) for m in same if m.member is not None]
            named.append(first.text_sv + (f" ({', '.join(whom)})" if whom else ""))
            if first.proposal is not None and first.is_norm:
                proposals.append(f"{first.text_sv} {format_kr(first.proposal)} ({first.proposal_text})")
            elif first.proposal is not None:
                proposals.append(f"enligt ansökan {format_kr(first.proposal)}")
        text = f"Uppgift saknas i {found[0].within}: {'; '.join(named)}. {label(key)} lämnas till handläggaren"
        if proposals:
            derived = " härlett, ej verifierat" if kind == "norm" else ""
            text += f". Robotens förslag{derived}: {'; '.join(proposals)}"
        text += f". Finns i: {found[0].where}"
        reasons.append(partial(MISSING_CODES[kind], text, key))
    return reasons


RULES: tuple[Rule, ...] = (
    first_application,
    protected_identity,
    agency_no_answer,
    household_mismatch,
    unknown_income_type,
    income_deviation,
    rent_above_cap,
    young_adult_school,
    missing_figures,
)
