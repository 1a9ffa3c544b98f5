"""Issue 20's performance targets, and which of them a set of bench results meets. Pure: rows in, verdicts out.

A row is one measured night as the bench writes it (a `Cell` of `bot/dev/bench.py`, as a dict: the JSON's
`cells`), plus optional `source` (the results file it came from), `started` and `cores` (from the report). A row
of `kind` "demo" is a timed `casebot demo`; any other is a night.

A figure counts only from a valid row: every case handled, none failed, no oracle difference and no selector drift
(a faster robot that reads less is not faster). Among several valid rows that fit a target, the one judged is from
the latest day's results (the robot changes between rounds), then the largest night, then the latest: never the
best figure, which would pick the lucky run.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Row = Mapping[str, Any]
Status = Literal["met", "missed", "not measured"]


@dataclass(frozen=True)
class Target:
    id: str
    text: str
    measured: str  # how the figure is taken
    threshold: float
    comparison: Literal["<=", ">="]
    unit: str  # "s", "×", "MB", "%" (the threshold and figure in this unit)

    @property
    def threshold_text(self) -> str:
        value = f"{self.threshold:.0%}" if self.unit == "%" else f"{self.threshold:g} {self.unit}".replace(" ×", "×")
        return f"{'≤' if self.comparison == '<=' else '≥'} {value}"

    def meets(self, value: float) -> bool:
        return value <= self.threshold if self.comparison == "<=" else value >= self.threshold


@dataclass(frozen=True)
class Verdict:
    target: Target
    status: Status
    figure: str
    source: str  # which result(s) the figure came from; "" when not measured


TARGETS: tuple[Target, ...] = (
    Target("T1", "per case p50 at latency 0, one worker", "per-case p50 of a 1-worker night at 0 ms", 1.5, "<=", "s"),
    Target("T2", "per case p95 at latency 0, one worker", "per-case p95 of the same night", 4.0, "<=", "s"),
    Target("T3", "robot ÷ plain-HTTP floor at latency 0, one worker",
           "wall time over the floor's on the same cases (a night with --floor)", 2.5, "<=", "×"),
    Target("T4", "faster per case than the Selenium peer on the same binary",
           "the peer's per-case p50 over the robot's (a night with --selenium)", 2.0, ">=", "×"),
    Target("T5", "4 workers' throughput over one's at 300 ms",
           "cases/min of a 4-worker night over a 1-worker night, 300 ms, same case count", 2.0, ">=", "×"),
    Target("T6", "4 workers within the floor's wall time with 4 workers at 300 ms",
           "wall time over the floor's, 4 workers, 300 ms (a night with --floor)", 2.0, "<=", "×"),
    Target("T7", "1,000 cases at latency 0", "wall time of a night of 1,000 cases or more, per 1,000 cases",
           15.0, "<=", "min"),
    Target("T8", "peak memory at 4 workers", "the highest peak (PSS) of any 4-worker night", 1500.0, "<=", "MB"),
    Target("T9", "memory growth after the first 100 cases",
           "the peak after the 100th case over the figure at the 100th (growth_after_100)", 0.10, "<=", "%"),
    Target("T10", "`casebot demo` (50 cases) wall time", "a timed `casebot demo` (casebot bench --demo)",
           60.0, "<=", "s"),
)


def problems(row: Row) -> list[str]:
    """Why a row's figures do not count (empty: they do)."""
    found = []
    cases, done = row.get("cases"), row.get("done")
    if cases is not None and done is not None and done < cases:
        found.append(f"{done} of {cases} cases handled")
    for key, label in (("failed", "failed"), ("oracle_differences", "oracle difference(s)"), ("drift", "drift")):
        if row.get(key):
            found.append(f"{row[key]} {label}")
    return found


def source(row: Row) -> str:
    name = str(row.get("source") or f"{row.get('cases')} cases, {row.get('workers')} worker(s), "
                                    f"{row.get('latency_ms')} ms")
    # The targets are for 2 cores: a figure from another machine is shown, but says where it came from.
    cores = row.get("cores")
    return name if cores in (None, 2) else f"{name} ({cores} cores)"


def _night(row: Row) -> bool:
    """A night of the robot as a night runs: one process, the web channel (the desktop client and several processes
    on PostgreSQL are other questions)."""
    return (row.get("kind", "night") == "night" and row.get("processes", 1) == 1
            and row.get("channel", "web") == "web")


def _day(row: Row) -> str:
    return str(row.get("started") or "")[:10]


def _rank(row: Row) -> tuple[str, int, str]:
    return _day(row), int(row.get("cases") or 0), str(row.get("started") or "")


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class _Single:
    """A target judged from one row: those that `fit` and have a `value`, the largest valid one judged."""

    fits: Callable[[Row], bool]
    value: Callable[[Row], float | None]
    figure: Callable[[Row, float], str]
    rank: Callable[[Row], tuple[Any, ...]] = lambda r: _rank(r)


