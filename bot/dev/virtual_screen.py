"""A virtual screen (Xvfb) with the sandbox's desktop client on it: for the tests, the benchmark and training."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.desktop.record import ClientGeometry
from bot.dev.sandbox import Sandbox

SCREEN = "1280x1024x24"


@dataclass
class ClientOnScreen:
    display: str
    geometry: ClientGeometry
    process: subprocess.Popen[bytes]


@contextmanager
def xvfb(timeout_s: float = 10.0) -> Iterator[str]:
    """A virtual display for the block: `:N` as Xvfb chose it. Xvfb picks a free number itself and tells it on a
    pipe (`-displayfd`), so test processes running side by side never race for the same one."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", SCREEN, "-nolisten", "tcp"],
                              pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        name = _display_number(read_end, server, timeout_s)
        yield name
    finally:
        os.close(read_end)
        server.terminate()
        server.wait(timeout=10)


def _display_number(read_end: int, server: subprocess.Popen[bytes], timeout_s: float) -> str:
    told = b""
    deadline = time.monotonic() + timeout_s
    while not told.endswith(b"\n"):
        ready, _, _ = select.select([read_end], [], [], 0.1)
        if ready:
            chunk = os.read(read_end, 16)
            told += chunk
            if chunk:
                continue
        if server.poll() is not None:
            raise RuntimeError(f"Xvfb did not start (exit code {server.returncode})")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Xvfb told no display number within {timeout_s:.0f} s")
    return f":{told.decode().strip()}"


@contextmanager
def client(box: Sandbox, display: str, workdir: Path, layout: str = "v1") -> Iterator[ClientOnScreen]:
    geometry = workdir / f"client-{layout}-geometry.json"
    geometry.unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, "-m", "portals.desktop", "--url", box.url("casesystem"), "--layout",
                                layout, "--geometry-file", str(geometry), "--ca-file", str(box.ca_file)],
                               env={**os.environ, "DISPLAY": display})
    try:
        watcher = ClientGeometry(geometry)
        watcher.wait("login")
        yield ClientOnScreen(display, watcher, process)
    finally:
        process.terminate()
        process.wait(timeout=10)
