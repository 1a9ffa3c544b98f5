"""`casebot worker`: a robot process that joins the runs other processes open, on this host or another.

The run's leader (`casebot run`, or the elected `casebot schedule`) opens the night, checks the screens, fills the
queue from the inbox and closes the night with its morning report; workers only claim items from the shared
store (PostgreSQL for several hosts), each with a lease they renew while they work. A worker that dies loses its
lease and another worker resumes its case from the last checkpoint, checking the case system first.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass

from loguru import logger

from bot.config import Config
from bot.credentials import resolve_all
from bot.errors import CasebotError
from bot.log import setup_logging
from bot.run.entry import install_stop_signals
from bot.run.night import Night, RunOptions
from bot.store import open_store
from bot.store.sql import default_owner, worker_id

POLL_S = 2.0


@dataclass
class WorkerOutcome:
    runs_joined: int
    stopped_by: CasebotError | None

    @property
    def exit_code(self) -> int:
        return 2 if self.stopped_by is not None else 0


async def serve_workers(config: Config, *, environ: Mapping[str, str] | None = None,
                        idle_exit_s: float | None = None, console: bool = True) -> WorkerOutcome:
    """Join every run that has work, until stopped (SIGTERM/SIGINT) or, with `idle_exit_s`, until no run has had
    work for that long. Chromium is started only while there is work: an idle worker costs a query every
    few seconds."""
    owner = default_owner()
    logs = setup_logging(config.log_dir, f"worker-{owner.replace(':', '-')}", console=console,
                         retention_days=config.retention.logs_days)
    store = open_store(config.store_url)
    stop = asyncio.Event()
    install_stop_signals(stop)
    joined = 0
    try:
        passwords = resolve_all(config, environ)
        idle_since = time.monotonic()
        beat = 0.0
        logger.info("worker {} ({} worker(s)) waiting for work in {}", owner, config.workers,
                    config.summary()["store"])
        while not stop.is_set():
            run = store.latest_unfinished_run()
            if run is not None and store.has_open_items(run.id):
                logger.info("joining run {}", run.id)
                result = await Night(config, store, passwords, options=RunOptions(run_id=run.id, stop=stop),
                                     environ=environ).join(run)
                joined += 1
                if result.stopped_by is not None:
                    logger.critical("worker stopping: {}", result.stopped_by)
                    return WorkerOutcome(joined, result.stopped_by)
                idle_since = time.monotonic()
                continue
            if idle_exit_s is not None and time.monotonic() - idle_since >= idle_exit_s:
                logger.info("no work for {:.0f} s: worker {} exits", idle_exit_s, owner)
                break
            if time.monotonic() - beat >= config.store.heartbeat_s:
                for n in range(1, config.workers + 1):
                    store.worker_seen(worker_id(n, owner), run_id=None, state="idle")
                beat = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=POLL_S)
        for n in range(1, config.workers + 1):
            store.worker_seen(worker_id(n, owner), run_id=None, state="stopped")
        return WorkerOutcome(joined, None)
    finally:
        store.close()
        logs.close()