def _ratio(a: Any, b: Any) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def _at(latency: int, workers: int | None = None) -> Callable[[Row], bool]:
    return lambda r: _night(r) and r.get("latency_ms") == latency and (workers is None or r.get("workers") == workers)


def _same_binary(row: Row) -> bool:
    other = row.get("selenium_browser")
    return not other or not row.get("browser") or other == row.get("browser")


_SINGLE: dict[str, _Single] = {
    "T1": _Single(_at(0, 1), lambda r: r.get("per_case_p50_s"), lambda r, v: f"{_num(v)} s"),
    "T2": _Single(_at(0, 1), lambda r: r.get("per_case_p95_s"), lambda r, v: f"{_num(v)} s"),
    "T3": _Single(_at(0, 1), lambda r: _ratio(r.get("wall_s"), r.get("floor_wall_s")),
                  lambda r, v: f"{v:.2f}× ({_num(r['wall_s'])} s ÷ floor {_num(r['floor_wall_s'])} s)"),
    "T4": _Single(lambda r: _night(r) and _same_binary(r),
                  lambda r: _ratio(r.get("selenium_p50_s"), r.get("per_case_p50_s")),
                  lambda r, v: f"{v:.2f}× (Selenium p50 {_num(r['selenium_p50_s'])} s ÷ robot "
                               f"{_num(r['per_case_p50_s'])} s, {r.get('workers')} w, {r.get('latency_ms')} ms)",
                  # The peer's comparison is about the browser's cost: latency 0 and one worker show it best.
                  lambda r: (r.get("latency_ms") == 0, r.get("workers") == 1, *_rank(r))),
    "T6": _Single(_at(300, 4), lambda r: _ratio(r.get("wall_s"), r.get("floor_wall_s")),
                  lambda r, v: f"{v:.2f}× ({_num(r['wall_s'])} s ÷ floor {_num(r['floor_wall_s'])} s)"),
    "T7": _Single(lambda r: _night(r) and r.get("latency_ms") == 0 and (r.get("cases") or 0) >= 1000,
                  lambda r: None if r.get("wall_s") is None else round(r["wall_s"] * 1000 / r["cases"] / 60, 1),
                  lambda r, v: f"{v:.1f} min per 1,000 cases ({r['cases']} cases, {r.get('workers')} w, "
                               f"{_num(r['wall_s'])} s)"),
    "T9": _Single(_night, lambda r: r.get("growth_after_100"),
                  lambda r, v: f"{v:+.1%} ({r.get('cases')} cases, {r.get('workers')} w)"),
    "T10": _Single(lambda r: r.get("kind") == "demo" and (r.get("cases") or 0) >= 50, lambda r: r.get("wall_s"),
                   lambda r, v: f"{_num(v)} s ({r.get('cases')} cases, {r.get('workers')} w)"),
}

_NOT_MEASURED_HOW = {
    "T3": "no 1-worker night at 0 ms with --floor",
    "T4": "no night with --selenium",
    "T5": "no 1-worker and 4-worker nights at 300 ms with the same case count",
    "T6": "no 4-worker night at 300 ms with --floor",
    "T7": "no night of 1,000 cases at 0 ms",
    "T8": "no 4-worker night",
    "T9": "no night of more than 100 cases",
    "T10": "no timed demo of 50 cases: casebot bench --demo, or time `casebot demo`",
}


def _not_valid(target: Target, rows: Sequence[Row]) -> Verdict:
    """Rows fit but none counts: say which one and why, so the table does not read as if nothing was run."""
    row = max(rows, key=_rank)
    return Verdict(target, "not measured", "not valid: " + ", ".join(problems(row)), source(row))


def _nothing(target: Target) -> Verdict:
    return Verdict(target, "not measured", _NOT_MEASURED_HOW.get(target.id, "no 1-worker night at 0 ms"), "")


def _judge_single(target: Target, how: _Single, rows: Sequence[Row]) -> Verdict:
    fitting = [r for r in rows if how.fits(r) and how.value(r) is not None]
    valid = [r for r in fitting if not problems(r)]
    if not valid:
        return _not_valid(target, fitting) if fitting else _nothing(target)
    row = max(valid, key=how.rank)
    value = how.value(row)
    assert value is not None
    return Verdict(target, "met" if target.meets(value) else "missed", how.figure(row, value), source(row))


def _pair_rank(pair: tuple[Row, Row]) -> tuple[Any, ...]:
    one, four = pair
    return min(_day(one), _day(four)), *_rank(four), *_rank(one)


