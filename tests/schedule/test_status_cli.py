"""`casebot status` and `casebot report --run` read the state store an operator's run left behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.config import write_config
from bot.dev.sandbox import sandbox_config
from bot.errors import ErrorCode
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


def test_status_shows_the_workers_their_heartbeats_and_leases(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = sandbox_config(tmp_path / "robot", store={"lease_s": 60})
    now = datetime.now(UTC)
    moment = [now - timedelta(days=3)]
    with open_store(config.store_url, clock=lambda: moment[0]) as store:
        store.worker_seen("old:1:w1", run_id=None, state="stopped")  # stopped days ago: not listed
        moment[0] = now - timedelta(seconds=600)
        run = store.open_run({})
        store.add_work_items(run.id, [NewWorkItem(f"EB-2024-0000{i}", "2024-12", None) for i in (1, 2, 3)])
        lost = store.claim_next(run.id, "hostb:7:w1", 3600)  # a long lease, and then silence
        store.worker_seen("hostb:7:w1", run_id=run.id, state="working", case_id="EB-2024-00001")
        moment[0] = now - timedelta(seconds=5)
        held = store.claim_next(run.id, "hosta:5:w1", 60)
        store.worker_seen("hosta:5:w1", run_id=run.id, state="working", case_id="EB-2024-00002")
        assert (lost.case_id, held.case_id) == ("EB-2024-00001", "EB-2024-00002")  # type: ignore[union-attr]
        store.worker_seen("hosta:5:w2", run_id=run.id, state="idle")
        store.claim_next(run.id, "ghost:9:w1", 60)  # never reported itself
        assert lost is not None and held is not None
    path = write_config(config, tmp_path / "config.yaml")
    assert main(["status", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "workers: 2 alive, 3 shown" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("  ") and ":w" in line}
    assert set(rows) == {"hosta:5:w1", "hosta:5:w2", "hostb:7:w1", "ghost:9:w1"}
    assert rows["hosta:5:w1"][1:5] == ["working", "5", "s", "ago"] and rows["hosta:5:w1"][5] == held.case_id
    assert rows["hosta:5:w2"][1] == "idle" and rows["hosta:5:w2"][-1] == "-"
    assert rows["hostb:7:w1"][1] == "LOST" and rows["hostb:7:w1"][5] == lost.case_id
    assert rows["ghost:9:w1"][1:3] == ["?", "never"]


def test_a_held_case_is_listed_and_released_by_retry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = sandbox_config(tmp_path / "robot")
    with open_store(config.store_url) as store:
        run = store.open_run({})
        store.add_work_items(run.id, [NewWorkItem("EB-2026-00003", "2026-12", None)])
        item = store.claim_next(run.id, "w1", 60)
        assert item is not None
        store.fail(item, ErrorCode.INTERNAL_ERROR, "KeyError in step triage of case EB-2026-00003", retryable=False,
                   max_attempts=3, step="triage")
        store.finish_run(run.id, "finished")
    path = write_config(config, tmp_path / "config.yaml")
    assert main(["status", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "held for an operator" in out and "EB-2026-00003 2026-12  INTERNAL_ERROR" in out
    assert main(["retry", "EB-2026-00003", "--config", str(path), "--by", "drift1"]) == 0
    assert "released (INTERNAL_ERROR); it will be taken by the next night" in capsys.readouterr().out
    assert main(["retry", "EB-2026-00003", "--config", str(path)]) == 1  # nothing held any more
    assert "is not held" in capsys.readouterr().err
    with open_store(config.store_url) as store:
        assert store.held_items() == []
        assert any(e.code == "CASE_RELEASED" and "drift1" in e.message for e in store.events(run.id))
