"""Cases held for an operator: their latest item failed with a code that holds its case (INTERNAL_ERROR: a bug
would repeat; CASE_QUARANTINED: the case kept killing the robot). The night's inbox leaves them alone, saying so
once per night, until an operator releases one (`Store.release_held`, see the two runbooks)."""

from __future__ import annotations

from loguru import logger

from bot.drivers.casesystem import InboxRow
from bot.errors import runbook_for
from bot.run.shift import Shift


def without_held(shift: Shift, rows: list[InboxRow]) -> list[InboxRow]:
    """The inbox rows whose case is not held."""
    if not rows:
        return rows
    held = {(i.case_id, i.period): i for i in shift.store.held_items()}
    kept: list[InboxRow] = []
    for row in rows:
        item = held.get((row.case_id, row.period))
        if item is None:
            kept.append(row)
            continue
        if item.run_id == shift.run_id:  # this run's own item (a continued run): it stays as it is
            continue
        runbook = runbook_for(item.last_error_code)
        message = (f"held since run {item.run_id} ({item.last_error_code}, step {item.step or '?'}): not taken "
                   f"until an operator releases it — runbook: {runbook}")
        logger.bind(case_id=row.case_id, code="CASE_HELD").warning("{}: {}", row.case_id, message)
        shift.store.record_event(shift.run_id, "WARNING", message, case_id=row.case_id, code="CASE_HELD",
                                 data={"held_by": item.last_error_code, "since_run": item.run_id,
                                       "runbook": runbook})
    return kept
