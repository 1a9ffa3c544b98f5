"""One work item, start to end: collect → triage → compute → fill/save → verify → note → park.

Every step is checkpointed in the store, and every step that writes to the case system first looks at what the
case system already holds, so running a case again after a crash at any point does the rest and nothing twice:
- a case already parked or in manual handling is recognised by its status and not touched again;
- the note carries a marker line (`casebot-ref:<case>:<period>`) and is written only if no note has it;
- a saved form counts for nothing until it is read back equal to what was meant and the case is parked: only
  then is the work item done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from loguru import logger

from bot import chaos
from bot.browser import profile
from bot.calc.errors import CalcInputError, NormTableMissing
from bot.calc.fields import ALL_FIELDS
from bot.calc.guidelines import Guidelines
from bot.calc.norms import NormTables
from bot.drivers.casesystem import HANDLED_STATUSES, MANUAL, PARKED, shows_values
from bot.errors import BusinessException, CasebotError, ErrorCode, SystemException
from bot.facts import CaseFacts
from bot.masking import masked_names
from bot.note import NoteReason, compose_note, note_from_preparation, note_marker
from bot.run.collect import Drivers, collect
from bot.store.base import Store
from bot.store.models import WorkItem
from bot.triage.prepare import Preparation, prepare
from bot.triage.rules import protected_keys

MANUAL_REASON_MAX = 500  # the case system's limit on the reason field


@dataclass
class CaseResult:
    outcome: str
    amount: int | None
    reasons: list[dict[str, str]]
    empty_fields: list[str]
    pnr: str | None = None
    already_handled: bool = False
    # Set when the data itself sent the case to a human (REFramework's business exception): the item ends in
    # that state with the code, not as a triage outcome.
    business: BusinessException | None = None


class StopRequested(Exception):  # noqa: N818 - a request, not an error
    """The operator asked the robot to stop (SIGTERM/SIGINT): the step just checkpointed is the last one."""


@dataclass
class CaseJob:
    store: Store
    item: WorkItem
    drivers: Drivers
    guidelines: Guidelines
    norms: NormTables
    run_label: str
    steps_done: list[str] = field(default_factory=list)
    # The step the case is in: the one entered last, or checkpointed last (what an error outside a step's block,
    # such as a bug between two steps, is reported with).
    current_step: str = "start"
    # A protected identity in the household (known from collect on): no trace, screenshot or personnummer of the
    # case is kept anywhere but the case system.
    protected: bool = False
    # Set by a graceful shutdown: the job stops after its current step. Every step is safe to redo, since each one
    # that writes first checks what the case system holds; the next run does the rest.
    stop: asyncio.Event | None = None

    @property
    def case_id(self) -> str:
        return self.item.case_id

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Name the step in every error raised inside it, so the operator reads which case and which step."""
        self.current_step = name
        self.drivers.set_context(self.case_id, name)
        try:
            with profile.phase(name):
                yield
        except CasebotError as exc:
            exc.with_context(self.case_id, name)
            raise

    def checkpoint(self, step: str, data: Any = None) -> None:
        self.store.checkpoint(self.item, step, data)
        self.steps_done.append(step)
        self.current_step = step
        if self.stop is not None and self.stop.is_set() and step != "park":
            raise StopRequested(step)


def reasons_of(preparation: Preparation) -> list[dict[str, str]]:
    return [{"code": r.code, "text": r.text_sv, "outcome": r.outcome} for r in preparation.triage.reasons]


def manual_reason_text(preparation: Preparation) -> str:
    return _clip("casebot: " + " | ".join(f"{r.text_sv} [{r.code}]" for r in preparation.triage.reasons))


def _clip(text: str) -> str:
    return text if len(text) <= MANUAL_REASON_MAX else text[: MANUAL_REASON_MAX - 1] + "…"


def intended_form(preparation: Preparation) -> dict[str, int | None]:
    """What the form must show after the save: the values to fill, None (empty) for the rest."""
    return {key: preparation.to_fill.get(key) for key in ALL_FIELDS}


def readback_differences(preparation: Preparation, shown: dict[str, int | None]) -> list[str]:
    """Every field (and, for a complete calculation, every total) whose read-back value is not the meant one."""
    wanted: dict[str, int | None] = intended_form(preparation)
    if preparation.outcome == "auto" and preparation.calculation is not None:
        wanted.update(preparation.calculation.totals)
    return [f"{key}: meant {wanted[key]!r}, form shows {shown.get(key)!r}"
            for key in wanted if shown.get(key) != wanted[key]]


def _earlier_result(job: CaseJob) -> dict[str, Any] | None:
    """What an earlier attempt of this item decided, if it got that far."""
    for cp in reversed(job.store.checkpoints(job.item)):
        if cp.step == "triage" and isinstance(cp.data, dict):
            return cp.data
    return None


async def process_case(job: CaseJob) -> CaseResult:
    cs = job.drivers.casesystem
    with job.step("collect"):
        status = await cs.status(job.case_id)
        if status in HANDLED_STATUSES:
            return _already_handled(job, status)
        try:
            record, facts = await collect(job.drivers, job.case_id)
        except BusinessException as exc:
            # The data itself needs a human (an amount that is not an amount, a query the agency refused):
            # an outcome for the case, never a guess and never a retry.
            return await _hand_over_unreadable(job, exc)
    job.protected = bool(protected_keys(facts))
    job.checkpoint("collect", {"members": len(facts.members), "status": record.status, "protected": job.protected})
    chaos.point("collect", job.case_id)
    # From here on the household's names are known; every log sink masks them.
    with masked_names(record.names):
        return await _prepare_and_hand_over(job, facts)


