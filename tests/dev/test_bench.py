"""The benchmark's own arithmetic and output (no timing here: the figures come from `casebot bench`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bot.dev.bench import BenchReport, Cell, PeakMemory, cpu_lines, markdown, percentile, write_results


def _cell(workers: int, latency: int, per_min: float) -> Cell:
    return Cell(cases=40, workers=workers, latency_ms=latency, wall_s=60.0, per_case_p50_s=1.2, per_case_p95_s=3.1,
                cases_per_min=per_min, peak_memory_mb=900, done=40, failed=0, errors={}, drift=0,
                oracle_differences=0)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 95) == 95 and percentile(values, 100) == 100
    assert percentile([4.0], 95) == 4.0 and percentile([], 50) is None


def test_results_are_written_as_json_and_a_table_with_speedups(tmp_path: Path) -> None:
    report = BenchReport("scaling-40c", "2026-11-26T01:00:00", {"cpu": "x", "cores": 2, "memory_gb": 24,
                                                                  "python": "3.11", "chromium": "Chromium 1"})
    report.cells = [_cell(1, 300, 10.0), _cell(2, 300, 19.0), _cell(4, 300, 36.0), _cell(8, 300, 61.0)]
    json_path, md_path = write_results(report, tmp_path)
    assert json_path.name == "2026-11-26-scaling-40c.json"
    assert json.loads(json_path.read_text())["cells"][3]["cases_per_min"] == 61.0
    table = md_path.read_text()
    assert table == markdown(report)
    assert "| 300 | 1.00× | 1.90× | 3.60× | 6.10× |" in table


def test_peak_memory_counts_this_process() -> None:
    with PeakMemory() as memory:
        memory.sample()
    assert memory.peak_bytes > 10 * 2**20


def test_process_cells_get_their_own_speedup_row(tmp_path: Path) -> None:
    report = BenchReport("processes-40c-0ms", "2026-11-26T01:00:00", {"cpu": "x", "cores": 2, "memory_gb": 24,
                                                                        "python": "3.11", "chromium": "Chromium 1"})
    for processes, per_min in ((1, 10.0), (2, 15.0), (4, 12.5)):
        cell = _cell(1, 0, per_min)
        cell.processes, cell.store = processes, "postgresql"
        report.cells.append(cell)
    table = markdown(report)
    assert "| 40 | web | 4 | 1 | postgresql | 0 |" in table
    assert "| 1 process | 2 processes | 4 processes |" in table and "| 1.00× | 1.50× | 1.25× |" in table
    assert "Throughput relative to one worker" not in table  # one worker per process: no worker scaling here


def test_cpu_per_case_says_what_two_cores_allow_at_best() -> None:
    # 40 cases used 96 CPU seconds in all: 2.4 CPU s a case, so 2 cores finish at most 2 × 60 / 2.4 = 50 a minute.
    cell = _cell(1, 0, 20.0)
    cell.cpu_s_by_kind = {"Chromium renderers": 48.0, "Chromium browser process": 24.0, "robot (Python)": 24.0}
    lines = cpu_lines(cell, cores=2)
    assert "2.40 CPU s, so at most 50 cases a minute on 2 cores (measured 20.0)" in lines[0]
    assert "| Chromium renderers | 48.0 | 1.200 | 50% |" in lines
    assert "| robot (Python) | 24.0 | 0.600 | 25% |" in lines


def test_cpu_is_counted_by_kind_of_process_from_the_first_sample() -> None:
    with PeakMemory() as memory:
        deadline = time.process_time() + 0.3
        while time.process_time() < deadline:  # burn CPU in this process, which is the robot's
            pass
    kinds = memory.cpu_by_kind()
    assert kinds["robot (Python)"] >= 0.2
