"""Tests start the sandbox the way the demo does (see bot/dev/sandbox.py), over HTTPS. Every sandbox of a test
process has its certificates from one test CA (`shared_ca_dir`), which the tests' own browsers (the `browser` and
`abrowser` fixtures) trust the robot's way: an NSS database of their own (`trusted_home`), nothing switched off.
The robot itself trusts each sandbox's CA through its config (`sandbox_config` sets `tls.ca_bundle`)."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bot.browser.trust import browser_home
from bot.config import TlsSettings
from bot.dev.sandbox import PORTAL_NAMES, Sandbox, free_port_base
from bot.dev.sandbox import start_sandbox as _start_sandbox
from bot.tls import ssl_context
from portals.tls import ensure_ca

__all__ = ["PORTAL_NAMES", "Sandbox", "free_port", "free_port_base", "https_get", "https_post", "shared_async_client",
           "shared_ca_dir", "shared_client", "shared_tls", "start_sandbox", "trusted_home"]


def free_port() -> int:
    """A free port on 127.0.0.1 for a server a test starts."""
    return free_port_base(1)


@functools.cache
def shared_ca_dir() -> Path:
    """The test process's CA folder, made on first use and removed when the process ends."""
    folder = Path(tempfile.mkdtemp(prefix="casebot-test-ca-"))
    atexit.register(shutil.rmtree, folder, True)
    ensure_ca(folder)
    return folder


def shared_tls() -> TlsSettings:
    return TlsSettings(ca_bundle=shared_ca_dir() / "ca.pem")


@functools.cache
def trusted_home() -> Path:
    """A HOME whose NSS database trusts the shared test CA: what the tests' browsers start with."""
    return browser_home(shared_tls(), shared_ca_dir())


def shared_client(**options: Any) -> httpx.Client:
    """An HTTP client for any sandbox of this process, verifying against the shared test CA."""
    return httpx.Client(verify=ssl_context(shared_tls()), **{"timeout": 10, **options})


def shared_async_client(**options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=ssl_context(shared_tls()), **{"timeout": 10, **options})


def https_get(url: str, **options: Any) -> httpx.Response:
    """`httpx.get`, verifying against the shared test CA."""
    with shared_client() as client:
        return client.get(url, **options)


def https_post(url: str, **options: Any) -> httpx.Response:
    """`httpx.post`, verifying against the shared test CA."""
    with shared_client() as client:
        return client.post(url, **options)


def start_sandbox(data_dir: Path, *args: Any, **kwargs: Any) -> Sandbox:
    """`bot.dev.sandbox.start_sandbox` with the process's shared test CA."""
    kwargs.setdefault("ca_dir", shared_ca_dir())
    return _start_sandbox(data_dir, *args, **kwargs)
