"""Serves every sandbox portal from one process, each on its own port (its own origin, own cookies), over HTTPS
with a certificate from the sandbox's test CA (`portals.tls`)."""

from __future__ import annotations

import asyncio
import asyncio.sslproto
import contextlib
import json
import signal
import ssl
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from portals import db
from portals.registry import PORTALS, create_portal_app
from portals.tls import CLIENT_PASSPHRASE, SandboxTls, sandbox_tls


class _QuietServer(uvicorn.Server):
    """Several uvicorn servers share one loop, so signals are handled once, here, for all of them."""

    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[override]
        yield


def send_tls_alerts() -> None:
    """asyncio closes the socket when a TLS handshake fails without sending the alert OpenSSL wrote for the peer, so
    a client refused for its certificate would hear only a reset. Real TLS terminators (nginx, a load balancer)
    send it ("certificate required", "unknown CA", "certificate expired"); so does the sandbox, so the robot is
    tested on what it will meet. Patches asyncio's private SSL protocol, in the sandbox process only."""
    protocol = asyncio.sslproto.SSLProtocol
    original = protocol._on_handshake_complete
    if getattr(original, "sends_alerts", False):
        return

    def flush_alert_then_fail(self: asyncio.sslproto.SSLProtocol, handshake_exc: BaseException | None) -> None:
        if handshake_exc is not None:
            with contextlib.suppress(Exception):  # the alert is a courtesy; failing the handshake is what matters
                alert = self._outgoing.read()  # type: ignore[attr-defined]
                if alert and self._transport is not None:  # type: ignore[attr-defined]
                    self._transport.write(alert)  # type: ignore[attr-defined]
        original(self, handshake_exc)

    flush_alert_then_fail.sends_alerts = True  # type: ignore[attr-defined]
    protocol._on_handshake_complete = flush_alert_then_fail  # type: ignore[method-assign]


def portal_urls(host: str, port_base: int) -> dict[str, str]:
    return {spec.name: f"https://{host}:{port_base + spec.port_offset}" for spec in PORTALS}


async def serve(data_dir: Path, host: str = "127.0.0.1", port_base: int = 8100, quiet: bool = False, *,
                ca_dir: Path | None = None, certificates: dict[str, str] | None = None,
                client_auth: Sequence[str] = ()) -> None:
    """`ca_dir`: a CA folder shared with other sandboxes (made there if missing); else a new CA in the data
    folder. `certificates`: portal -> a bad kind of `portals.tls.BAD_KINDS` it serves instead of the good one.
    `client_auth`: portals that require a client certificate from the sandbox's client CA: the handshake fails
    without one, as it does for an expired one or one from another CA."""
    path = db.db_path(data_dir)
    if not path.exists():
        raise SystemExit(f"no sandbox database at {path}: seed it first (python -m portals seed --data {data_dir})")
    served = certificates or {}
    unknown = (set(served) | set(client_auth)) - {spec.name for spec in PORTALS}
    if unknown:
        raise SystemExit(f"no portal named {', '.join(sorted(unknown))}")
    tls = sandbox_tls(Path(data_dir) / "tls", ca_dir, list(served.values()), client_auth=bool(client_auth))
    send_tls_alerts()
    servers: list[_QuietServer] = []
    for spec in PORTALS:
        conn = db.connect(path)
        db.init_schema(conn)
        app = create_portal_app(spec, conn)
        pair = tls.for_kind(served.get(spec.name, "good"))
        config = uvicorn.Config(app, host=host, port=port_base + spec.port_offset, log_level="warning",
                                access_log=False, lifespan="off", ssl_certfile=str(pair.cert),
                                ssl_keyfile=str(pair.key), **_client_auth(tls, spec.name in client_auth))
        servers.append(_QuietServer(config))

    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)

    urls = portal_urls(host, port_base)
    (Path(data_dir) / "sandbox.json").write_text(json.dumps({
        "urls": urls, "ca_file": str(tls.ca_file), "client_auth": list(client_auth),
        "client_certificate": None if tls.client is None else {"cert": str(tls.client.cert),
                                                               "key": str(tls.client.key)}}, indent=2))
    if not quiet:
        print_banner(urls, tls, client_auth)
    await asyncio.gather(*(server.serve() for server in servers))


def _client_auth(tls: SandboxTls, required: bool) -> dict[str, object]:
    """uvicorn's settings for a portal that requires a client certificate from the sandbox's client CA."""
    if not required:
        return {}
    assert tls.client_ca_file is not None
    return {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": str(tls.client_ca_file)}


def print_banner(urls: dict[str, str], tls: SandboxTls, client_auth: Sequence[str] = ()) -> None:
    logins = {
        "casesystem": "robot / robot-pass (service account), handlaggare1..3 / hl-pass (caseworkers)",
    }
    print("casebot sandbox is up:", flush=True)
    for spec in PORTALS:
        login = logins.get(spec.name, f"kommun / {spec.name}-pass")
        print(f"  {spec.name:<11} {urls[spec.name]:<24} {spec.description:<40} login: {login}", flush=True)
    print(f"  test CA (trust it to reach the portals): {tls.ca_file}", flush=True)
    if tls.client is not None:
        print(f"  {', '.join(client_auth)} require(s) a client certificate: {tls.client.cert} with key "
              f"{tls.client.key} (passphrase {CLIENT_PASSPHRASE})", flush=True)
    print("  admin knobs: GET/POST <url>/_admin/knobs   (Ctrl-C stops)", flush=True)
