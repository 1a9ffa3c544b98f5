"""Portal passwords: from the environment first, then the OS keyring; never from a file, never logged.

Every password found is registered with the log masking, so even an accidental `logger.info(password)`
prints `***`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping, Sequence
from typing import Protocol

import keyring
from keyring.errors import KeyringError
from loguru import logger

from bot.config import Config
from bot.errors import ErrorCode, SystemException
from bot.masking import register_secret


def _from_keyring(service: str, username: str) -> tuple[str | None, str | None]:
    """(password, why-not). The keyring being absent or locked is a reason to report, not a crash."""
    try:
        return keyring.get_password(service, username), None
    except KeyringError as exc:
        return None, f"the OS keyring is not usable ({type(exc).__name__}: {exc})"
    except Exception as exc:  # third-party backends raise their own types (D-Bus errors and the like)
        return None, f"the OS keyring failed ({type(exc).__name__})"


class HasSecret(Protocol):
    """What a password lookup needs: a portal's settings, or the SMTP settings for alerts."""

    @property
    def name(self) -> str: ...
    @property
    def what(self) -> str: ...
    @property
    def env_var(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def username(self) -> str | None: ...


def _missing_message(portal: HasSecret, keyring_problem: str | None) -> str:
    text = (f"no password for {portal.what} (user '{portal.username}'): set the environment variable "
            f"{portal.env_var}, or store it in the OS keyring: keyring set {portal.service} {portal.username}")
    return f"{text}; {keyring_problem}" if keyring_problem else text


def find_password(portal: HasSecret, environ: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """(password or None, where it came from or why it was not found). Does not raise."""
    env = os.environ if environ is None else environ
    value = env.get(portal.env_var)
    if value:  # an empty variable is a forgotten export, not a password
        return value, f"environment variable {portal.env_var}"
    value, problem = _from_keyring(portal.service, portal.username or "")
    if value:
        return value, f"OS keyring service {portal.service}"
    return None, _missing_message(portal, problem)


def resolve_password(portal: HasSecret, environ: Mapping[str, str] | None = None) -> str:
    """The portal's password, or a CREDENTIALS_MISSING SystemException naming the portal and what to set."""
    value, where = find_password(portal, environ)
    if value is None:
        raise SystemException(ErrorCode.CREDENTIALS_MISSING, where, step="credentials", retryable=False)
    register_secret(value)
    logger.debug("{}: password from {}", portal.name, where)
    return value


def resolve_all(config: Config, environ: Mapping[str, str] | None = None,
                only: Sequence[str] | None = None) -> dict[str, str]:
    """Every portal's password (or those in `only`), or one error listing every missing one (an operator fixes
    them all at once)."""
    found: dict[str, str] = {}
    missing: list[str] = []
    for name, portal in config.portals.items():
        if only is not None and name not in only:
            continue
        value, where = find_password(portal, environ)
        if value is None:
            missing.append(where)
        else:
            register_secret(value)
            logger.debug("{}: password from {}", name, where)
            found[name] = value
    if missing:
        raise SystemException(ErrorCode.CREDENTIALS_MISSING, "\n".join(missing) + ("\n" if len(missing) > 1 else ""),
                              step="credentials", retryable=False)
    return found


# scrypt as OWASP recommends for stored password digests: what the store keeps of a refused password tells an
# attacker no more than a password hash would.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def new_salt() -> str:
    return os.urandom(16).hex()


def password_digest(password: str, salt: str) -> str:
    return hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, **_SCRYPT).hex()


def same_password(password: str, salt: str, digest: str) -> bool:
    return hmac.compare_digest(password_digest(password, salt), digest)
