"""Compact case builders for the calc and triage tests. Members are named by a label ("A", "B", "K1", …); the
builder gives each a synthetic personnummer with a valid check digit and, unless told otherwise, a register that
matches the application and an FK and a CSN answer (with the given payments) for every family member."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from bot.facts import (
    Application,
    CaseFacts,
    CsnAnswer,
    CsnPayment,
    Decision,
    DeclaredCost,
    DeclaredIncome,
    FkAnswer,
    FkPayment,
    History,
    Member,
    NoAnswer,
    Register,
    RegisteredPerson,
    Source,
)

APP = Source("casesystem", "Ansökan", date(2024, 12, 3))
FK = Source("fk", "Utbetalningar")
CSN = Source("csn", "Utbetalningsbesked (CSV)")
SKV = Source("skv", "Folkbokföring på adress")


def luhn_pnr(birth: date, serial: int) -> str:
    """A synthetic 12-digit personnummer (YYYYMMDD-NNNC) whose last digit is the Luhn check over the 10-digit form."""
    nine = f"{birth:%y%m%d}{serial:03d}"
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return f"{birth:%Y%m%d}-{serial:03d}{(10 - total % 10) % 10}"


def d(text: str) -> date:
    return date.fromisoformat(text)


def build(period: str, members: Mapping[str, tuple], *,
          costs: Mapping[str, int] | Iterable[tuple[str, int]] = (),
          incomes: Iterable[tuple] = (),
          fk: Iterable[tuple] = (),
          csn: Iterable[tuple] = (),
          application_type: str = "Återansökan",
          bistand_sedan: str | None = "same",
          register: str = "declared",
          registered_from: Mapping[str, date] | None = None,
          unregistered: Iterable[str] = (),
          extra_registered: Iterable[RegisteredPerson] = (),
          protected: Iterable[str] = (),
          protected_at_address: Iterable[str] = (),
          no_answer: Iterable[tuple[str, str]] = (),
          unasked: Iterable[tuple[str, str]] = (),
          history: History | None | str = "spell",
          address: str | None = None) -> CaseFacts:
    """members: label → (role, birth 'YYYY-MM-DD'[, lunch_i_forskola]).
    incomes: (label, type, amount). fk: (label, benefit, amount[, month]). csn: (label, kind, amount[, month]).
    Payments default to the period month; bistand_sedan defaults to the period itself (month 0).
    history: "spell" (default) = a complete history of granted months from bistand_sedan to the month before the
    period (what the case system shows for an unbroken spell), or a History, or None (not read)."""
    pnr: dict[str, str] = {}
    people = []
    for i, (lbl, spec) in enumerate(members.items()):
        role, birth = spec[0], d(spec[1])
        lunch = bool(spec[2]) if len(spec) > 2 else False
        pnr[lbl] = luhn_pnr(birth, 100 + 7 * i)
        people.append(Member(pnr[lbl], role, birth, lunch, APP))
    cost_items = costs.items() if isinstance(costs, Mapping) else costs
    declared_costs = tuple(DeclaredCost(f, a, APP) for f, a in cost_items)
    declared_incomes = tuple(DeclaredIncome(pnr[lbl], t, a, APP) for lbl, t, a in incomes)

    fk_pay: dict[str, list[FkPayment]] = {}
    for lbl, benefit, amount, *month in fk:
        fk_pay.setdefault(lbl, []).append(FkPayment(benefit, month[0] if month else period, amount))
    csn_pay: dict[str, list[CsnPayment]] = {}
    for lbl, kind, amount, *month in csn:
        csn_pay.setdefault(lbl, []).append(CsnPayment(month[0] if month else period, kind, amount))
    gone = set(no_answer)
    skipped = set(unasked)
    family = [lbl for lbl, spec in members.items() if spec[0] != "ovrig_vuxen"]

    def answers(agency: str, make) -> tuple:
        out = []
        for lbl in family:
            if (agency, lbl) in skipped:
                continue
            out.append(NoAnswer(agency, pnr[lbl]) if (agency, lbl) in gone else make(lbl))
        return tuple(out)

    fk_answers = answers("fk", lambda lbl: FkAnswer(pnr[lbl], tuple(fk_pay.get(lbl, ())), FK))
    csn_answers = answers("csn", lambda lbl: CsnAnswer(pnr[lbl], tuple(csn_pay.get(lbl, ())), CSN))
    af_answers = tuple(NoAnswer("af", pnr[lbl]) for agency, lbl in gone if agency == "af")

    reg: Register | NoAnswer | None
    if register == "declared":
        since = dict(registered_from or {})
        at = [RegisteredPerson(pnr[lbl], since.get(lbl, date(2015, 1, 1)), lbl in set(protected_at_address), SKV)
              for lbl in members if lbl not in set(unregistered)]
        reg = Register(tuple(at) + tuple(extra_registered), frozenset(pnr[lbl] for lbl in protected), SKV)
    elif register == "no_answer":
        reg = NoAnswer("skv", pnr[next(iter(members))])
    else:
        reg = None
    app = Application("EB-2024-00001", application_type, period,
                      period if bistand_sedan == "same" else bistand_sedan, APP)
    if history == "spell":
        history = spell(app.bistand_sedan, period)
    assert not isinstance(history, str), history
    return CaseFacts(app, tuple(people), declared_costs, declared_incomes, reg, fk_answers, csn_answers, af_answers,
                     history=history, address=address)


def add_months(month: str, n: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + n
    return f"{index // 12}-{index % 12 + 1:02d}"


def spell(first: str | None, period: str) -> History:
    """A complete history: every month from `first` up to the month before `period` granted, nothing before."""
    months = []
    if first is not None:
        month = first
        while month < period:
            months.append(Decision(month, "Beviljat"))
            month = add_months(month, 1)
    return History(tuple(months), complete=True)
