from __future__ import annotations

import io
import json
import os
import stat
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from bot.errors import ErrorCode, SystemException
from bot.log import case_context, new_run_id, purge_old_logs, setup_logging
from bot.masking import mask_text

pytestmark = pytest.mark.usefixtures("restore_logging")

PNR = "198501011234"


def read_json(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# Data reaches exceptions through variables, as in real code: tracebacks show source lines, and a source line
# holding a literal personnummer would be printed as written.
def fail_with_chain(surname: str, pnr: str, first: str, short_pnr: str) -> None:
    try:
        raise KeyError(f"{surname} {pnr}")
    except KeyError as exc:
        raise SystemException(ErrorCode.PORTAL_DOWN, f"{first} {short_pnr} down", case_id="EB-2024-00001",
                              step="collect") from exc


def test_every_sink_is_masked_message_extra_and_exception(tmp_path: Path) -> None:
    console = io.StringIO()
    setup = setup_logging(tmp_path / "logs", "run-a", console=console)
    later: list[str] = []
    logger.add(lambda m: later.append(str(m)), format="{message} {extra} {exception}")  # a sink added afterwards
    with case_context("EB-2024-00001", names=["Anna Svensson"]), logger.contextualize(step="collect"):
        logger.info("applicant {} {}", "Anna Svensson", PNR, pnr=PNR, household={"partner": "Svensson 8501011234"})
        try:
            fail_with_chain("Svensson", PNR, "Anna", "850101-1234")
        except SystemException:
            logger.exception("collect failed for Anna")
        logger.opt(colors=True).warning("<red>{}</red>", PNR)
    setup.close()

    records = read_json(setup.path)
    everything = console.getvalue() + setup.path.read_text(encoding="utf-8") + "".join(later)
    for secret in (PNR, "1234", "Anna", "Svensson"):
        assert secret not in everything
    assert "A*** S***" in console.getvalue()
    assert "19850101-XXXX" in console.getvalue()
    assert "KeyError: 'S*** 19850101-XXXX'" in console.getvalue()  # the cause is rendered, masked
    assert "bot.errors.SystemException: PORTAL_DOWN [case EB-2024-00001, step collect]" in console.getvalue()
    first, error, warning = records
    assert first["message"] == "applicant A*** S*** 19850101-XXXX"
    assert first["run_id"] == "run-a" and first["case_id"] == "EB-2024-00001" and first["step"] == "collect"
    assert first["extra"] == {"pnr": "19850101-XXXX", "household": {"partner": "S*** 850101-XXXX"}}
    assert error["level"] == "ERROR" and "runbook: runbooks/PORTAL_DOWN.md" in error["exception"]
    assert "850101-XXXX" in error["exception"]
    assert warning["message"] == "19850101-XXXX"


def test_console_shows_case_and_step_and_the_file_is_named_after_the_run(tmp_path: Path) -> None:
    console = io.StringIO()
    setup = setup_logging(tmp_path, "20241201-020000-abcd", console=console)
    with case_context("EB-2024-00007"), logger.contextualize(step="fill"):
        logger.info("filled")
    logger.debug("not on the console")
    setup.close()
    assert setup.path == tmp_path / "run-20241201-020000-abcd.jsonl"
    assert "[EB-2024-00007 fill] filled" in console.getvalue()
    assert "not on the console" not in console.getvalue()
    assert [r["message"] for r in read_json(setup.path)] == ["filled", "not on the console"]
    assert stat.S_IMODE(os.stat(setup.path).st_mode) == 0o600


def test_names_travel_with_an_exception_logged_outside_the_case_block(tmp_path: Path) -> None:
    console = io.StringIO()
    setup = setup_logging(tmp_path, "r", console=console)
    name = "Bertil"
    try:
        with case_context("EB-1", names=[name]):
            raise ValueError(f"{name} has no income")
    except ValueError:
        logger.exception("case failed")  # the run loop logs here, after the block ended
    setup.close()
    assert "Bertil" not in console.getvalue() + setup.path.read_text(encoding="utf-8")
    assert "ValueError: B*** has no income" in console.getvalue()


def test_exception_groups_are_masked(tmp_path: Path) -> None:
    console = io.StringIO()
    setup = setup_logging(tmp_path, "r", console=console)
    try:
        raise ExceptionGroup(f"lookups {PNR}", [ValueError(f"skv {PNR}"), KeyError("fk")])  # PNR: a variable
    except ExceptionGroup:
        logger.exception("agency lookups failed")
    setup.close()
    text = console.getvalue() + setup.path.read_text(encoding="utf-8")
    assert PNR not in text
    assert "skv 19850101-XXXX" in text


def test_a_resumed_run_appends_to_its_file(tmp_path: Path) -> None:
    first = setup_logging(tmp_path, "same", console=False)
    logger.info("one")
    first.close()
    second = setup_logging(tmp_path, "same", console=False)
    logger.info("two")
    second.close()
    assert [r["message"] for r in read_json(second.path)] == ["one", "two"]


def test_old_run_logs_are_purged(tmp_path: Path) -> None:
    old, new = tmp_path / "run-old.jsonl", tmp_path / "run-new.jsonl"
    old.write_text("{}\n")
    new.write_text("{}\n")
    os.utime(old, (time.time() - 40 * 86400,) * 2)
    assert purge_old_logs(tmp_path, days=30) == [old]
    assert new.exists()


def test_run_ids_sort_by_time_and_differ() -> None:
    assert new_run_id() != new_run_id()
    assert len(new_run_id()) == len("20241201-020000-abcd")


def test_a_run_id_is_never_masked_as_a_personnummer() -> None:
    # 00:05:14 reads as the date 2000-05-14: with a digit suffix the id looked like "000514-8383".
    ids = [new_run_id(datetime(2026, 11, 26, 0, 5, 14, tzinfo=UTC)) for _ in range(200)]
    assert all(mask_text(run_id) == run_id for run_id in ids)
