"""The one place where a case's attempt decides its work item's state (REFramework's SetTransactionStatus):

| the attempt ended with                    | the item                                                         |
| ----------------------------------------- | ---------------------------------------------------------------- |
| a result, no business exception           | done, with its outcome (auto / partial / manual)                 |
| a result carrying a business exception    | done as a business exception: the data says a human decides      |
| a stop request (SIGTERM)                  | released: the next run continues it from its last checkpoint     |
| LeaseExpired                              | untouched: another worker took the case over and finishes it     |
| a CasebotError                            | failed, retried with back-off if its code is retryable           |
| the case's time limit (TimeoutError)      | failed as PORTAL_SLOW, retried                                   |
| a Playwright error no driver named        | failed as BROWSER_CRASHED or PORTAL_SLOW, retried                |

A failure whose code makes every further case fail the same way (wrong password, missing norm table) stops the
night. Anything else is a bug, and is not caught here.
"""

from __future__ import annotations

from loguru import logger
from playwright.async_api import Error as PlaywrightError

from bot.drivers.base import browser_gone
from bot.errors import CasebotError, ErrorCode, SystemException
from bot.run.case import CaseJob, CaseResult, StopRequested
from bot.run.shift import Shift
from bot.store.base import LeaseExpired
from bot.store.models import WorkItem

# What an attempt can end with, besides a result, that settle() knows what to do with.
SETTLED_EXCEPTIONS = (CasebotError, StopRequested, TimeoutError, PlaywrightError)
Outcome = CaseResult | CasebotError | StopRequested | TimeoutError | PlaywrightError


def settle(shift: Shift, job: CaseJob, outcome: Outcome) -> bool:
    """Record how the attempt ended; True when it failed (the worker then checks its browser)."""
    item = job.item
    try:
        if isinstance(outcome, LeaseExpired):
            raise outcome
        if isinstance(outcome, CaseResult):
            _finish(shift, item, outcome)
            return False
        if isinstance(outcome, StopRequested):
            shift.store.release(item)
            logger.warning("{}: stopped after step {} on request; the next run continues it", item.case_id, outcome)
            return False
        _fail(shift, item, as_system_error(outcome, job, case_limit_s=shift.config.timeouts.case_s))
        return True
    except LeaseExpired as exc:
        # Not this worker's case any more (it stalled past its lease): the one that took it over finishes it from
        # the last checkpoint; the store refuses anything this attempt would record.
        logger.error("{}: {}; the worker that took it over finishes the case", item.case_id, exc)
        return False


def as_system_error(exc: CasebotError | TimeoutError | PlaywrightError, job: CaseJob, *,
                    case_limit_s: float) -> CasebotError:
    if isinstance(exc, CasebotError):
        return exc
    if isinstance(exc, TimeoutError):
        return SystemException(ErrorCode.PORTAL_SLOW, f"the case took longer than {case_limit_s:.0f} s",
                               case_id=job.case_id)
    return system_error_from(exc, step=job.steps_done[-1] if job.steps_done else "collect", case_id=job.case_id)


def system_error_from(exc: PlaywrightError, *, step: str, case_id: str | None = None) -> SystemException:
    """A Playwright error no driver turned into a code: the browser died, or something did not answer in time."""
    message = exc.message.splitlines()[0] if exc.message else type(exc).__name__
    code = ErrorCode.BROWSER_CRASHED if browser_gone(message) else ErrorCode.PORTAL_SLOW
    return SystemException(code, message, case_id=case_id, step=step)


def _finish(shift: Shift, item: WorkItem, result: CaseResult) -> None:
    if result.business is not None:
        shift.store.business_exception(item, result.business.code, result.business.message,
                                       reasons=result.reasons, step=result.business.step)
    else:
        shift.store.complete(item, result.outcome, amount=result.amount, reasons=result.reasons,
                             empty_fields=result.empty_fields, pnr=result.pnr)
    logger.info("{}: done, outcome {}", item.case_id, result.outcome)


def _fail(shift: Shift, item: WorkItem, exc: CasebotError) -> None:
    exc.with_context(item.case_id)
    retries = shift.config.retries
    delay = retries.delay_s(item.attempts)
    updated = shift.store.fail(item, exc.code, exc.message, retryable=getattr(exc, "retryable", False),
                               max_attempts=retries.max_attempts, retry_in_s=delay, step=exc.step)
    again = updated.state == "new"
    logger.error("{}{}", exc, f" (attempt {item.attempts}, retrying in {delay:.0f} s)" if again else "")
    shift.store.record_event(shift.run_id, "ERROR", str(exc), case_id=item.case_id, code=exc.code.value,
                             data={"step": exc.step, "runbook": exc.runbook, "will_retry": again})
    if exc.code.stops_run:
        shift.stop_night(exc, step=exc.step or "", what="stopping the run", recorded=True)
