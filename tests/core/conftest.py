"""Fixtures for the tests of the robot's foundations (config, credentials, errors, logging, masking): fast, no
browser, no sandbox."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from loguru import logger

from bot.masking import clear_secrets


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """setup_logging replaces every loguru sink; give the rest of the test session a plain stderr sink back."""
    yield
    logger.remove()
    logger.configure(extra={})
    logger.add(sys.stderr)


@pytest.fixture(autouse=True)
def no_registered_secrets() -> Iterator[None]:
    clear_secrets()
    yield
    clear_secrets()


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.passwords.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
