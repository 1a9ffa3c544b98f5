from __future__ import annotations

import io
from pathlib import Path

import keyring
import pytest
from keyring.errors import KeyringLocked
from loguru import logger

from bot.config import Config
from bot.credentials import find_password, resolve_all, resolve_password
from bot.dev.sandbox import sandbox_config
from bot.errors import ErrorCode, SystemException
from bot.log import setup_logging
from tests.core.conftest import MemoryKeyring


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return sandbox_config(tmp_path)


def test_the_environment_comes_first(config: Config, memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("casebot/skv", "kommun", "from-keyring")
    assert resolve_password(config.portals.skv, {"CASEBOT_SKV_PASSWORD": "from-env"}) == "from-env"


def test_the_keyring_is_asked_under_service_and_username(config: Config, memory_keyring: MemoryKeyring) -> None:
    keyring.set_password("casebot/casesystem", "robot", "robot-pass")
    assert resolve_password(config.portals.casesystem, {}) == "robot-pass"
    assert find_password(config.portals.casesystem, {"CASEBOT_CASESYSTEM_PASSWORD": ""}) == \
        ("robot-pass", "OS keyring service casebot/casesystem")  # an empty variable is not a password


def test_missing_names_the_portal_and_what_to_set(config: Config, memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(SystemException) as caught:
        resolve_password(config.portals.fk, {})
    exc = caught.value
    assert exc.code is ErrorCode.CREDENTIALS_MISSING and not exc.retryable
    assert "portal 'fk'" in str(exc) and "CASEBOT_FK_PASSWORD" in str(exc)
    assert "keyring set casebot/fk kommun" in str(exc)
    assert str(exc).endswith("runbook: runbooks/CREDENTIALS_MISSING.md")


def test_resolve_all_reports_every_missing_portal_at_once(config: Config, memory_keyring: MemoryKeyring) -> None:
    env = {"CASEBOT_CASESYSTEM_PASSWORD": "a-pass", "CASEBOT_SKV_PASSWORD": "b-pass",
           "CASEBOT_FK_PASSWORD": "c-pass"}
    memory_keyring.set_password("casebot/af", "kommun", "d-pass")
    with pytest.raises(SystemException) as caught:
        resolve_all(config, env)
    message = caught.value.message
    assert "portal 'csn'" in message and "portal 'af'" not in message
    env["CASEBOT_CSN_PASSWORD"] = "e-pass"
    assert resolve_all(config, env) == {"casesystem": "a-pass", "skv": "b-pass", "fk": "c-pass", "af": "d-pass",
                                        "csn": "e-pass"}


def test_a_broken_keyring_is_reported_not_raised(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    def locked(service: str, username: str) -> str:
        raise KeyringLocked("collection is locked")

    monkeypatch.setattr(keyring, "get_password", locked)
    value, why = find_password(config.portals.af, {})
    assert value is None and "OS keyring is not usable (KeyringLocked" in why


def test_the_password_never_reaches_a_log(config: Config, tmp_path: Path, memory_keyring: MemoryKeyring,
                                          restore_logging: None) -> None:
    console = io.StringIO()
    setup = setup_logging(tmp_path / "logs", "r", level="DEBUG", console=console, console_level="DEBUG")
    password = resolve_password(config.portals.skv, {"CASEBOT_SKV_PASSWORD": "Hemligt-123"})
    logger.info("oops, logging the password: {}", password)
    setup.close()
    written = console.getvalue() + setup.path.read_text(encoding="utf-8")
    assert "Hemligt-123" not in written
    assert "oops, logging the password: ***" in written
    assert "skv: password from environment variable CASEBOT_SKV_PASSWORD" in written
