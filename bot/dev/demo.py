"""`casebot demo`: the whole product on one machine, with nothing to configure.

Starts the sandbox (case system + four agency portals, synthetic households), runs one night against it, writes
the morning report, and checks every case the robot touched against the sandbox's oracle, which computes the
expected outcome with none of the robot's code.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from datetime import date
from pathlib import Path

from bot.config import write_config
from bot.dev.sandbox import differences_from_oracle, sandbox_config, sandbox_environ, start_sandbox
from bot.run.entry import progress_bar, run_once, summary_lines

CLIENT_AUTH = ("fk",)


def run_demo(home: Path, *, cases: int = 50, seed: int = 1, workers: int = 2, keep: bool = False,
             period: str | None = None) -> int:
    home = home.resolve()
    robot_home = home / "robot"
    # A demo is a fresh world: a store left from an earlier demo would resume a run against other cases.
    shutil.rmtree(robot_home / "data", ignore_errors=True)
    month = period or date.today().strftime("%Y-%m")
    print(f"casebot demo: starting the sandbox with {cases} synthetic applications for {month} (seed {seed}) in "
          f"{home / 'sandbox'}", flush=True)
    # Försäkringskassan's side requires the robot's client certificate, as the agencies' system-to-system service
    # for ekonomiskt bistånd does.
    sandbox = start_sandbox(home / "sandbox", cases=cases, seed=seed, period=period, client_auth=CLIENT_AUTH)
    try:
        for name, url in sandbox.urls.items():
            print(f"  {name:<11} {url}", flush=True)
        print(f"  {'test CA':<11} {sandbox.ca_file} (HTTPS: import it into a browser to open the portals)", flush=True)
        print(f"  {'client cert':<11} {sandbox.client_pair[0]} ({', '.join(CLIENT_AUTH)} requires it: mutual TLS)",
              flush=True)
        config = sandbox_config(robot_home, sandbox, workers=workers)
        config_file = write_config(config, robot_home / "config.yaml")
        started = time.monotonic()
        night = asyncio.run(run_once(config, environ={**os.environ, **sandbox_environ(sandbox)},
                                     console_level="WARNING", on_progress=_show_progress))
        print(flush=True)
        elapsed = time.monotonic() - started
        print("\n".join(summary_lines(night)))
        print(f"  wall time {elapsed:.1f} s with {workers} worker(s)")
        handled = [i.case_id for i in night.items if i.state in ("done", "business_exception")]
        differences = differences_from_oracle(sandbox, handled)
        print(f"oracle check: {len(handled) - len(differences)} of {len(handled)} handled case(s) exactly as the "
              "sandbox's independent calculation expects")
        for case_id, problems in differences.items():
            print(f"  {case_id}: " + "; ".join(problems))
        if keep:
            print("sandbox still running (caseworker login handlaggare1 / hl-pass); Ctrl-C stops it", flush=True)
            print(f"robot config: {config_file} (passwords: " +
                  " ".join(f"{k}={v}" for k, v in sandbox_environ(sandbox).items()) + ")", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        return night.exit_code or (1 if differences else 0)
    finally:
        sandbox.stop()


def _show_progress(done: int, total: int) -> None:
    print("\r  " + progress_bar(done, total), end="", flush=True)
