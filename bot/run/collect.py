"""Step 1 of a case: read the application from the case system, then ask the agencies, in parallel.

Each agency has its own page in the worker's browser context, so the four look-ups for one case run at the same
time; within one agency the household's members are asked one after another on that page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from bot.browser import profile
from bot.drivers.af import Af
from bot.drivers.base import gather_all
from bot.drivers.casesystem import CaseRecord
from bot.drivers.csn import Csn
from bot.drivers.fk import Fk
from bot.drivers.portal_drivers import Drivers
from bot.drivers.skv import Skv, build_register
from bot.facts import CaseFacts, Member, NoAnswer, Register

T = TypeVar("T")
D = TypeVar("D")

ADULT_ROLES = ("sokande", "medsokande")


async def _each(drivers: Sequence[D], members: Sequence[Member], ask: Callable[[D, Member], Awaitable[T]],
                portal: str) -> tuple[T, ...]:
    """Ask for every member, the agency's pages side by side (member i on page i mod pages), answers in the
    members' order."""
    async def lane(driver: D, mine: Sequence[tuple[int, Member]]) -> list[tuple[int, T]]:
        answers = []
        for index, member in mine:
            with profile.phase(portal):
                answers.append((index, await ask(driver, member)))
        return answers

    numbered = list(enumerate(members))
    lanes = [lane(d, numbered[k::len(drivers)]) for k, d in enumerate(drivers) if numbered[k::len(drivers)]]
    answered = sorted(pair for lane_answers in await gather_all(*lanes) for pair in lane_answers)
    return tuple(answer for _, answer in answered)


async def collect(drivers: Drivers, case_id: str) -> tuple[CaseRecord, CaseFacts]:
    with profile.phase("read case"):
        record = await drivers.casesystem.read_case(case_id)
    members = record.members
    period = record.application.period
    applicant = next(m for m in members if m.role == "sokande")
    # FK and CSN for every declared member (their incomes count; a gap for anyone must reach the triage), SKV for
    # every member (protected identity), AF for the adults (job-seeker status is about them).
    skv_answers, fk, csn, af = await gather_all(
        _each(drivers.of(Skv), members, lambda d, m: d.lookup(m.pnr), "skv"),
        _each(drivers.of(Fk), members, lambda d, m: d.payments(m.pnr, period), "fk"),
        _each(drivers.of(Csn), members, lambda d, m: d.payments(m.pnr), "csn"),
        _each(drivers.of(Af), [m for m in members if m.role in ADULT_ROLES], lambda d, m: d.status(m.pnr), "af"),
    )
    register: Register | NoAnswer = build_register(skv_answers, applicant.pnr)  # type: ignore[arg-type]
    facts = CaseFacts(
        application=record.application, members=members, costs=record.costs, incomes=record.incomes,
        register=register, fk=fk, csn=csn, af=af,  # type: ignore[arg-type]
        history=record.history, address=record.address, collected_at=datetime.now())
    return record, facts

