"""Step 1 of a case: read the application from the case system, then ask the agencies, in parallel.

Each agency has its own page in the worker's browser context, so the four look-ups for one case run at the same
time; within one agency the household's members are asked one after another on that page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from bot.browser import profile
from bot.drivers.base import gather_all
from bot.drivers.casesystem import CaseRecord
from bot.drivers.portal_drivers import Drivers
from bot.drivers.skv import build_register
from bot.facts import CaseFacts, Member, NoAnswer, Register

T = TypeVar("T")

ADULT_ROLES = ("sokande", "medsokande")


async def _each(members: Sequence[Member], ask: Callable[[Member], Awaitable[T]], portal: str) -> tuple[T, ...]:
    answers = []
    for member in members:
        with profile.phase(portal):
            answers.append(await ask(member))
    return tuple(answers)


async def collect(drivers: Drivers, case_id: str) -> tuple[CaseRecord, CaseFacts]:
    with profile.phase("read case"):
        record = await drivers.casesystem.read_case(case_id)
    members = record.members
    period = record.application.period
    applicant = next(m for m in members if m.role == "sokande")
    # FK and CSN for every declared member (their incomes count; a gap for anyone must reach the triage), SKV for
    # every member (protected identity), AF for the adults (job-seeker status is about them).
    skv_answers, fk, csn, af = await gather_all(
        _each(members, lambda m: drivers.skv.lookup(m.pnr), "skv"),
        _each(members, lambda m: drivers.fk.payments(m.pnr, period), "fk"),
        _each(members, lambda m: drivers.csn.payments(m.pnr), "csn"),
        _each([m for m in members if m.role in ADULT_ROLES], lambda m: drivers.af.status(m.pnr), "af"),
    )
    register: Register | NoAnswer = build_register(skv_answers, applicant.pnr)  # type: ignore[arg-type]
    facts = CaseFacts(
        application=record.application, members=members, costs=record.costs, incomes=record.incomes,
        register=register, fk=fk, csn=csn, af=af,  # type: ignore[arg-type]
        history=record.history, address=record.address, collected_at=datetime.now())
    return record, facts

