"""A module's own sandbox (its cases changed by the module's nights only), and the robot's passwords for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bot.dev.sandbox import Sandbox, sandbox_environ
from tests.sandbox_proc import start_sandbox


def own_sandbox(cases: int, seed: int, *, client_auth: tuple[str, ...] = (),
                **knobs: object) -> Callable[..., Iterator[Sandbox]]:
    """A module-scoped fixture: a fresh sandbox of `cases` cases from `seed`, the case system's `knobs` set, the
    portals of `client_auth` requiring the robot's client certificate."""
    @pytest.fixture(scope="module")
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
        box = start_sandbox(tmp_path_factory.mktemp(f"sandbox-{seed}"), cases=cases, seed=seed,
                            client_auth=client_auth)
        try:
            if knobs:
                box.set_knobs("casesystem", **knobs)
            yield box
        finally:
            box.stop()
    return fixture


def robot_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox's training passwords in the environment, where the robot reads passwords from."""
    for key, value in sandbox_environ().items():
        monkeypatch.setenv(key, value)