async def _prepare_and_hand_over(job: CaseJob, facts: CaseFacts) -> CaseResult:
    cs = job.drivers.casesystem
    case_id = job.case_id
    applicant = next(m.pnr for m in facts.members if m.role == "sokande")

    with job.step("triage"):
        try:
            preparation = prepare(facts, job.guidelines, job.norms)
        except NormTableMissing as exc:
            raise SystemException(ErrorCode.NORM_TABLE_MISSING, str(exc)) from exc
        except CalcInputError as exc:
            # Data the rules cannot calculate although no rule sent it to a human: a human it is.
            raise SystemException(ErrorCode.DATA_MISMATCH, f"the case cannot be calculated: {exc}",
                                  retryable=False) from exc
    # Read before this attempt's own triage checkpoint: an earlier attempt that got this far may have saved.
    earlier = _earlier_result(job)
    outcome = preparation.outcome
    reasons = reasons_of(preparation)
    empty = list(preparation.left_empty)
    amount = preparation.calculation.att_betala if outcome == "auto" and preparation.calculation else None
    job.checkpoint("triage", {"outcome": outcome, "reasons": reasons, "empty_fields": empty, "amount": amount})
    chaos.point("triage", job.case_id)
    logger.info("{}: {} ({})", case_id, outcome, ", ".join(r["code"] for r in reasons) or "no reasons")

    if outcome != "manual":
        with job.step("fill"):
            intended = intended_form(preparation)
            # A retry never writes blindly: an earlier attempt's save may have gone through unanswered.
            if earlier is not None and shows_values(await cs.read_calculation(case_id), intended):
                logger.info("{}: the form already shows this calculation (an earlier attempt saved it); "
                            "not saved again", case_id)
            else:
                await cs.fill_calculation(case_id, intended)
                chaos.point("save", job.case_id)
        job.checkpoint("save")
        with job.step("verify"):
            shown = await cs.read_calculation(case_id)
            differences = readback_differences(preparation, shown)
            if differences:
                raise SystemException(ErrorCode.READBACK_MISMATCH, "; ".join(differences))
        job.checkpoint("verify")
        chaos.point("verify", job.case_id)

    note = note_from_preparation(case_id, facts.application.period, preparation, job.run_label)
    await _note_and_hand_over(job, note_marker(case_id, facts.application.period), note, outcome,
                              manual_reason_text(preparation))
    return CaseResult(outcome, amount, reasons, empty, pnr=None if job.protected else applicant)


def found_protected(store: Store, item: WorkItem) -> bool:
    """Whether an earlier attempt of this item found a protected identity (so this one traces nothing)."""
    return any(cp.step == "collect" and isinstance(cp.data, dict) and cp.data.get("protected")
               for cp in store.checkpoints(item))


async def _hand_over_unreadable(job: CaseJob, exc: BusinessException) -> CaseResult:
    """A case whose data the robot could not read as it must be: to manual handling with the reason, the form
    untouched."""
    exc.with_context(job.case_id, "collect")
    reason = {"code": exc.code.value, "text": f"{exc.code.summary}: {exc.message}", "outcome": "manual"}
    logger.warning("{}: manual, {}", job.case_id, exc)
    job.checkpoint("triage", {"outcome": "manual", "reasons": [reason], "empty_fields": [], "amount": None})
    period = job.item.period
    note = compose_note(job.case_id, period, "manual", [], [NoteReason(reason["code"], reason["text"])], None,
                        job.run_label)
    manual_reason = f"casebot: {reason['text']} [{reason['code']}]"
    await _note_and_hand_over(job, note_marker(job.case_id, period), note, "manual", _clip(manual_reason))
    return CaseResult("manual", None, [reason], [], business=exc)


async def _note_and_hand_over(job: CaseJob, marker: str, note: str, outcome: str, manual_reason: str) -> None:
    """Write the note unless an earlier attempt did, then park the case (or hand it to manual handling) and check
    the status it ends in."""
    cs = job.drivers.casesystem
    with job.step("note"):
        if any(marker in text for text in await cs.journal_texts(job.case_id)):
            logger.info("{}: the note is already in the journal (an earlier attempt wrote it)", job.case_id)
        else:
            await cs.add_journal_note(job.case_id, note)
            chaos.point("note", job.case_id)
    job.checkpoint("note")

    with job.step("park"):
        if outcome == "manual":
            final = await cs.set_manual(job.case_id, manual_reason)
            expected = MANUAL
        else:
            final = await cs.park(job.case_id, needs_completion=outcome == "partial")
            expected = PARKED
        if final != expected:
            raise SystemException(ErrorCode.DATA_MISMATCH, f"after parking the case shows status {final!r}, "
                                                           f"expected {expected!r}", retryable=False)
        chaos.point("park", job.case_id)
    job.checkpoint("park", {"status": final})


def _already_handled(job: CaseJob, status: str) -> CaseResult:
    """The case system says a human owns the case now. If this item's earlier attempt got as far as deciding,
    it is that attempt's work (it crashed after parking): finish the item with its result. Otherwise someone
    else handled it: record that, and touch nothing."""
    earlier = _earlier_result(job)
    job.checkpoint("park", {"status": status, "found_already": True})
    if earlier is not None:
        logger.info("{}: already {} in the case system; finishing the earlier attempt's work", job.case_id, status)
        return CaseResult(earlier["outcome"], earlier.get("amount"), earlier.get("reasons", []),
                          earlier.get("empty_fields", []), already_handled=True)
    logger.info("{}: already {} in the case system by someone else; not touched", job.case_id, status)
    reason = {"code": "ALREADY_HANDLED", "outcome": "manual",
              "text": f"Ärendet hade redan status {status} i verksamhetssystemet; roboten ändrade inget"}
    return CaseResult("manual", None, [reason], [], already_handled=True)

