"""A worker's claim loop around `settle`, with the case itself replaced: whatever exception a case raises ends that
case only, with a code; what is not an `Exception` (Ctrl-C, SystemExit, a cancelled task) still ends the worker.
The night against the sandbox is in tests/reliability/test_internal_error.py."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from bot.calc.errors import CalcError
from bot.dev.sandbox import sandbox_config
from bot.masking import masked_names
from bot.run import worker as worker_module
from bot.run.case import CaseJob, CaseResult
from bot.run.shift import RunOptions, Shift
from bot.run.worker import Worker
from bot.store import NewWorkItem, SqliteStore

PERIOD = "2024-12"
PNR = "19850312-2387"


class FakeBrowser:
    pages: dict[str, Any] = {}

    @asynccontextmanager
    async def case_trace(self, case_id: str, *, trace: bool = False,
                         keep_artifacts: Callable[[], bool] = lambda: True) -> AsyncIterator[None]:
        yield

    def forget_case(self, case_id: str) -> list[Path]:
        return []

    async def close(self) -> None:
        pass


class FakeDrivers:
    def all(self) -> tuple[()]:
        return ()

    def every(self) -> list[object]:
        return []

    def set_context(self, case_id: str | None, step: str | None) -> None:
        pass


class FakeChromium:
    class browser:  # noqa: N801 - shaped like Chromium.browser
        @staticmethod
        def is_connected() -> bool:
            return True


@pytest.fixture
def shift(tmp_path: Path) -> Iterator[Shift]:
    store = SqliteStore(tmp_path / "casebot.db")
    shift = Shift(sandbox_config(tmp_path), store, {}, selectors={}, guidelines=None, norms=None,  # type: ignore[arg-type]
                  options=RunOptions())
    shift.run_id = store.open_run().id
    shift.chromium = FakeChromium()  # type: ignore[assignment]
    store.add_work_items(shift.run_id, [NewWorkItem(f"EB-2024-0000{i}", PERIOD, PNR) for i in (1, 2, 3)])
    try:
        yield shift
    finally:
        store.close()


def worker(shift: Shift) -> Worker:
    return Worker(shift, 1, FakeBrowser(), FakeDrivers())  # type: ignore[arg-type]


def cases_as(monkeypatch: pytest.MonkeyPatch, fn: Callable[[CaseJob], Awaitable[CaseResult]]) -> None:
    monkeypatch.setattr(worker_module, "process_case", fn)


async def _done(job: CaseJob) -> CaseResult:
    with job.step("collect"):
        pass
    job.checkpoint("collect", {})
    return CaseResult("auto", 1000, [], [])


@pytest.fixture
def records() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    handler = logger.add(lambda message: seen.append(message.record), level="DEBUG", format="{message}")
    try:
        yield seen
    finally:
        logger.remove(handler)


def test_a_bug_in_one_case_fails_that_case_and_the_worker_goes_on(shift: Shift, monkeypatch: pytest.MonkeyPatch,
                                                                  records: list[dict[str, Any]]) -> None:
    async def case(job: CaseJob) -> CaseResult:
        if job.case_id != "EB-2024-00002":
            return await _done(job)
        with job.step("collect"):
            pass
        job.checkpoint("collect", {})
        with masked_names(["Svensson"]), job.step("triage"):
            raise KeyError(f"Svensson {PNR}")

    cases_as(monkeypatch, case)
    asyncio.run(worker(shift).work())  # returns: every item is final

    items = {i.case_id: i for i in shift.store.items(shift.run_id)}
    assert {c: i.state for c, i in items.items()} == {"EB-2024-00001": "done", "EB-2024-00002": "failed",
                                                      "EB-2024-00003": "done"}
    bug = items["EB-2024-00002"]
    assert (bug.last_error_code, bug.step, bug.attempts) == ("INTERNAL_ERROR", "triage", 1)  # not retried
    # The type, the step and the case, masked: no personnummer, no name.
    assert bug.last_error_message == ("KeyError in step triage of case EB-2024-00002: 'S*** 19850312-XXXX' "
                                      "(a bug: the case is left for a person; the night goes on)")
    [event] = shift.store.events(shift.run_id, level="ERROR")
    assert (event.code, event.case_id) == ("INTERNAL_ERROR", "EB-2024-00002")
    assert event.data == {"step": "triage", "runbook": "runbooks/INTERNAL_ERROR.md", "will_retry": False}
    assert event.message.startswith("INTERNAL_ERROR [case EB-2024-00002, step triage] KeyError in step triage")
    [logged] = [r for r in records if r["extra"].get("code") == "INTERNAL_ERROR"]
    assert logged["level"].name == "ERROR" and logged["extra"]["case_id"] == "EB-2024-00002"
    assert logged["extra"]["step"] == "triage" and logged["extra"]["exc_type"] == "KeyError"
    traceback = logged["extra"]["traceback"]  # the traceback is in the log, masked
    assert traceback.startswith("Traceback") and "raise KeyError" in traceback
    assert "2387" not in traceback and "Svensson" not in traceback and "Svensson" not in logged["message"]
    assert [i.case_id for i in shift.store.held_items()] == ["EB-2024-00002"]  # later runs leave it alone


def test_a_calculation_error_that_is_not_about_the_data_is_an_internal_error(
        shift: Shift, monkeypatch: pytest.MonkeyPatch) -> None:
    async def case(job: CaseJob) -> CaseResult:
        with job.step("triage"):
            raise CalcError("norms.2024.single", "a figure the table should have had")

    cases_as(monkeypatch, case)
    item = shift.store.claim_next(shift.run_id, "w")
    assert item is not None
    assert asyncio.run(worker(shift).attempt(item)) is True
    failed = shift.store.get_item(item.id)
    assert failed is not None and (failed.state, failed.last_error_code) == ("failed", "INTERNAL_ERROR")
    assert (failed.last_error_message or "").startswith("bot.calc.errors.CalcError in step triage of case ")


def test_a_bug_between_two_steps_names_the_step_the_case_was_in(shift: Shift,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    async def case(job: CaseJob) -> CaseResult:
        with job.step("collect"):
            pass
        job.checkpoint("collect", {})
        with job.step("triage"):
            pass
        job.checkpoint("triage", {})
        return CaseResult("auto", 1 // 0, [], [])

    cases_as(monkeypatch, case)
    item = shift.store.claim_next(shift.run_id, "w")
    assert item is not None and asyncio.run(worker(shift).attempt(item)) is True
    failed = shift.store.get_item(item.id)
    assert failed is not None and (failed.step, failed.last_error_code) == ("triage", "INTERNAL_ERROR")
    assert "ZeroDivisionError in step triage" in (failed.last_error_message or "")


def test_a_result_the_store_refuses_fails_the_case_not_the_worker(shift: Shift,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    async def case(job: CaseJob) -> CaseResult:
        with job.step("park"):
            pass
        job.checkpoint("park", {})
        return CaseResult("maybe", None, [], [])  # an outcome no one knows: the store raises ValueError

    cases_as(monkeypatch, case)
    item = shift.store.claim_next(shift.run_id, "w")
    assert item is not None and asyncio.run(worker(shift).attempt(item)) is True
    failed = shift.store.get_item(item.id)
    assert failed is not None and (failed.state, failed.last_error_code, failed.step) == ("failed", "INTERNAL_ERROR",
                                                                                        "park")
    assert "ValueError in step park" in (failed.last_error_message or "")


def escape_from_a_case(home: Path, name: str) -> str:
    """Work one case that raises `name` (a BaseException) and say what escaped the worker and what the item is."""
    stop = {"KeyboardInterrupt": KeyboardInterrupt, "SystemExit": SystemExit,
            "CancelledError": asyncio.CancelledError}[name]

    async def case(job: CaseJob) -> CaseResult:
        with job.step("collect"):
            raise stop()

    worker_module.process_case = case  # type: ignore[assignment]
    store = SqliteStore(home / "casebot.db")
    shift = Shift(sandbox_config(home), store, {}, selectors={}, guidelines=None, norms=None,  # type: ignore[arg-type]
                  options=RunOptions())
    shift.run_id = store.open_run().id
    store.add_work_items(shift.run_id, [NewWorkItem("EB-2024-00001", PERIOD)])
    item = store.claim_next(shift.run_id, "w")
    assert item is not None
    try:
        asyncio.run(worker(shift).attempt(item))
        escaped = "nothing"
    except BaseException as exc:  # noqa: BLE001 - what escaped is the point
        escaped = type(exc).__name__
    after = store.get_item(item.id)
    assert after is not None
    return f"{escaped} {after.state} {after.last_error_code}"


@pytest.mark.parametrize("stop", ["KeyboardInterrupt", "SystemExit", "CancelledError"])
def test_what_is_not_an_exception_is_never_swallowed(tmp_path: Path, stop: str) -> None:
    # In a process of its own: a KeyboardInterrupt and a SystemExit raised through asyncio in one interpreter
    # leave CPython 3.11's recursion count off, which breaks pytest's later work in this process.
    script = ("import sys; from pathlib import Path; from tests.run.test_settle import escape_from_a_case; "
              "print(escape_from_a_case(Path(sys.argv[1]), sys.argv[2]))")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path), stop], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    # It ends the worker, and the item is left as it was (a crash, for the next run to count), not settled.
    assert done.stdout.strip().splitlines()[-1] == f"{stop} in_progress None"
