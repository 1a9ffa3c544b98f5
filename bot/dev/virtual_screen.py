"""A virtual screen (Xvfb) with the sandbox's desktop client on it: for the tests, the benchmark and training."""

from __future__ import annotations

import os
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


def free_display() -> str:
    for number in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return f":{number}"
    raise RuntimeError("no free X display number")


@dataclass
class ClientOnScreen:
    display: str
    geometry: ClientGeometry
    process: subprocess.Popen[bytes]


@contextmanager
def xvfb() -> Iterator[str]:
    name = free_display()
    server = subprocess.Popen(["Xvfb", name, "-screen", "0", SCREEN, "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{name[1:]}").exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Xvfb {name} did not start")
            time.sleep(0.05)
        yield name
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def client(box: Sandbox, display: str, workdir: Path, layout: str = "v1") -> Iterator[ClientOnScreen]:
    geometry = workdir / f"client-{layout}-geometry.json"
    geometry.unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, "-m", "portals.desktop", "--url", box.url("casesystem"), "--layout",
                                layout, "--geometry-file", str(geometry)], env={**os.environ, "DISPLAY": display})
    try:
        watcher = ClientGeometry(geometry)
        watcher.wait("login")
        yield ClientOnScreen(display, watcher, process)
    finally:
        process.terminate()
        process.wait(timeout=10)
