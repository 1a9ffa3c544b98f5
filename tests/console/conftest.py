"""The console served for real: uvicorn in a thread on a free port, on a real SQLite store, with a clock tests can
move (session expiry) and accounts made the way `casebot console-user add` makes them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bot.config import Config, ConsoleSettings
from bot.console.app import create_app
from bot.console.auth import add_user
from bot.dev.sandbox import sandbox_config
from bot.store import SqliteStore, Store, open_store
from tests.sandbox_proc import free_port

# Accounts every served console has (passwords long enough for `check_new_password`).
USERS = {"drift": ("operations", "drift-password-1"), "admin": ("admin", "admin-password-1"),
         "lasare": ("viewer", "viewer-password-1")}


class MovableClock:
    """The real time plus an offset the test moves: the store and the console agree on it."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class ServedConsole:
    url: str
    config: Config
    settings: ConsoleSettings
    clock: Callable[[], datetime]
    server: uvicorn.Server
    thread: threading.Thread
    stores: list[Store] = field(default_factory=list)

    def store(self) -> Store:
        """The test's own connection to the console's store (closed at teardown)."""
        store = open_store(self.config.store_url)
        self.stores.append(store)
        return store

    def login(self, page: Any, name: str, password: str | None = None, *, expect_ok: bool = True) -> None:
        """Log in through the login form in the browser."""
        page.goto(self.url + "/login")
        page.fill("input[name=username]", name)
        page.fill("input[name=password]", password if password is not None else USERS[name][1])
        page.click("button[type=submit]")
        if expect_ok:
            page.wait_for_url(lambda url: "/login" not in url)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        for store in self.stores:
            store.close()


def serve(config: Config, *, settings: ConsoleSettings | None = None, clock: Callable[[], datetime] | None = None,
          users: dict[str, tuple[str, str]] | None = None, store_factory: Callable[[], Store] | None = None,
          key: bytes = b"console-test-key-0123456789abcdef") -> ServedConsole:
    """Serve the console on `config`'s store (the accounts in `users`, default USERS, added first)."""
    settings = settings or config.console
    with open_store(config.store_url) as store:
        for name, (role, password) in (USERS if users is None else users).items():
            if store.console_user(name) is None:
                add_user(store, name, role, password, by="pytest")
    app = create_app(config, settings, store_factory=store_factory, clock=clock, key=key)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, name="console-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the console did not start")
        time.sleep(0.02)
    return ServedConsole(f"http://127.0.0.1:{port}", config, settings, clock or (lambda: datetime.now(UTC)),
                         server, thread)


def console_config(home: Path, **overrides: Any) -> Config:
    """A robot config in `home` (its store there), pointing at a sandbox port base nobody listens on."""
    return sandbox_config(home, 9, **overrides)


@pytest.fixture
def serve_console() -> Iterator[Callable[..., ServedConsole]]:
    """`serve_console(config, settings=..., clock=..., users=...)`: a served console, stopped at teardown."""
    served: list[ServedConsole] = []

    def start(config: Config, **kwargs: Any) -> ServedConsole:
        console = serve(config, **kwargs)
        served.append(console)
        return console

    yield start
    for console in served:
        console.stop()


@pytest.fixture
def console(tmp_path: Path, serve_console: Callable[..., ServedConsole]) -> ServedConsole:
    """A console on an empty store in tmp_path, with a movable clock and the USERS accounts."""
    config = console_config(tmp_path)
    SqliteStore(Path(config.store_url[len("sqlite:///"):])).close()
    return serve_console(config, clock=MovableClock())


def post_form(console: ServedConsole, path: str, data: dict[str, str], cookies: httpx.Cookies | None = None
              ) -> httpx.Response:
    """A POST outside the browser (what a forged cross-site form would send)."""
    with httpx.Client(base_url=console.url, cookies=cookies, follow_redirects=False, timeout=10) as client:
        return client.post(path, data=data)
