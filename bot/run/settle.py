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
| any other exception (a bug)               | failed as INTERNAL_ERROR naming type and step, not retried, held |

A failure whose code makes every further case fail the same way (wrong password, missing norm table) stops the
night. A bug ends its case only: the traceback goes to the log, the case waits for an operator (later runs do
not take it until released, `Store.release_held`), and the night goes on with the next case. What is not an
`Exception` (KeyboardInterrupt, SystemExit, asyncio.CancelledError) is never caught here: it ends the worker.

An attempt cut off by a crash (the process died or hung holding the case) never reaches settle(): the store
finds it (`release_leases` at resume, the lease takeover in `claim_next`), gives the attempt back, counts a crash
and, after `retries.max_crashes`, quarantines the case (CASE_QUARANTINED).
"""

from __future__ import annotations

from loguru import logger
from playwright.async_api import Error as PlaywrightError

from bot.drivers.base import browser_gone
from bot.errors import CasebotError, ErrorCode, SystemException
from bot.masking import exception_names, mask_text
from bot.run.case import CaseJob, CaseResult, StopRequested
from bot.run.shift import Shift
from bot.store.base import LeaseExpired
from bot.store.models import WorkItem

# What an attempt can end with, besides a result: every Exception (a bug too, as INTERNAL_ERROR), never a
# BaseException that is not one (KeyboardInterrupt, SystemExit, asyncio.CancelledError end the worker).
SETTLED_EXCEPTIONS = (Exception,)
Outcome = CaseResult | Exception
# How much of an unexpected exception's text the stored message and the event keep (the log has it all).
INTERNAL_TEXT_MAX = 300


def settle(shift: Shift, job: CaseJob, outcome: Outcome) -> bool:
    """Record how the attempt ended; True when it failed (the worker then checks its browser)."""
    item = job.item
    try:
        if isinstance(outcome, LeaseExpired):
            raise outcome
        if isinstance(outcome, CaseResult):
            try:
                _finish(shift, item, outcome)
            except CasebotError:  # the store's own (LeaseExpired, STORE_UNAVAILABLE): as before
                raise
            except Exception as exc:  # a result the store refuses (a bug in the case's code): this case only
                _fail(shift, item, internal_error(exc, step=job.current_step, case_id=item.case_id), cause=exc)
                return True
            return False
        if isinstance(outcome, StopRequested):
            shift.store.release(item)
            logger.warning("{}: stopped after step {} on request; the next run continues it", item.case_id, outcome)
            return False
        error = as_system_error(outcome, job, case_limit_s=shift.config.timeouts.case_s)
        # A bug's traceback goes to the log (masked there, as every record is), never to the case system.
        _fail(shift, item, error, cause=outcome if error.code is ErrorCode.INTERNAL_ERROR else None)
        return True
    except LeaseExpired as exc:
        # Not this worker's case any more (it stalled past its lease): the one that took it over finishes it from
        # the last checkpoint; the store refuses anything this attempt would record.
        logger.error("{}: {}; the worker that took it over finishes the case", item.case_id, exc)
        return False


def as_system_error(exc: Exception, job: CaseJob, *, case_limit_s: float) -> CasebotError:
    if isinstance(exc, CasebotError):
        return exc
    if isinstance(exc, TimeoutError):
        return SystemException(ErrorCode.PORTAL_SLOW, f"the case took longer than {case_limit_s:.0f} s",
                               case_id=job.case_id)
    if isinstance(exc, PlaywrightError):
        return system_error_from(exc, step=job.steps_done[-1] if job.steps_done else "collect",
                                 case_id=job.case_id)
    return internal_error(exc, step=job.current_step, case_id=job.case_id)


def internal_error(exc: BaseException, *, step: str, case_id: str | None = None) -> SystemException:
    """An exception no code covers: a bug. Named by its type and the step it broke, its text masked (personnummer,
    and the case's names it carries) and cut short; not retried, since a bug repeats."""
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    try:
        text = str(exc).strip()
    except Exception:  # noqa: BLE001 - a broken __str__ must not hide the bug it reports
        text = "<unprintable>"
    text = mask_text(" ".join(text.split()), exception_names(exc))
    if len(text) > INTERNAL_TEXT_MAX:
        text = text[: INTERNAL_TEXT_MAX - 1] + "…"
    where = f"step {step}" + (f" of case {case_id}" if case_id else "")
    message = f"{name} in {where}" + (f": {text}" if text else "") + \
        " (a bug: the case is left for a person; the night goes on)"
    return SystemException(ErrorCode.INTERNAL_ERROR, message, case_id=case_id, step=step, retryable=False)


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


def _fail(shift: Shift, item: WorkItem, exc: CasebotError, *, cause: BaseException | None = None) -> None:
    exc.with_context(item.case_id)
    retries = shift.config.retries
    delay = retries.delay_s(item.attempts)
    updated = shift.store.fail(item, exc.code, exc.message, retryable=getattr(exc, "retryable", False),
                               max_attempts=retries.max_attempts, retry_in_s=delay, step=exc.step)
    again = updated.state == "new"
    log = logger.bind(code=exc.code.value, **({"step": exc.step} if exc.step else {}))
    if cause is not None:
        log = log.opt(exception=cause)
    log.error("{}{}", exc, f" (attempt {item.attempts}, retrying in {delay:.0f} s)" if again else "")
    shift.store.record_event(shift.run_id, "ERROR", str(exc), case_id=item.case_id, code=exc.code.value,
                             data={"step": exc.step, "runbook": exc.runbook, "will_retry": again})
    if exc.code.stops_run:
        shift.stop_night(exc, step=exc.step or "", what="stopping the run", recorded=True)
