"""`casebot status` and `casebot report --run` read the state store an operator's run left behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.config import write_config
from bot.errors import ErrorCode
from bot.sandbox import sandbox_config
from bot.store import NewWorkItem, open_store


@pytest.fixture
def config_file(tmp_path: Path) -> tuple[Path, str]:
    """A robot whose store holds one run: one case done, one failed with PORTAL_DOWN."""
    config = sandbox_config(tmp_path / "robot")
    with open_store(config.store_url) as store:
        run = store.open_run({})
        store.add_work_items(run.id, [NewWorkItem("EB-2024-00001", "2024-12", None),
                                      NewWorkItem("EB-2024-00002", "2024-12", None)])
        first = store.claim_next(run.id, "w1", 60)
        second = store.claim_next(run.id, "w1", 60)
        assert first is not None and second is not None
        store.complete(first, "auto", amount=4321)
        store.fail(second, ErrorCode.PORTAL_DOWN, "fk: HTTP 503 for the payments API", retryable=False,
                   max_attempts=1, step="collect")
        store.finish_run(run.id, "finished")
    return write_config(config, tmp_path / "config.yaml"), run.id


def test_status_lists_the_runs_and_the_failing_cases_with_code_and_runbook(
        config_file: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    path, run_id = config_file
    assert main(["status", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    (row,) = [line for line in out.splitlines() if line.startswith(run_id)]
    assert row.split()[3:] == ["finished", "2", "1", "0", "0", "1", "0"]
    assert "failing cases in run " + run_id + ": 1" in out
    assert "EB-2024-00002  PORTAL_DOWN  step collect  runbooks/PORTAL_DOWN.md" in out
    assert "fk: HTTP 503 for the payments API" in out


def test_report_rebuilds_a_runs_morning_report(config_file: tuple[Path, str], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path, run_id = config_file
    target = tmp_path / "again.xlsx"
    assert main(["report", "--config", str(path), "--run", run_id, "--out", str(target)]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    cases = load_workbook(target)["Ärenden"]
    assert {row[0].value for row in cases.iter_rows(min_row=2)} == {"EB-2024-00001", "EB-2024-00002"}
    assert main(["report", "--config", str(path), "--run", "no-such-run"]) == 2
    assert "no run no-such-run" in capsys.readouterr().err
