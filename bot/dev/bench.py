"""`casebot bench`: a whole night against a fresh sandbox, measured. A benchmark, not a test: it asserts nothing.

One cell = one sandbox seeded with N cases, `latency_ms` added to every agency request (the case system is
the municipality's own, on the LAN), one `run_once` with W workers, exactly as a night runs (preflight
included). Measured: per-case time p50/p95 (each case's attempt, start to parked, from the store), cases per
minute and wall time of the night, peak memory of the robot and its browsers (resident set of this process
and its Chromium children, sampled; the sandbox's processes left out), and the drift and error counts (a
benchmark night must have none). The oracle check says whether the fast night was also right.

`--processes`: the same night worked by 1, 2 and 4 robot *processes* (each `casebot run`/`casebot worker`
with one worker, its own folders and Chromium, as separate hosts would be) sharing one PostgreSQL database.

`--demo`: `casebot demo` timed whole, through its own code path, in a fresh folder (a row of kind "demo").

Results: `bench/results/<date>-<name>.json` (every figure, the machine it ran on) and `.md` (the table, and issue
20's targets judged from this report's rows: `bot/dev/targets.py`; `casebot bench --targets` judges several).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from bot.browser.launch import chromium_path
from bot.browser.profile import profiling
from bot.config import load_config, write_config
from bot.dev.measure import AGENCIES, percentile
from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_config, sandbox_environ, start_sandbox
from bot.dev.targets import console_lines, judge, markdown_table, rows_from_files, rows_of_report, targets_markdown
from bot.paths import PROJECT_ROOT
from bot.run.entry import run_once
from bot.store import WorkItem, open_store

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
SCALING_WORKERS = (1, 2, 4, 8)
SCALING_LATENCIES = (0, 300)
PROCESS_COUNTS = (1, 2, 4)
DEFAULT_PG_SERVER = os.environ.get("CASEBOT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")


@dataclass
class Cell:
    """One measured night."""

    cases: int
    workers: int  # per process
    latency_ms: int
    wall_s: float
    per_case_p50_s: float | None
    per_case_p95_s: float | None
    cases_per_min: float
    peak_memory_mb: float  # PSS, see PeakMemory
    done: int
    failed: int
    errors: dict[str, int]
    drift: int
    oracle_differences: int
    # The plain-HTTP floor on the same cases (`bot/dev/floor.py`), when measured.
    floor_wall_s: float | None = None
    floor_p50_s: float | None = None
    robot_over_floor: float | None = None
    # The Selenium peer on the same cases (`bot/dev/selenium_peer.py`), when measured.
    selenium_wall_s: float | None = None
    selenium_p50_s: float | None = None
    selenium_over_robot: float | None = None  # by per-case p50: how many times faster the robot is
    selenium_browser: str = ""  # the Chromium binary chromedriver drove (the robot's, for a fair comparison)
    processes: int = 1  # robot processes sharing the store (each with `workers` workers)
    store: str = "sqlite"
    channel: str = "web"  # the case system's: web, or desktop (its desktop client under Xvfb)
    browser: str = ""  # the Chromium binary the robot ran on
    pages_per_agency: int = 1
    recycle_after_cases: int = 0  # per worker
    # Per phase (bot/browser/profile.py): runs, wall time, page loads and Playwright calls, in total and per run.
    phases: dict[str, dict[str, float]] = field(default_factory=dict)
    # Memory over the night: (cases finished, MB) about every tenth of the night, and how far the peak after the
    # first 100 cases rose above the figure at the 100th (None for a night of 100 cases or fewer).
    memory_curve: list[tuple[int, int]] = field(default_factory=list)
    growth_after_100: float | None = None
    # CPU seconds of the night per kind of process (PeakMemory.cpu_by_kind), the sandbox included: on 2 cores the
    # night can go no faster than their sum per case allows.
    cpu_s_by_kind: dict[str, float] = field(default_factory=dict)
    kind: str = "night"  # or "demo": `casebot demo` timed whole (sandbox start, night, report, oracle check)


@dataclass
class BenchReport:
    name: str
    started: str
    machine: dict[str, Any]
    cells: list[Cell] = field(default_factory=list)


def machine() -> dict[str, Any]:
    """What the figures depend on: CPU, memory, Python, Chromium."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    try:
        chromium = subprocess.run([chromium_path(), "--version"], capture_output=True, text=True, timeout=30,
                                  check=False).stdout.strip()
    except OSError:
        chromium = "?"
    return {"host": platform.node(), "cpu": model, "cores": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1), "python": platform.python_version(),
            "chromium": chromium, "os": platform.platform()}


