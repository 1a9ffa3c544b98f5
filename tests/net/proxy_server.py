"""A real HTTP proxy for the tests: Debian's tinyproxy, started as a child process from its own config file (Basic
login, a log file, a free port on 127.0.0.1), and a tiny local web server to send requests to (the webhook)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.sandbox_proc import free_port

USER = "casebot-proxy"
PASSWORD = "Px-9f3K-hemligt"  # the tests look for this text in every log
REQUEST = re.compile(r"Request \(file descriptor \d+\): (\S+) (\S+) HTTP/")


@dataclass
class Tinyproxy:
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self) -> list[tuple[str, str]]:
        """(method, target) of every request the proxy was asked to carry: CONNECT host:port, or GET http://…"""
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return REQUEST.findall(text)

    def carried_to(self, port: int) -> list[str]:
        """The methods of the requests for 127.0.0.1:port or localhost:port, tunnelled or forwarded."""
        found = []
        for method, target in self.requests():
            authority = target.split("://", 1)[-1].split("/", 1)[0]
            if authority in (f"127.0.0.1:{port}", f"localhost:{port}"):
                found.append(method)
        return found


@contextmanager
def tinyproxy(folder: Path) -> Iterator[Tinyproxy]:
    binary = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
    assert Path(binary).exists(), "tinyproxy is not installed: ./install.sh --test installs it (Debian's tinyproxy)"
    folder.mkdir(parents=True, exist_ok=True)
    port, log = free_port(), folder / "tinyproxy.log"
    conf = folder / "tinyproxy.conf"
    conf.write_text(f"Port {port}\nListen 127.0.0.1\nTimeout 60\nMaxClients 100\nLogFile \"{log}\"\n"
                    f"LogLevel Connect\nBasicAuth {USER} {PASSWORD}\nDisableViaHeader Yes\n", encoding="utf-8")
    conf.chmod(0o600)
    process = subprocess.Popen([binary, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, f"tinyproxy exited with {process.returncode} (see {conf})"
                assert time.monotonic() < deadline, "tinyproxy did not start listening within 10 s"
                time.sleep(0.1)
        yield Tinyproxy(port, log, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Receiver:
    """A local web server that answers every GET and POST with 200 and remembers what it got."""

    port: int
    seen: list[tuple[str, str, bytes]] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@contextmanager
def receiver() -> Iterator[Receiver]:
    got = Receiver(free_port())

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got.seen.append((self.command, self.path, body))
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", got.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()
