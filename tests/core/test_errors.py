from __future__ import annotations

import pickle
import re

import pytest

from bot.errors import CATALOGUE, BusinessException, CasebotError, ConfigError, ErrorCode, SystemException

REQUIRED = {
    "PORTAL_DOWN", "PORTAL_SLOW", "PORTAL_MAINTENANCE", "LOGIN_FAILED", "ACCOUNT_LOCKED", "SESSION_EXPIRED",
    "SELECTOR_MISSING", "READBACK_MISMATCH", "DATA_MISMATCH", "NORM_TABLE_MISSING", "STORE_UNAVAILABLE",
    "CONFIG_INVALID", "CREDENTIALS_MISSING", "LOCK_CONFLICT", "BROWSER_CRASHED", "AGENCY_NO_ANSWER",
    "UNPARSEABLE_AMOUNT", "PREFLIGHT_FAILED",
}


def test_the_catalogue_has_every_required_code() -> None:
    assert not REQUIRED - {c.value for c in ErrorCode}


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_code_has_a_summary_and_a_runbook_path(code: ErrorCode) -> None:
    assert code in CATALOGUE
    assert code.runbook == f"runbooks/{code.value}.md"
    assert re.fullmatch(r"runbooks/[A-Z_]+\.md", code.runbook)
    assert " / " in code.summary and "\n" not in code.summary  # Swedish / English, one line
    assert code.info.kind in ("system", "business")


def test_a_system_exception_prints_code_case_step_message_and_runbook() -> None:
    exc = SystemException(ErrorCode.PORTAL_DOWN, "skv: HTTP 503 for /sok", case_id="EB-2024-00001", step="fill")
    assert str(exc) == ("PORTAL_DOWN [case EB-2024-00001, step fill] skv: HTTP 503 for /sok "
                        "— runbook: runbooks/PORTAL_DOWN.md")
    assert exc.retryable and exc.kind == "system"


def test_missing_context_is_left_out_and_can_be_filled_in_later() -> None:
    exc = SystemException(ErrorCode.SELECTOR_MISSING, "calc_form/boende")
    assert str(exc) == "SELECTOR_MISSING calc_form/boende — runbook: runbooks/SELECTOR_MISSING.md"
    exc.with_context(case_id="EB-1", step="fill")
    assert str(exc).startswith("SELECTOR_MISSING [case EB-1, step fill] ")
    exc.with_context(case_id="EB-2")  # what the raiser knew wins
    assert exc.case_id == "EB-1"


def test_the_message_defaults_to_the_summary() -> None:
    assert SystemException("PORTAL_SLOW").message == ErrorCode.PORTAL_SLOW.summary


def test_business_and_system_exceptions_differ_in_kind_and_retry() -> None:
    business = BusinessException(ErrorCode.DATA_MISMATCH, "rent differs", case_id="EB-1", step="triage")
    assert business.kind == "business" and not isinstance(business, SystemException)
    assert isinstance(business, CasebotError)
    assert SystemException(ErrorCode.LOGIN_FAILED).retryable is False
    assert SystemException(ErrorCode.PORTAL_DOWN, retryable=False).retryable is False
    assert ErrorCode.ACCOUNT_LOCKED.stops_run


def test_exceptions_survive_pickling() -> None:
    exc = SystemException(ErrorCode.PORTAL_DOWN, "down", case_id="EB-1", step="collect", retryable=False)
    copy = pickle.loads(pickle.dumps(exc))
    assert (type(copy), copy.code, copy.case_id, copy.step, copy.retryable, str(copy)) == \
        (SystemException, exc.code, "EB-1", "collect", False, str(exc))
    config = pickle.loads(pickle.dumps(ConfigError(["a.yaml:1: x: bad", "a.yaml:2: y: bad"])))
    assert config.problems == ["a.yaml:1: x: bad", "a.yaml:2: y: bad"]


def test_config_error_lists_its_problems() -> None:
    one = ConfigError("config.yaml:12: portals.casesystem.url: not a valid URL")
    assert one.code is ErrorCode.CONFIG_INVALID and not one.retryable
    assert str(one) == ("CONFIG_INVALID config.yaml:12: portals.casesystem.url: not a valid URL "
                        "— runbook: runbooks/CONFIG_INVALID.md")
    many = str(ConfigError(["a.yaml:1: x: bad", "a.yaml:2: y: bad"]))
    assert many.splitlines() == ["CONFIG_INVALID 2 problems:", "  a.yaml:1: x: bad", "  a.yaml:2: y: bad",
                                 "— runbook: runbooks/CONFIG_INVALID.md"]


def test_an_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError):
        SystemException("NOT_A_CODE")


def test_a_bug_and_a_case_that_keeps_crashing_hold_their_case_and_nothing_else_does() -> None:
    from bot.errors import held_codes

    assert held_codes() == ("INTERNAL_ERROR", "CASE_QUARANTINED")
    for code in (ErrorCode.INTERNAL_ERROR, ErrorCode.CASE_QUARANTINED):
        # A bug repeats, a crashing case would crash again: never retried, and the night goes on without them.
        assert code.holds and code.info.kind == "system" and not code.retryable and not code.stops_run