class PeakMemory:
    """Peak memory of this process and its children, less the processes under `exclude` (the sandbox), as the
    sum of their proportional set sizes (PSS): Chromium's processes share most of their pages, and summing
    resident sizes counted those once per process (a 2-worker night read 4.7 GB). Sampled every `interval_s` in
    a thread: renderers come and go between samples, so the figure is a close lower bound. Not more often: reading
    every Chromium process's PSS twice a second cost the night it measured 10 % of its throughput."""

    def __init__(self, exclude: Sequence[int] = (), interval_s: float = 2.0) -> None:
        self.exclude = set(exclude)
        self.interval_s = interval_s
        self.peak_bytes = 0
        self.samples: list[tuple[float, int]] = []  # (monotonic time, bytes): the curve over the night
        # CPU seconds (user + system) per process as last sampled, and what each had used when the night began.
        self._cpu: dict[int, tuple[str, float]] = {}
        self._cpu_at_start: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _excluded(self) -> set[int]:
        pids = set(self.exclude)
        for pid in self.exclude:
            with suppress(psutil.NoSuchProcess):
                pids.update(p.pid for p in psutil.Process(pid).children(recursive=True))
        return pids

    def sample(self) -> int:
        me = psutil.Process()
        excluded = self._excluded()
        total = 0
        first = not self._cpu
        for proc in [me, *me.children(recursive=True)]:
            with suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                times = proc.cpu_times()
                used = times.user + times.system
                # Classified once, while it runs: a process on its way out no longer shows its command line.
                kind = self._cpu[proc.pid][0] if proc.pid in self._cpu else process_kind(proc, me.pid, excluded)
                self._cpu[proc.pid] = (kind, used)
                if first:
                    self._cpu_at_start[proc.pid] = used
                if proc.pid in excluded:
                    continue
                info = proc.memory_full_info()
                total += getattr(info, "pss", info.rss)
        self.peak_bytes = max(self.peak_bytes, total)
        self.samples.append((time.monotonic(), total))
        return total

    def cpu_by_kind(self) -> dict[str, float]:
        """CPU seconds used since the first sample, per kind of process, most first. A process that ended between
        two samples lost up to `interval_s` of its CPU here (renderers of renewed contexts), so a lower bound."""
        kinds: dict[str, float] = {}
        for pid, (kind, used) in self._cpu.items():
            kinds[kind] = kinds.get(kind, 0.0) + used - self._cpu_at_start.get(pid, 0.0)
        return {k: round(v, 1) for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])}

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def __enter__(self) -> PeakMemory:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()  # the CPU up to the very end


def process_kind(proc: psutil.Process, robot_pid: int, sandbox: set[int]) -> str:
    """What a process of the night is, for the CPU table: the robot, Chromium's parts, Playwright's driver, the
    sandbox portals."""
    if proc.pid == robot_pid:
        return "robot (Python)"
    if proc.pid in sandbox:
        return "sandbox portals"
    try:
        cmdline = " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return "other"
    if "--type=renderer" in cmdline:
        return "Chromium renderers"
    if "chrom" in cmdline or "headless_shell" in cmdline:
        return "Chromium helpers (GPU, network, utility)" if "--type=" in cmdline else "Chromium browser process"
    if "playwright" in cmdline or proc.name() == "node":
        return "Playwright driver (Node)"
    return "other"


