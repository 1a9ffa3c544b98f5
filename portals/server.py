"""Serves every sandbox portal from one process, each on its own port (its own origin, own cookies), over HTTPS
with a certificate from the sandbox's test CA (`portals.tls`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from pathlib import Path

import uvicorn

from portals import db
from portals.registry import PORTALS, create_portal_app
from portals.tls import sandbox_tls


class _QuietServer(uvicorn.Server):
    """Several uvicorn servers share one loop, so signals are handled once, here, for all of them."""

    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[override]
        yield


def portal_urls(host: str, port_base: int) -> dict[str, str]:
    return {spec.name: f"https://{host}:{port_base + spec.port_offset}" for spec in PORTALS}


async def serve(data_dir: Path, host: str = "127.0.0.1", port_base: int = 8100, quiet: bool = False, *,
                ca_dir: Path | None = None, certificates: dict[str, str] | None = None) -> None:
    """`ca_dir`: a CA folder shared with other sandboxes (made there if missing); else a new CA in the data
    folder. `certificates`: portal -> a bad kind of `portals.tls.BAD_KINDS` it serves instead of the good one."""
    path = db.db_path(data_dir)
    if not path.exists():
        raise SystemExit(f"no sandbox database at {path}: seed it first (python -m portals seed --data {data_dir})")
    served = certificates or {}
    unknown = set(served) - {spec.name for spec in PORTALS}
    if unknown:
        raise SystemExit(f"no portal named {', '.join(sorted(unknown))}")
    tls = sandbox_tls(Path(data_dir) / "tls", ca_dir, list(served.values()))
    servers: list[_QuietServer] = []
    for spec in PORTALS:
        conn = db.connect(path)
        db.init_schema(conn)
        app = create_portal_app(spec, conn)
        pair = tls.for_kind(served.get(spec.name, "good"))
        config = uvicorn.Config(app, host=host, port=port_base + spec.port_offset, log_level="warning",
                                access_log=False, lifespan="off", ssl_certfile=str(pair.cert),
                                ssl_keyfile=str(pair.key))
        servers.append(_QuietServer(config))

    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)

    urls = portal_urls(host, port_base)
    (Path(data_dir) / "sandbox.json").write_text(json.dumps({"urls": urls, "ca_file": str(tls.ca_file)}, indent=2))
    if not quiet:
        print_banner(urls, tls.ca_file)
    await asyncio.gather(*(server.serve() for server in servers))


def print_banner(urls: dict[str, str], ca_file: Path) -> None:
    logins = {
        "casesystem": "robot / robot-pass (service account), handlaggare1..3 / hl-pass (caseworkers)",
    }
    print("casebot sandbox is up:", flush=True)
    for spec in PORTALS:
        login = logins.get(spec.name, f"kommun / {spec.name}-pass")
        print(f"  {spec.name:<11} {urls[spec.name]:<24} {spec.description:<40} login: {login}", flush=True)
    print(f"  test CA (trust it to reach the portals): {ca_file}", flush=True)
    print("  admin knobs: GET/POST <url>/_admin/knobs   (Ctrl-C stops)", flush=True)
