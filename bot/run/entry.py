"""What `casebot run` and `casebot demo` share: credentials, logging, the store, the run, the morning report."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from loguru import logger

from bot.config import Config
from bot.credentials import resolve_all
from bot.errors import EXPIRY_WARNING_CODES, CasebotError
from bot.log import new_run_id, setup_logging
from bot.report import OUTCOME_LABELS, build_morning_report
from bot.run.night import Night, RunOptions, RunResult
from bot.store import WorkItem, open_store
from bot.store.models import Event


@dataclass
class NightReport:
    result: RunResult
    report_path: Path
    log_path: Path
    items: list[WorkItem]  # the run's work items as the store holds them at the end
    # Warnings of something running out (EXPIRY_WARNING_CODES: a certificate), which the alert repeats.
    expiry_warnings: list[Event] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0: every case prepared or handed to a human; 1: some cases failed; 2: the run was stopped early."""
        if self.result.stopped_by is not None:
            return 2
        return 1 if self.result.summary.by_state.get("failed", 0) else 0


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGTERM/SIGINT: finish the case in hand, then stop; the next run continues from there."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Not available off the main thread (tests): there the caller sets the event itself.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def _relay(source: threading.Event, target: asyncio.Event) -> None:
    """Carry a stop request from another thread (the scheduler's signal handler) into the run's event loop."""
    while not source.is_set():
        await asyncio.sleep(0.2)
    target.set()


async def run_once(config: Config, *, environ: Mapping[str, str] | None = None, limit: int | None = None,
                   console: bool = True, console_level: str = "INFO",
                   on_progress: Callable[[int, int], None] | None = None,
                   stop_taking_at: datetime | None = None, stop: threading.Event | None = None) -> NightReport:
    store = open_store(config.store_url)
    try:
        unfinished = store.latest_unfinished_run()
        run_id = unfinished.id if unfinished else new_run_id()
        logs = setup_logging(config.log_dir, run_id, console=console, console_level=console_level,
                             retention_days=config.retention.logs_days)
        try:
            passwords = resolve_all(config, environ)
            options = RunOptions(limit=limit, run_id=run_id, on_progress=on_progress, stop_taking_at=stop_taking_at)
            install_stop_signals(options.stop)
            relay = asyncio.create_task(_relay(stop, options.stop)) if stop is not None else None
            try:
                result = await Night(config, store, passwords, options=options, environ=environ).run()
            finally:
                if relay is not None:
                    relay.cancel()
            report = build_morning_report(store, result.run_id,
                                          config.data_dir / "reports" / f"morning-{result.run_id}.xlsx",
                                          insights=config.insights)
            logger.info("morning report: {}", report)
            return NightReport(result, report, logs.path, store.items(result.run_id),
                               store.events(result.run_id, codes=EXPIRY_WARNING_CODES))
        finally:
            logs.close()
    finally:
        store.close()


def summary_lines(night: NightReport) -> list[str]:
    s = night.result.summary
    lines = [f"run {night.result.run_id}: {s.run.status}, {s.total} case(s)"]
    for outcome, label in OUTCOME_LABELS.items():
        lines.append(f"  {label:<45} {s.by_outcome.get(outcome, 0):>5}")
    lines.append(f"  {'Fel (systemfel, se runbook)':<45} {s.by_state.get('failed', 0):>5}")
    lines.append(f"  {'Ej klar (fortsätter vid nästa körning)':<45} {s.open:>5}")
    if s.duration_p50_ms is not None:
        lines.append(f"  per case p50 {s.duration_p50_ms / 1000:.2f} s, p95 {(s.duration_p95_ms or 0) / 1000:.2f} s")
    if night.result.drift:
        lines.append(f"  selector drift warnings: {len(night.result.drift)} (see the report's drift sheet)")
    stopped: CasebotError | None = night.result.stopped_by
    if stopped is not None:
        lines.append(f"  STOPPED: {stopped}")
    lines.append(f"morning report: {night.report_path}")
    lines.append(f"log: {night.log_path}")
    return lines


def progress_bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // total if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} cases"
