"""Passwords a portal refused are not tried again on the next night.

A wrong password stops a night after `retries.login_attempts` tries; portals lock the account after a handful
of refusals in a row, counted across nights. So the store keeps a salted digest of each refused password, and a
night whose configured password is still that one stops at once with LOGIN_FAILED, trying nothing. Any other
password (the operator set the new one) is tried, and the memory of the old one dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

from loguru import logger

from bot.config import PORTAL_NAMES, Config
from bot.credentials import new_salt, password_digest, same_password
from bot.errors import CasebotError, ErrorCode, SystemException
from bot.store.base import Store


def known_refusal(store: Store, config: Config, passwords: Mapping[str, str]) -> SystemException | None:
    """LOGIN_FAILED for the first portal whose password is one it already refused; None when every password
    is worth a try."""
    for name in PORTAL_NAMES:
        username = config.portals[name].username
        refused = store.refused_login(name, username)
        if refused is None:
            continue
        if same_password(passwords[name], refused.salt, refused.digest):
            return SystemException(
                ErrorCode.LOGIN_FAILED,
                f"{name}: the password for {username} was refused at {refused.at:%Y-%m-%d %H:%M} and has not been "
                "changed since, so it is not tried again (the portal would lock the account). Set the new password "
                "where the robot reads it (environment or keyring), then run again",
                step="preflight", portal=name)
        logger.info("{}: the password was changed since it was refused; trying the new one", name)
        store.forget_refused_login(name, username)
    return None


def remember_refusal(store: Store, config: Config, passwords: Mapping[str, str], error: CasebotError) -> None:
    """After a portal refused the login, keep the refused password's digest (not the password)."""
    if error.code is not ErrorCode.LOGIN_FAILED or error.portal not in PORTAL_NAMES:
        return
    name = error.portal
    username = config.portals[name].username
    known = store.refused_login(name, username)
    if known is not None and same_password(passwords[name], known.salt, known.digest):
        return  # refused on an earlier night already: keep when it was first refused
    salt = new_salt()
    store.remember_refused_login(name, username, salt, password_digest(passwords[name], salt))
