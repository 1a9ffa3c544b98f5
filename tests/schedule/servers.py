"""Local stand-ins the alert tests deliver to: a real SMTP server (aiosmtpd) and a real HTTP webhook receiver,
each optionally with TLS (STARTTLS; HTTPS) from a certificate and key given as files."""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tests.sandbox_proc import free_port


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.arrived.set()
        return "250 Message accepted for delivery"


def server_context(cert: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert[0]), str(cert[1]))
    return context


class SmtpServer:
    def __init__(self, starttls: tuple[Path, Path] | None = None) -> None:
        """`starttls`: (certificate, key) to offer STARTTLS with, and require it."""
        self.mailbox = Mailbox()
        self.port = free_port()
        tls = {"tls_context": server_context(starttls), "require_starttls": True} if starttls else {}
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **tls)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@dataclass
class Hook:
    calls: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


class WebhookServer:
    def __init__(self, https: tuple[Path, Path] | None = None) -> None:
        """`https`: (certificate, key) to serve HTTPS with."""
        self.hook = Hook()
        hook = self.hook

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                hook.calls.append((dict(self.headers), json.loads(body)))
                hook.arrived.set()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if https is not None:
            self.server.socket = server_context(https).wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if https is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
