"""The robot's client certificates: for a portal that requires mutual TLS (an agency's system-to-system access),
the certificate and key in `portals.<name>.client_certificate`, the key's passphrase from the environment or the
OS keyring like every password.

`load_client_certificate` reads and checks one before any connection is made, so what an operator can fix on the
robot host (a missing file, a wrong passphrase, a key for another certificate, an expired certificate) is said as
such at preflight (CLIENT_CERTIFICATE), not as a portal that "does not answer". What only the portal can judge
(a CA it does not accept, a revoked certificate) is said by the preflight's handshake (`bot.tls.check_server`).
"""

from __future__ import annotations

import os
import ssl
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from loguru import logger

from bot.certinfo import Validity, common_name
from bot.config import ClientCertificateSettings, Config
from bot.credentials import find_password
from bot.errors import ErrorCode, SystemException
from bot.masking import register_secret

if TYPE_CHECKING:  # Playwright's own shape of one entry of `client_certificates`
    from playwright._impl._api_structures import ClientCertificate as BrowserCertificate

# portal -> what that portal's browser contexts present (`new_context(client_certificates=…)`)
BrowserCertificates: TypeAlias = "dict[str, list[BrowserCertificate]]"


@dataclass(frozen=True)
class ClientCertificate(Validity):
    """A client certificate the robot can present: its files, the key's passphrase, and what it says."""

    portal: str
    cert: Path
    key: Path
    passphrase: str | None = field(repr=False)
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime

    def describe(self) -> str:
        return (f"client certificate {self.subject!r} ({self.cert}), issued by {self.issuer!r}, valid until "
                f"{self.not_after:%Y-%m-%d}")

    def load_into(self, context: ssl.SSLContext) -> None:
        """Present this certificate from `context` (a client context of `bot.tls.ssl_context`)."""
        context.load_cert_chain(str(self.cert), str(self.key), password=self.passphrase)

    def playwright_option(self, url: str) -> BrowserCertificate:
        """One entry of Playwright's `client_certificates` for the portal at `url` (its origin: scheme, host and
        port)."""
        parts = urlsplit(url)
        option: BrowserCertificate = {"origin": f"{parts.scheme}://{parts.netloc}", "certPath": str(self.cert),
                                      "keyPath": str(self.key)}
        if self.passphrase is not None:
            option["passphrase"] = self.passphrase
        return option


def _fail(portal: str, words: str) -> SystemException:
    return SystemException(ErrorCode.CLIENT_CERTIFICATE, f"{portal}: {words}", step="preflight", portal=portal,
                           retryable=False)


def _read(path: Path, what: str, portal: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise _fail(portal, f"the client certificate's {what} {path} does not exist "
                            f"(portals.{portal}.client_certificate.{what})") from exc
    except OSError as exc:
        raise _fail(portal, f"cannot read the client certificate's {what} {path}: {exc.strerror or exc} (the robot's "
                            "user must be able to read it)") from exc


def _key_is_encrypted(data: bytes) -> bool:
    return b"ENCRYPTED" in data.split(b"\n", 1)[0] or b"Proc-Type: 4,ENCRYPTED" in data


def _passphrase(settings: ClientCertificateSettings, key_data: bytes, portal: str,
                environ: Mapping[str, str] | None) -> str | None:
    if not _key_is_encrypted(key_data):
        return None
    value, where = find_password(settings, environ)
    if value is None:
        raise _fail(portal, f"the client certificate's key {settings.key} is encrypted and there is no passphrase: "
                            + where.replace("no password for", "none for", 1))
    register_secret(value)
    logger.debug("{}: client certificate passphrase from {}", portal, where)
    return value


def _private_key(data: bytes, passphrase: str | None, path: Path, portal: str) -> object:
    try:
        return serialization.load_pem_private_key(data, password=passphrase.encode() if passphrase else None)
    except TypeError as exc:  # an encrypted key the first line did not show, or a passphrase for a plain key
        raise _fail(portal, f"the key {path} and its passphrase do not go together ({exc})") from exc
    except ValueError as exc:
        if passphrase is not None:
            raise _fail(portal, f"the passphrase does not open the client certificate's key {path} (wrong "
                                "passphrase, or not the key it was set for)") from exc
        raise _fail(portal, f"{path} is not a PEM private key ({exc})") from exc


_KEY_TYPES = (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)


def load_client_certificate(portal: str, settings: ClientCertificateSettings,
                            environ: Mapping[str, str] | None = None, now: datetime | None = None
                            ) -> ClientCertificate:
    """The portal's client certificate, checked: the files readable, the key not readable by everyone, the
    passphrase found and right, the key the certificate's own, the certificate valid today. Raises a
    CLIENT_CERTIFICATE SystemException saying which of these is wrong."""
    cert_data = _read(settings.cert, "cert", portal)
    key_data = _read(settings.key, "key", portal)
    try:
        mode = settings.key.stat().st_mode
    except OSError:
        mode = 0
    if mode & stat.S_IROTH:
        raise _fail(portal, f"the client certificate's key {settings.key} is readable by every user on the host: "
                            f"chmod 600 it (owned by the robot's user)")
    try:
        cert = x509.load_pem_x509_certificate(cert_data)
    except ValueError as exc:
        raise _fail(portal, f"{settings.cert} is not a PEM certificate (-----BEGIN CERTIFICATE-----): a .p12/.pfx "
                            "file converts with openssl, see the runbook") from exc
    passphrase = _passphrase(settings, key_data, portal, environ)
    key = _private_key(key_data, passphrase, settings.key, portal)
    if not isinstance(key, _KEY_TYPES):
        raise _fail(portal, f"{settings.key} holds a kind of key TLS does not use ({type(key).__name__})")
    own = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    given = key.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    found = ClientCertificate(portal, settings.cert, settings.key, passphrase, common_name(cert.subject),
                              common_name(cert.issuer), cert.not_valid_before_utc, cert.not_valid_after_utc)
    if own != given:
        raise _fail(portal, f"the key {settings.key} is not the key of the {found.describe()} (a renewed "
                            "certificate installed without its new key, or the other way round)")
    today = now or datetime.now(UTC)
    if found.not_after <= today:
        raise _fail(portal, f"the {found.describe()} expired on {found.not_after:%Y-%m-%d %H:%M} UTC: install the "
                            "renewed one")
    if found.not_before > today:
        raise _fail(portal, f"the {found.describe()} is not valid until {found.not_before:%Y-%m-%d %H:%M} UTC "
                            "(check the clock)")
    return found


def load_client_certificates(config: Config, environ: Mapping[str, str] | None = None,
                             now: datetime | None = None) -> dict[str, ClientCertificate]:
    """Every portal's client certificate (portal -> certificate), checked; the first problem raised."""
    env = os.environ if environ is None else environ
    return {name: load_client_certificate(name, portal.client_certificate, env, now)
            for name, portal in config.portals.items() if portal.client_certificate is not None}


def browser_options(config: Config, certificates: Mapping[str, ClientCertificate]) -> BrowserCertificates:
    """portal -> Playwright's `client_certificates` for that portal's browser context."""
    return {name: [cert.playwright_option(config.portals[name].url)] for name, cert in certificates.items()}