def _judge_scaling(target: Target, rows: Sequence[Row]) -> Verdict:
    """T5: a 1-worker and a 4-worker night at 300 ms with the same case count, both valid."""
    ones = [r for r in rows if _at(300, 1)(r) and r.get("cases_per_min")]
    fours = [r for r in rows if _at(300, 4)(r) and r.get("cases_per_min")]
    # The same cases on the same store and browser: otherwise the ratio measures the difference between those.
    pairs = [(one, four) for four in fours for one in ones
             if all(one.get(k) == four.get(k) for k in ("cases", "store", "browser"))]
    valid = [(one, four) for one, four in pairs if not problems(one) and not problems(four)]
    if not valid:
        if not pairs:
            return _nothing(target)
        one, four = max(pairs, key=_pair_rank)
        bad = one if problems(one) else four
        return Verdict(target, "not measured", f"not valid ({bad.get('workers')} w): " + ", ".join(problems(bad)),
                       f"{source(one)} + {source(four)}")
    one, four = max(valid, key=_pair_rank)
    value = round(four["cases_per_min"] / one["cases_per_min"], 2)
    figure = (f"{value:.2f}× ({_num(four['cases_per_min'])} ÷ {_num(one['cases_per_min'])} cases/min, "
              f"{four.get('cases')} cases)")
    return Verdict(target, "met" if target.meets(value) else "missed", figure, f"{source(one)} + {source(four)}")


def _judge_memory(target: Target, rows: Sequence[Row]) -> Verdict:
    """T8: every valid 4-worker night of the latest day's results must stay under; the highest peak is the figure."""
    fitting = [r for r in rows if _night(r) and r.get("workers") == 4 and r.get("peak_memory_mb") is not None]
    valid = [r for r in fitting if not problems(r)]
    if not valid:
        return _not_valid(target, fitting) if fitting else _nothing(target)
    latest = max(_day(r) for r in valid)
    row = max((r for r in valid if _day(r) == latest), key=lambda r: (r["peak_memory_mb"], *_rank(r)))
    value = float(row["peak_memory_mb"])
    figure = f"{value:.0f} MB ({row.get('cases')} cases, {row.get('latency_ms')} ms)"
    return Verdict(target, "met" if target.meets(value) else "missed", figure, source(row))


def judge(rows: Sequence[Row]) -> list[Verdict]:
    """Every target's verdict from these rows, in the targets' order."""
    verdicts = []
    for target in TARGETS:
        if target.id == "T5":
            verdicts.append(_judge_scaling(target, rows))
        elif target.id == "T8":
            verdicts.append(_judge_memory(target, rows))
        else:
            verdicts.append(_judge_single(target, _SINGLE[target.id], rows))
    return verdicts


def rows_of_report(report: Mapping[str, Any], name: str | None = None) -> list[dict[str, Any]]:
    """A bench report (as its JSON) as rows: each cell with the report's name (and the cell's place when there are
    several) as its source, and when it started."""
    cells = report.get("cells", [])
    label = name or f"{str(report.get('started', ''))[:10]}-{report.get('name', '?')}"
    return [{**cell, "source": label if len(cells) == 1 else f"{label} #{n}",
             "started": report.get("started", ""), "cores": report.get("machine", {}).get("cores")}
            for n, cell in enumerate(cells, 1)]


def rows_from_files(patterns: Sequence[str]) -> tuple[list[dict[str, Any]], list[Path]]:
    """The rows of every results file the paths or glob patterns name (in name order), and the files read."""
    paths = sorted({Path(p) for pattern in patterns for p in (glob.glob(pattern) or [pattern])})
    rows: list[dict[str, Any]] = []
    for path in paths:
        rows += rows_of_report(json.loads(path.read_text(encoding="utf-8")), path.stem)
    return rows, paths


def markdown_table(verdicts: Sequence[Verdict]) -> list[str]:
    lines = ["| target | threshold | figure | status | source |", "| --- | --- | --- | --- | --- |"]
    for v in verdicts:
        lines.append(f"| {v.target.id} {v.target.text} | {v.target.threshold_text} | {v.figure} | "
                     f"{'**' + v.status + '**' if v.status == 'missed' else v.status} | {v.source or '–'} |")
    return lines


def console_lines(verdicts: Sequence[Verdict]) -> list[str]:
    width = max(len(f"{v.target.id} {v.target.text}") for v in verdicts)
    return [f"{v.target.id + ' ' + v.target.text:<{width}}  {v.target.threshold_text:<9}  {v.status:<12}  "
            f"{v.figure}" + (f"  [{v.source}]" if v.source else "") for v in verdicts]


def targets_markdown(verdicts: Sequence[Verdict], sources: Sequence[str]) -> str:
    """The targets' table as its own file (`casebot bench --targets ... --write`)."""
    met = sum(v.status == "met" for v in verdicts)
    missed = sum(v.status == "missed" for v in verdicts)
    lines = ["# casebot bench: issue 20's targets", "",
             f"Judged from {', '.join(f'`{s}`' for s in sources) or 'no results'}: {met} met, {missed} missed, "
             f"{len(verdicts) - met - missed} not measured. A figure counts only from a night with every case "
             "handled, none failed, no oracle difference and no drift; among several that fit, the latest day's, "
             "then the largest, then the latest night is judged. Targets on 2 cores, the sandbox on the same "
             "machine.", "",
             *markdown_table(verdicts), ""]
    return "\n".join(lines)
