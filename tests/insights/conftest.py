"""One real night for the automation-rate and metrics tests: an own sandbox, `casebot run` as a process (2
workers, real Chromium, a real SQLite store), and `/metrics` scraped from the store while the night runs."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Config, write_config
from bot.console.metrics import metrics_text
from bot.dev.sandbox import Sandbox, sandbox_config, sandbox_environ
from bot.store import SqliteStore
from tests.sandbox_proc import start_sandbox

CASES = 14
SEED = 5  # its 14 cases reach every outcome: 4 auto, 7 partial, 3 manual
LEASE_S = 120.0

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: bytes) -> Samples:
    """A scrape as {(sample name, labels): value}, read back by the client library's own parser."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text.decode()) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def matching(samples: Samples, name: str, **labels: str) -> dict[frozenset[tuple[str, str]], float]:
    """Every sample of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return {key: v for (n, key), v in samples.items() if n == name and wanted <= key}


@dataclass
class Night:
    box: Sandbox
    config: Config
    config_file: Path
    db: Path
    returncode: int
    stdout: str
    stderr: str
    scrapes: list[Samples]  # taken while `casebot run` was running, in order

    def store(self) -> SqliteStore:
        return SqliteStore(self.db)


def _has_a_run(db: Path) -> bool:
    """Read-only, so the scraper never creates or migrates the store the robot is creating."""
    if not db.exists():
        return False
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] > 0
    except sqlite3.Error:
        return False


@pytest.fixture(scope="package")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Night]:
    home = tmp_path_factory.mktemp("insights")
    box = start_sandbox(home / "sandbox", cases=CASES, seed=SEED)
    try:
        config = sandbox_config(home / "robot", box, workers=2)
        config_file = write_config(config, home / "robot" / "config.yaml")
        db = config.data_dir / "casebot.db"
        out, err = home / "run.out", home / "run.err"  # files, not pipes: nobody reads them while it runs
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--config", str(config_file)],
                                       env={**os.environ, **sandbox_environ()}, stdout=stdout, stderr=stderr)
        scrapes: list[Samples] = []
        deadline = time.monotonic() + 600
        try:
            while process.poll() is None and time.monotonic() < deadline:
                if _has_a_run(db):
                    scrapes.append(parse(metrics_text(lambda: SqliteStore(db), LEASE_S)))
                time.sleep(0.2)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        yield Night(box, config, config_file, db, process.returncode, out.read_text(errors="replace"),
                    err.read_text(errors="replace"), scrapes)
    finally:
        box.stop()
