"""The `casebot` command."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Command = args.func
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
