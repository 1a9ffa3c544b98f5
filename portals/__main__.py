"""`python -m portals seed|serve|up`: the sandbox on its own, without the robot."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portals", description="casebot sandbox portals")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("seed", "generate synthetic cases into DIR/sandbox.db"),
                            ("serve", "serve the portals from DIR/sandbox.db"),
                            ("up", "seed (if DIR has no database, or --reseed) and serve")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--data", type=Path, required=True, help="sandbox data folder")
        if name in ("seed", "up"):
            p.add_argument("--cases", type=int, default=50)
            p.add_argument("--seed", type=int, default=1)
            p.add_argument("--period", default=None, help="application month, YYYY-MM (default: the current month)")
        if name in ("serve", "up"):
            p.add_argument("--host", default="127.0.0.1")
            p.add_argument("--port-base", type=int, default=8100)
            p.add_argument("--quiet", action="store_true")
            p.add_argument("--ca-dir", type=Path, default=None,
                           help="a test CA folder shared with other sandboxes (default: a new CA in DIR/tls)")
            p.add_argument("--certificate", action="append", default=[], metavar="PORTAL=KIND",
                           help="serve PORTAL with a bad certificate: expired, wrong_host, untrusted or expiring")
            p.add_argument("--client-auth", action="append", default=[], metavar="PORTAL",
                           help="PORTAL requires a client certificate from the sandbox's client CA (mutual TLS, "
                                "as the agencies' system-to-system services do); the robot's is DIR/tls/client.pem")
        if name == "up":
            p.add_argument("--reseed", action="store_true")
    args = parser.parse_args(argv)

    from portals import db, seed, server

    args.data.mkdir(parents=True, exist_ok=True)
    if args.command == "seed" or (args.command == "up" and (args.reseed or not db.db_path(args.data).exists())):
        summary = seed.seed_database(args.data, args.cases, args.seed, args.period)
        print(f"seeded {db.db_path(args.data)}: {summary}", flush=True)
    if args.command in ("serve", "up"):
        certificates = dict(item.split("=", 1) for item in args.certificate if "=" in item)
        if len(certificates) != len(args.certificate):
            parser.error("--certificate takes PORTAL=KIND")
        asyncio.run(server.serve(args.data, args.host, args.port_base, args.quiet, ca_dir=args.ca_dir,
                                 certificates=certificates, client_auth=args.client_auth))
    return 0


if __name__ == "__main__":
    sys.exit(main())
