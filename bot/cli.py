"""The `casebot` command."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bot.errors import CasebotError
from bot.paths import default_home

Command = Callable[[argparse.Namespace], int]


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Seed and serve the sandbox portals in the foreground (what admins train on)."""
    data = Path(args.data or default_home() / "sandbox")
    argv = [sys.executable, "-m", "portals", "up", "--reseed", "--data", str(data), "--cases", str(args.cases),
            "--seed", str(args.seed), "--period", args.period, "--port-base", str(args.port_base)]
    try:
        return subprocess.call(argv, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    except KeyboardInterrupt:
        return 0


def _print_failure(exc: CasebotError) -> int:
    print(f"casebot: {exc}", file=sys.stderr)
    return 2


def cmd_run(args: argparse.Namespace) -> int:
    """One nightly run with a config file: continue an unfinished run, else start one; then the morning report."""
    import asyncio

    from bot.config import load_config
    from bot.run.entry import run_once, summary_lines

    try:
        config = load_config(args.config)
        if args.workers:
            config = config.model_copy(update={"workers": args.workers})
        night = asyncio.run(run_once(config, limit=args.limit))
    except CasebotError as exc:
        return _print_failure(exc)
    print("\n".join(summary_lines(night)))
    return night.exit_code


def cmd_demo(args: argparse.Namespace) -> int:
    """The sandbox with synthetic cases, one nightly run against it, the morning report, and a check of every case
    against the sandbox's independent oracle."""
    from bot.demo import run_demo

    try:
        return run_demo(Path(args.home or default_home() / "demo"), cases=args.cases, seed=args.seed,
                        workers=args.workers, keep=args.keep)
    except CasebotError as exc:
        return _print_failure(exc)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="casebot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sandbox", help="start the sandbox portals on 127.0.0.1 with synthetic cases")
    p.add_argument("--cases", type=int, default=50)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--period", default="2024-12", help="application month, YYYY-MM")
    p.add_argument("--port-base", type=int, default=8100)
    p.add_argument("--data", help="sandbox data folder (default: $CASEBOT_HOME/sandbox)")
    p.set_defaults(func=cmd_sandbox)

    p = sub.add_parser("demo", help="sandbox + synthetic cases + one nightly run + the morning report")
    p.add_argument("--cases", type=int, default=50)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--home", help="where the demo keeps its files (default: $CASEBOT_HOME/demo, i.e. ./var/demo)")
    p.add_argument("--keep", action="store_true", help="keep the sandbox running afterwards (Ctrl-C stops it)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("run", help="one nightly run (continues an unfinished one) and its morning report")
    p.add_argument("--config", required=True, help="the robot's YAML config file")
    p.add_argument("--limit", type=int, help="take at most this many new cases (a trial run)")
    p.add_argument("--workers", type=int, help="override the config's number of workers")
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Command = args.func
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
