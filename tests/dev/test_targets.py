"""Issue 20's targets judged from bench rows built by hand (no timing: the figures are made up)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.dev.bench import BenchReport, Cell, judge_results, markdown
from bot.dev.targets import TARGETS, Verdict, judge, rows_of_report


def night(cases: int = 20, workers: int = 1, latency_ms: int = 0, **figures: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"cases": cases, "workers": workers, "latency_ms": latency_ms, "wall_s": 40.0,
                           "per_case_p50_s": 1.2, "per_case_p95_s": 3.0, "cases_per_min": 30.0,
                           "peak_memory_mb": 1200, "done": cases, "failed": 0, "drift": 0, "oracle_differences": 0,
                           "processes": 1, "channel": "web", "store": "sqlite", "browser": "/usr/bin/shell",
                           "started": "2026-12-06T01:00:00", "source": f"n{cases}-{workers}w-{latency_ms}ms"}
    return {**row, **figures}


def verdicts(rows: list[dict[str, Any]]) -> dict[str, Verdict]:
    return {v.target.id: v for v in judge(rows)}


def statuses(rows: list[dict[str, Any]]) -> dict[str, str]:
    return {k: v.status for k, v in verdicts(rows).items()}


def test_nothing_given_measures_nothing() -> None:
    assert set(statuses([]).values()) == {"not measured"}
    assert [t.id for t in TARGETS] == [f"T{n}" for n in range(1, 11)]


def test_one_worker_night_at_latency_0_meets_and_misses_t1_to_t3() -> None:
    good = verdicts([night(floor_wall_s=20.0)])  # 40 s ÷ 20 s = 2.0×
    assert [good[t].status for t in ("T1", "T2", "T3")] == ["met"] * 3
    assert good["T1"].figure == "1.2 s" and good["T1"].source == "n20-1w-0ms"
    assert good["T3"].figure.startswith("2.00×")
    slow = verdicts([night(per_case_p50_s=1.99, per_case_p95_s=4.2, floor_wall_s=10.0)])
    assert [slow[t].status for t in ("T1", "T2", "T3")] == ["missed"] * 3
    assert slow["T3"].figure.startswith("4.00×")
    # The wrong latency or worker count is not this target's measurement.
    assert statuses([night(latency_ms=300), night(workers=2)])["T1"] == "not measured"
    assert statuses([night()])["T3"] == "not measured"  # no floor measured


def test_a_night_with_a_failure_or_an_oracle_difference_never_meets_anything() -> None:
    perfect = {"floor_wall_s": 40.0, "selenium_p50_s": 9.0, "growth_after_100": 0.0}
    for flaw in ({"failed": 1}, {"oracle_differences": 1}, {"drift": 2}, {"done": 19}):
        rows = [night(**perfect, **flaw), night(300, 1, 300, **flaw), night(300, 4, 300, **perfect, **flaw),
                night(1000, 4, 0, wall_s=60.0, **flaw), {**night(50, 2, **flaw), "kind": "demo"}]
        judged = verdicts(rows)
        assert all(v.status == "not measured" for v in judged.values()), flaw
        assert judged["T1"].figure.startswith("not valid: ") and judged["T1"].source == "n20-1w-0ms"
    # A valid night beside the flawed one is the one judged.
    judged = verdicts([night(per_case_p50_s=0.5, oracle_differences=3), night(per_case_p50_s=1.4, cases=10)])
    assert judged["T1"].status == "met" and judged["T1"].figure == "1.4 s"


def test_the_latest_largest_night_is_judged_not_the_best_figure() -> None:
    rows = [night(20, per_case_p50_s=1.0), night(40, per_case_p50_s=1.7),
            night(60, per_case_p50_s=1.1, started="2026-11-26T01:00:00")]
    assert verdicts(rows)["T1"].figure == "1.7 s" and verdicts(rows)["T1"].status == "missed"


def test_selenium_peer_ratio() -> None:
    assert verdicts([night(selenium_p50_s=3.0)])["T4"].status == "met"  # 3.0 ÷ 1.2 = 2.5×
    missed = verdicts([night(selenium_p50_s=1.8)])["T4"]
    assert missed.status == "missed" and missed.figure.startswith("1.50×")
    other_binary = night(selenium_p50_s=9.0, selenium_browser="/usr/bin/chromium")
    assert verdicts([other_binary])["T4"].status == "not measured"


def test_scaling_pairs_one_and_four_workers_at_300_ms_with_the_same_cases() -> None:
    one, four = night(24, 1, 300, cases_per_min=13.6), night(24, 4, 300, cases_per_min=29.6)
    met = verdicts([one, four])["T5"]
    assert met.status == "met" and met.figure.startswith("2.18×") and met.source == "n24-1w-300ms + n24-4w-300ms"
    assert verdicts([one, {**four, "cases_per_min": 20.0}])["T5"].status == "missed"
    # Different case counts, another store, or another latency: no pair.
    assert statuses([one, night(30, 4, 300, cases_per_min=40.0)])["T5"] == "not measured"
    assert statuses([one, {**four, "store": "postgresql"}])["T5"] == "not measured"
    assert statuses([night(24, 1, 0, cases_per_min=13.6), four])["T5"] == "not measured"
    # Of two pairs, the larger night's; a pair with a failed side is not valid.
    larger = [night(40, 1, 300, cases_per_min=10.0), night(40, 4, 300, cases_per_min=15.0)]
    assert verdicts([one, four, *larger])["T5"].status == "missed"
    flawed = verdicts([one, {**four, "failed": 2}])["T5"]
    assert flawed.status == "not measured" and "2 failed" in flawed.figure


def test_four_workers_against_the_floor_at_300_ms() -> None:
    assert statuses([night(24, 4, 300, wall_s=40.0, floor_wall_s=25.0)])["T6"] == "met"
    assert statuses([night(24, 4, 300, wall_s=60.0, floor_wall_s=25.0)])["T6"] == "missed"
    assert statuses([night(24, 4, 0, wall_s=40.0, floor_wall_s=25.0)])["T6"] == "not measured"


def test_a_thousand_cases_in_fifteen_minutes() -> None:
    met = verdicts([night(1000, 4, wall_s=840.0)])["T7"]
    assert met.status == "met" and met.figure.startswith("14.0 min")
    assert statuses([night(1000, 4, wall_s=1997.0)])["T7"] == "missed"
    assert statuses([night(999, 4, wall_s=60.0)])["T7"] == "not measured"


def test_peak_memory_is_the_highest_of_the_four_worker_nights() -> None:
    rows = [night(24, 4, 300, peak_memory_mb=1400), night(1000, 4, 0, peak_memory_mb=1600),
            night(20, 1, peak_memory_mb=3000)]
    missed = verdicts(rows)["T8"]
    assert missed.status == "missed" and missed.figure.startswith("1600 MB") and missed.source == "n1000-4w-0ms"
    assert statuses(rows[:1])["T8"] == "met"
    assert statuses(rows[2:])["T8"] == "not measured"


def test_memory_growth_after_the_first_100_cases() -> None:
    assert statuses([night(1000, 4, growth_after_100=0.08)])["T9"] == "met"
    missed = verdicts([night(1000, 4, growth_after_100=0.127)])["T9"]
    assert missed.status == "missed" and missed.figure.startswith("+12.7%")
    assert statuses([night(20, 1, growth_after_100=None)])["T9"] == "not measured"


def test_the_demo_row_judges_t10_and_nothing_else() -> None:
    demo = {**night(50, 2, wall_s=55.0, per_case_p50_s=0.1), "kind": "demo"}
    judged = statuses([demo])
    assert judged["T10"] == "met" and judged["T1"] == "not measured"
    assert statuses([{**demo, "wall_s": 134.0}])["T10"] == "missed"
    assert statuses([night(50, 2, wall_s=30.0)])["T10"] == "not measured"  # a night is not the demo
    assert statuses([{**demo, "cases": 3}])["T10"] == "not measured"  # nor a smaller demo
    assert verdicts([{**demo, "cores": 8}])["T10"].source == "n50-2w-0ms (8 cores)"


def test_the_bench_table_and_the_saved_files_are_judged(tmp_path: Path) -> None:
    cell = Cell(cases=20, workers=1, latency_ms=0, wall_s=40.0, per_case_p50_s=1.99, per_case_p95_s=3.47,
                cases_per_min=30.0, peak_memory_mb=1268, done=20, failed=0, errors={}, drift=0,
                oracle_differences=0, floor_wall_s=16.34)
    report = BenchReport("today-20c-1w-0ms", "2026-12-06T01:36:08", {"cpu": "x", "cores": 2, "memory_gb": 24,
                                                                       "python": "3.11", "chromium": "C 1"})
    report.cells = [cell]
    table = markdown(report)
    assert "| T1 per case p50 at latency 0, one worker | ≤ 1.5 s | 1.99 s | **missed** | " \
           "2026-12-06-today-20c-1w-0ms |" in table
    assert "| T2 per case p95 at latency 0, one worker | ≤ 4 s | 3.47 s | met |" in table
    assert rows_of_report(asdict(report))[0]["source"] == "2026-12-06-today-20c-1w-0ms"

    (tmp_path / "2026-12-06-today.json").write_text(json.dumps(asdict(report)))
    lines, written = judge_results([str(tmp_path / "*.json")], tmp_path, write=True)
    assert written == tmp_path / "2026-12-06-targets.md"
    assert any(line.startswith("T1 ") and "missed" in line for line in lines)
    assert "| T3 robot ÷ plain-HTTP floor at latency 0, one worker | ≤ 2.5× | 2.45× " in written.read_text()