def memory_curve(samples: Sequence[tuple[float, int]], started: float, started_at: float,
                 items: Sequence[WorkItem], points: int = 10) -> tuple[list[tuple[int, int]], float | None]:
    """The memory samples against the cases finished by then, and the growth after the first 100 cases."""
    ends = sorted(i.ended.timestamp() - started_at for i in items if i.ended is not None)
    curve = [(sum(1 for e in ends if e <= t - started), round(b / 2**20)) for t, b in samples if t >= started]
    if not curve:
        return [], None
    step = max(1, len(curve) // points)
    shown = curve[::step] + ([curve[-1]] if (len(curve) - 1) % step else [])
    after = [mb for done, mb in curve if done >= 100]
    at_100 = next((mb for done, mb in curve if done >= 100), None)
    growth = round(max(after) / at_100 - 1, 3) if at_100 and len(ends) > 100 else None
    return shown, growth


@contextmanager
def fresh_sandbox(cases: int, seed: int, latency_ms: int) -> Iterator[tuple[Path, Sandbox]]:
    """A temporary folder and a sandbox in it seeded with `cases` (same seed, same cases), `latency_ms` added to
    every agency request."""
    with tempfile.TemporaryDirectory(prefix="casebot-bench-") as tmp:
        box = start_sandbox(Path(tmp) / "sandbox", cases=cases, seed=seed)
        try:
            for agency in AGENCIES:
                box.set_knobs(agency, latency_ms=latency_ms)
            yield Path(tmp), box
        finally:
            box.stop()


def measure_floor(cases: int, workers: int, latency_ms: int = 0, *, seed: int = 11) -> tuple[float, float | None]:
    """The plain-HTTP floor's wall time and per-case p50 for the same night (a fresh sandbox, same seed)."""
    from bot.dev.floor import run_floor

    with fresh_sandbox(cases, seed, latency_ms) as (_, box):
        floor = asyncio.run(run_floor(box, workers))
    if floor.oracle_differences:
        raise RuntimeError(f"the floor left {floor.oracle_differences} case(s) unlike the oracle: not a floor")
    return floor.wall_s, _r(floor.p50)


def measure_selenium(cases: int, workers: int, latency_ms: int = 0, *, seed: int = 11) -> tuple[float, float]:
    """The Selenium peer's wall time and per-case p50 for the same night (a fresh sandbox, same seed)."""
    from bot.dev.selenium_peer import run_peer

    with fresh_sandbox(cases, seed, latency_ms) as (_, box):
        wall, durations, differences = run_peer(box, workers)
    if differences:
        raise RuntimeError(f"the Selenium peer left {differences} case(s) unlike the oracle")
    return round(wall, 2), round(statistics.median(durations), 2)


def _handled(items: Sequence[WorkItem]) -> list[WorkItem]:
    return [i for i in items if i.state in ("done", "business_exception")]


def _cell(cases: int, workers: int, latency_ms: int, wall: float, items: Sequence[WorkItem], peak_bytes: int,
          failed: int, errors: dict[str, int], drift: int, differences: int, **extra: Any) -> Cell:
    handled = _handled(items)
    durations = [i.duration_ms / 1000 for i in handled if i.duration_ms is not None]
    return Cell(cases=cases, workers=workers, latency_ms=latency_ms, wall_s=round(wall, 2),
                per_case_p50_s=_r(statistics.median(durations) if durations else None),
                per_case_p95_s=_r(percentile(durations, 95)), cases_per_min=round(len(handled) / wall * 60, 1),
                peak_memory_mb=round(peak_bytes / 2**20), done=len(handled), failed=failed, errors=errors,
                drift=drift, oracle_differences=differences, **extra)


def measure_night(cases: int, workers: int, latency_ms: int = 0, *, seed: int = 11, desktop: bool = False,
                  pages_per_agency: int | None = None, recycle_after_cases: int | None = None) -> Cell:
    """Seed a sandbox, run one night with `workers`, and measure it. `desktop`: the case system's calculation
    screen and park through its desktop client, on a virtual screen started for the night."""
    from bot.dev.virtual_screen import client, xvfb

    with fresh_sandbox(cases, seed, latency_ms) as (home, box), contextlib.ExitStack() as screen:
        display = None
        if desktop:
            display = screen.enter_context(xvfb())
            screen.enter_context(client(box, display, home))
        browser = {k: v for k, v in (("pages_per_agency", pages_per_agency),
                                     ("recycle_after_cases", recycle_after_cases)) if v}
        config = sandbox_config(home / "robot", box, workers=workers, desktop_display=display, browser=browser)
        exclude = [box.process.pid] if box.process is not None else []
        with PeakMemory(exclude) as memory, profiling() as profile:
            started = time.monotonic()
            started_at = time.time()
            night = asyncio.run(run_once(config, environ={**os.environ, **sandbox_environ()}, console=False))
            wall = time.monotonic() - started
        curve, growth = memory_curve(memory.samples, started, started_at, night.items)
        differences = differences_from_oracle(box, [i.case_id for i in _handled(night.items)])
    summary = night.result.summary
    return _cell(cases, workers, latency_ms, wall, night.items, memory.peak_bytes, summary.by_state.get("failed", 0),
                 dict(summary.errors_by_code), len(night.result.drift), len(differences),
                 channel="desktop" if desktop else "web", browser=chromium_path(), phases=profile.per_run(),
                 pages_per_agency=config.browser.pages_per_agency, memory_curve=curve, growth_after_100=growth,
                 recycle_after_cases=config.browser.recycle_after_cases, cpu_s_by_kind=memory.cpu_by_kind())


def measure_processes(cases: int, processes: int, latency_ms: int = 0, *, seed: int = 11,
                      pg_server: str = DEFAULT_PG_SERVER) -> Cell:
    """One night on a scratch PostgreSQL database, worked by `processes` robot processes of one worker each: the
    leader (`casebot run`: preflight, inbox, report) and `processes - 1` `casebot worker`s, each with its own
    folders as on its own host. Timed from the start of the processes to the leader's exit (the night closed)."""
    from bot.store.postgres import scratch_database

    with fresh_sandbox(cases, seed, latency_ms) as (home, box), scratch_database(pg_server, "casebot_bench") as url:
        env = {**os.environ, **sandbox_environ()}
        configs = [write_config(sandbox_config(home / f"host{n}", box, workers=1, store={"url": url}),
                                home / f"host{n}" / "config.yaml") for n in range(processes)]
        cli = [sys.executable, "-m", "bot.cli"]
        exclude = [box.process.pid] if box.process is not None else []
        with PeakMemory(exclude) as memory:
            started = time.monotonic()
            # The workers wait for the leader's preflight and inbox; told to stop (SIGTERM) once it closed the night.
            joiners = [subprocess.Popen([*cli, "worker", "--config", str(c)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in configs[1:]]
            leader = subprocess.run([*cli, "run", "--config", str(configs[0])], env=env, capture_output=True,
                                    check=False)
            wall = time.monotonic() - started
            for joiner in joiners:
                joiner.terminate()
                joiner.wait(timeout=120)
        if leader.returncode not in (0, 1):
            raise RuntimeError(f"the leader exited {leader.returncode}: {leader.stderr.decode()[-2000:]}")
        with open_store(url) as store:
            (run,) = store.list_runs()
            items = store.items(run.id)
            summary = store.run_summary(run.id)
            drift = sum(1 for e in store.events(run.id) if e.code == "SELECTOR_DRIFT")
        differences = differences_from_oracle(box, [i.case_id for i in _handled(items)])
    return _cell(cases, 1, latency_ms, wall, items, memory.peak_bytes, summary.by_state.get("failed", 0),
                 dict(summary.errors_by_code), drift, len(differences), processes=processes, store="postgresql")


def measure_demo(cases: int = 50, workers: int = 2, *, seed: int = 1) -> Cell:
    """`casebot demo` as `cmd_demo` runs it (`run_demo`), in a fresh folder, timed whole: starting and seeding the
    sandbox, the night, the morning report and the oracle check. Not a fresh clone (the Python files are compiled
    and the packages installed already), so a close lower bound of what a new user waits. The demo's own console
    output is kept out of the bench's; failures and drift are read back from its store, the oracle differences
    from its oracle line. Its peak memory includes the sandbox, which the demo starts itself."""
    from bot.dev.demo import run_demo

    with tempfile.TemporaryDirectory(prefix="casebot-bench-demo-") as tmp:
        output = io.StringIO()
        with PeakMemory() as memory, contextlib.redirect_stdout(output):
            started = time.monotonic()
            run_demo(Path(tmp), cases=cases, seed=seed, workers=workers)
            wall = time.monotonic() - started
        config = load_config(Path(tmp) / "robot" / "config.yaml")
        with open_store(config.store_url) as store:
            (run,) = store.list_runs()
            items = store.items(run.id)
            summary = store.run_summary(run.id)
            drift = sum(1 for e in store.events(run.id) if e.code == "SELECTOR_DRIFT")
    oracle = re.search(r"oracle check: (\d+) of (\d+) handled", output.getvalue())
    if oracle is None:
        raise RuntimeError("the demo printed no oracle check: " + output.getvalue()[-2000:])
    differences = int(oracle[2]) - int(oracle[1])
    return _cell(cases, workers, 0, wall, items, memory.peak_bytes, summary.by_state.get("failed", 0),
                 dict(summary.errors_by_code), drift, differences, kind="demo", browser=chromium_path())


def cpu_lines(cell: Cell, cores: int) -> list[str]:
    """The night's CPU per case by process, and the throughput that CPU allows on `cores` at best."""
    handled = max(1, cell.done)
    total = sum(cell.cpu_s_by_kind.values())
    lines = [f"CPU per case ({cell.cases} cases, {cell.workers} worker(s), latency {cell.latency_ms} ms; all processes "
             f"of the night, the sandbox too): {total / handled:.2f} CPU s, so at most "
             f"{cores * 60 * handled / total if total else 0:.0f} cases a minute on {cores} cores "
             f"(measured {cell.cases_per_min}):", "",
             "| process | CPU s | CPU s per case | share |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {kind} | {seconds} | {seconds / handled:.3f} | {seconds / total:.0%} |"
              for kind, seconds in cell.cpu_s_by_kind.items() if total]
    return lines


def _dash(value: float | None) -> str:
    return "–" if value is None else f"{value}"


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def markdown(report: BenchReport) -> str:
    m = report.machine
    nights = [c for c in report.cells if c.kind != "demo"]
    lines = [f"# casebot bench: {report.name} ({report.started})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}; {m['chromium']}; "
             "sandbox on the same machine."]
    if nights:
        lines += ["", "| cases | channel | processes | workers | store | latency ms | wall s | per case p50 s | "
                      "p95 s | cases/min | peak MB | failed | drift | oracle diffs | HTTP floor wall s | "
                      "robot ÷ floor | Selenium p50 s | Selenium ÷ robot (p50) |",
                  "| ---: | --- |" + " ---: |" * 2 + " --- |" + " ---: |" * 13]
    for c in report.cells:
        if c.kind == "demo":
            lines += ["", f"`casebot demo` ({c.cases} cases, {c.workers} worker(s), fresh folder): wall {c.wall_s} s "
                          f"from the sandbox's start to the oracle check; per case p50 {c.per_case_p50_s} s, p95 "
                          f"{c.per_case_p95_s} s; peak {c.peak_memory_mb:.0f} MB with the sandbox; failed {c.failed}, "
                          f"drift {c.drift}, oracle differences {c.oracle_differences}."]
            continue
        lines.append(f"| {c.cases} | {c.channel} | {c.processes} | {c.workers} | {c.store} | {c.latency_ms} | "
                     f"{c.wall_s} | "
                     f"{c.per_case_p50_s} | "
                     f"{c.per_case_p95_s} | {c.cases_per_min} | {c.peak_memory_mb:.0f} | {c.failed} | {c.drift} | "
                     f"{c.oracle_differences} | {_dash(c.floor_wall_s)} | {_dash(c.robot_over_floor)} | "
                     f"{_dash(c.selenium_p50_s)} | {_dash(c.selenium_over_robot)} |")
    by_latency: dict[int, dict[int, Cell]] = {}
    for c in report.cells:
        if c.processes == 1 and c.channel == "web":
            by_latency.setdefault(c.latency_ms, {})[c.workers] = c
    by_processes = {c.processes: c for c in report.cells if c.store == "postgresql"}
    if 1 in by_processes and len(by_processes) > 1:
        base = by_processes[1].cases_per_min or 1
        lines += ["", "Throughput relative to one process (one PostgreSQL database shared):", "",
                  "| " + " | ".join(f"{p} process{'es' if p > 1 else ''}" for p in sorted(by_processes)) + " |",
                  "|" + " ---: |" * len(by_processes),
                  "| " + " | ".join(f"{by_processes[p].cases_per_min / base:.2f}×" for p in sorted(by_processes))
                  + " |"]
    for c in report.cells:
        if c.memory_curve:
            lines += ["", f"Memory over the night ({c.cases} cases, {c.workers} worker(s)): "
                          + ", ".join(f"{done} cases {mb} MB" for done, mb in c.memory_curve)
                          + ("" if c.growth_after_100 is None else
                             f"; after the first 100 cases the peak rose {c.growth_after_100:.1%} above the figure at "
                             "the 100th")]
        if c.cpu_s_by_kind:
            lines += ["", *cpu_lines(c, report.machine.get("cores") or 1)]
        if c.phases:
            lines += ["", f"Where the time goes: {c.cases} cases, {c.workers} worker(s), latency {c.latency_ms} ms, "
                          f"on `{c.browser}`"
                          + (f" (the Selenium peer on `{c.selenium_browser}`)" if c.selenium_browser else "")
                          + " (phases nest: a login is inside the look-up that needed it):", "",
                      "| phase | runs | wall s | s per run | page loads per run | Playwright calls per run |",
                      "| --- | ---: | ---: | ---: | ---: | ---: |"]
            lines += [f"| {name} | {f['runs']} | {f['wall_s']} | {f['wall_per_run_s']} | {f['loads_per_run']} | "
                      f"{f['calls_per_run']} |" for name, f in c.phases.items()]
    scaling = {lat: cells for lat, cells in by_latency.items() if 1 in cells and len(cells) > 1}
    if scaling:
        lines += ["", "Throughput relative to one worker:", "",
                  "| latency ms | " + " | ".join(f"W={w}" for w in SCALING_WORKERS) + " |",
                  "| ---: |" + " ---: |" * len(SCALING_WORKERS)]
        for lat, cells in sorted(scaling.items()):
            base = cells[1].cases_per_min or 1
            row = [f"{cells[w].cases_per_min / base:.2f}×" if w in cells else "–" for w in SCALING_WORKERS]
            lines.append(f"| {lat} | " + " | ".join(row) + " |")
    lines += ["", "Targets (issue 20), judged from this report's figures alone (`casebot bench --targets FILE...` "
                  "judges several reports together):", "",
              *markdown_table(judge(rows_of_report(asdict(report))))]
    return "\n".join(lines) + "\n"


def write_results(report: BenchReport, results_dir: Path = RESULTS_DIR) -> tuple[Path, Path]:
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{report.started[:10]}-{report.name}"
    json_path, md_path = results_dir / f"{stem}.json", results_dir / f"{stem}.md"
    json_path.write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md_path.write_text(markdown(report), encoding="utf-8")
    return json_path, md_path


def run_bench(cells: Sequence[tuple[int, int, int]], name: str, *, seed: int = 11, floor: bool = False,
              selenium: bool = False, processes: bool = False, desktop: bool = False,
              results_dir: Path = RESULTS_DIR, pages_per_agency: int | None = None,
              recycle_after_cases: int | None = None,
              demo: tuple[int, int] | None = None) -> tuple[BenchReport, Path, Path]:
    """Measure each (cases, workers, latency_ms) in turn (never two at once: they would share the 2 cores). With
    `processes`, the middle figure is the number of robot processes on one PostgreSQL database instead. `demo`:
    (cases, workers) of a timed `casebot demo`, after the nights."""
    report = BenchReport(name, datetime.now().isoformat(timespec="seconds"), machine())
    for cases, workers, latency in cells:
        what = f"{workers} process(es) on PostgreSQL" if processes else f"{workers} worker(s)"
        print(f"bench {name}: {cases} cases, {what}, latency {latency} ms …", flush=True)
        cell = (measure_processes(cases, workers, latency, seed=seed) if processes
                else measure_night(cases, workers, latency, seed=seed, pages_per_agency=pages_per_agency,
                                   recycle_after_cases=recycle_after_cases))
        if desktop:  # the same night with the case system's desktop client, beside the web one
            report.cells.append(cell)
            cell = measure_night(cases, workers, latency, seed=seed, desktop=True, pages_per_agency=pages_per_agency)
        report.cells.append(cell)
        print(f"  wall {cell.wall_s} s, p50 {cell.per_case_p50_s} s, p95 {cell.per_case_p95_s} s, "
              f"{cell.cases_per_min} cases/min, peak {cell.peak_memory_mb:.0f} MB, failed {cell.failed}, "
              f"drift {cell.drift}, oracle differences {cell.oracle_differences}", flush=True)
        if floor:
            cell.floor_wall_s, cell.floor_p50_s = measure_floor(cases, workers, latency, seed=seed)
            cell.robot_over_floor = round(cell.wall_s / cell.floor_wall_s, 2) if cell.floor_wall_s else None
            print(f"  plain-HTTP floor: wall {cell.floor_wall_s} s, p50 {cell.floor_p50_s} s", flush=True)
        if selenium:
            cell.selenium_wall_s, cell.selenium_p50_s = measure_selenium(cases, workers, latency, seed=seed)
            cell.selenium_browser = chromium_path()  # what selenium_peer._browser gives chromedriver
            if cell.per_case_p50_s:
                cell.selenium_over_robot = round(cell.selenium_p50_s / cell.per_case_p50_s, 2)
            print(f"  Selenium peer: wall {cell.selenium_wall_s} s, p50 {cell.selenium_p50_s} s", flush=True)
        write_results(report, results_dir)  # after every cell: a long grid interrupted keeps what it measured
    if demo is not None:
        print(f"bench {name}: casebot demo, {demo[0]} cases, {demo[1]} worker(s) …", flush=True)
        cell = measure_demo(*demo)
        report.cells.append(cell)
        print(f"  wall {cell.wall_s} s, failed {cell.failed}, drift {cell.drift}, oracle differences "
              f"{cell.oracle_differences}", flush=True)
    json_path, md_path = write_results(report, results_dir)
    return report, json_path, md_path


def judge_results(patterns: Sequence[str], results_dir: Path = RESULTS_DIR,
                  write: bool = False) -> tuple[list[str], Path | None]:
    """Issue 20's targets judged from saved results files together (no new night): the console table, and with
    `write` the Markdown table in `<results_dir>/<date>-targets.md`, dated by the latest report judged."""
    rows, paths = rows_from_files(patterns)
    verdicts = judge(rows)
    lines = [f"Targets (issue 20) from {len(paths)} results file(s):", *console_lines(verdicts)]
    if not write:
        return lines, None
    day = max((str(r.get("started") or "")[:10] for r in rows), default="") or datetime.now().date().isoformat()
    path = results_dir / f"{day}-targets.md"
    path.write_text(targets_markdown(verdicts, [p.name for p in paths]), encoding="utf-8")
    return lines, path


def scaling_cells(cases: int) -> list[tuple[int, int, int]]:
    return [(cases, w, lat) for lat in SCALING_LATENCIES for w in SCALING_WORKERS]


def process_cells(cases: int, latency_ms: int) -> list[tuple[int, int, int]]:
    return [(cases, p, latency_ms) for p in PROCESS_COUNTS]
