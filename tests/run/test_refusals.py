"""Refused passwords are remembered as salted digests and not tried again until they change (no browser)."""

from __future__ import annotations

from pathlib import Path

from bot.config import PORTAL_NAMES
from bot.credentials import new_salt, password_digest, same_password
from bot.dev.sandbox import sandbox_config
from bot.errors import ErrorCode, SystemException
from bot.run.refusals import known_refusal, remember_refusal
from bot.store import SqliteStore


def test_the_digest_is_salted_and_says_nothing_of_the_password() -> None:
    salt, other = new_salt(), new_salt()
    digest = password_digest("hemligt-123", salt)
    assert "hemligt" not in digest and digest != password_digest("hemligt-123", other)
    assert same_password("hemligt-123", salt, digest) and not same_password("hemligt-124", salt, digest)


def test_a_refused_password_stops_the_next_night_until_it_is_changed(tmp_path: Path) -> None:
    config = sandbox_config(tmp_path / "robot", 8100)
    passwords = {name: f"{name}-pass" for name in PORTAL_NAMES}
    with SqliteStore(tmp_path / "state.db") as store:
        assert known_refusal(store, config, passwords) is None
        refused = SystemException(ErrorCode.LOGIN_FAILED, "fk: login refused", portal="fk")
        remember_refusal(store, config, passwords, refused)
        row = store.refused_login("fk", config.portals["fk"].username)
        assert row is not None and "fk-pass" not in f"{row.salt}{row.digest}"
        remember_refusal(store, config, passwords, refused)  # the same refusal again (a night stopped before login)
        assert store.refused_login("fk", config.portals["fk"].username) == row  # when it was first refused is kept

        again = known_refusal(store, config, passwords)
        assert again is not None and again.code is ErrorCode.LOGIN_FAILED and again.portal == "fk"
        assert "not tried again" in again.message and "fk-pass" not in str(again)

        changed = {**passwords, "fk": "nytt-lösenord"}
        assert known_refusal(store, config, changed) is None  # the new one is worth a try …
        assert store.refused_login("fk", config.portals["fk"].username) is None  # … and the old one forgotten


def test_only_a_refused_login_is_remembered(tmp_path: Path) -> None:
    config = sandbox_config(tmp_path / "robot", 8100)
    passwords = {name: f"{name}-pass" for name in PORTAL_NAMES}
    with SqliteStore(tmp_path / "state.db") as store:
        remember_refusal(store, config, passwords, SystemException(ErrorCode.ACCOUNT_LOCKED, "x", portal="fk"))
        remember_refusal(store, config, passwords, SystemException(ErrorCode.LOGIN_FAILED, "x"))  # no portal
        assert all(store.refused_login(n, config.portals[n].username) is None for n in PORTAL_NAMES)
