"""The sandbox's TLS material: a test CA, the portals' server certificate signed by it, and the bad certificates
tests serve on purpose (expired, for another host, from a CA nobody trusts, about to expire).

Made with `cryptography` at sandbox start. ECDSA P-256 keys: quick to make (a sandbox makes several at every
start) and accepted by Chromium and Python's `ssl` alike. Every private key is written owner-only.

The files, in a folder (`<sandbox data>/tls/` unless a shared CA folder is given):
  ca.pem, ca-key.pem                    the test CA (the robot's `tls.ca_bundle` in a sandbox config)
  server.pem, server-key.pem            127.0.0.1, ::1 and localhost, valid from a day ago for a year
  <kind>.pem, <kind>-key.pem            a bad server certificate of `BAD_KINDS`, made when asked for
  client-ca.pem, client-ca-key.pem      the CA the portals that require a client certificate accept
  client.pem, client-key.pem            the robot's client certificate, its key encrypted with
                                        CLIENT_PASSPHRASE (a "funktionscertifikat" as an agency issues one)
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SANDBOX_HOSTS = ("127.0.0.1", "::1", "localhost")
OTHER_HOST = "portal.example"
CA_NAME = "casebot sandbox test CA"
ROGUE_CA_NAME = "casebot untrusted test CA"

# The certificate a portal serves: "good" (the default), or one that must make the robot stop.
BAD_KINDS = ("expired", "wrong_host", "untrusted", "expiring")
KINDS = ("good", *BAD_KINDS)
EXPIRING_DAYS = 10  # "expiring": inside the robot's default 30-day warning, and valid today
CLIENT_CA_NAME = "casebot sandbox client CA"
CLIENT_NAME = "casebot robot (sandbox)"
# The sandbox's published training passphrase for the robot's client key, like its training passwords.
CLIENT_PASSPHRASE = "klient-pass"


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, on disk."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class Issuer:
    """A CA that signs certificates: its certificate and key in memory, and its files."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    files: KeyPair


def _now() -> datetime:
    return datetime.now(UTC)


def _write_private(path: Path, data: bytes) -> None:
    """Owner-only from the first byte (never world-readable, not even for a moment), then moved into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _save(pair: KeyPair, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey,
          passphrase: str | None = None) -> KeyPair:
    pair.cert.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(pair.cert.parent, 0o700)
    encryption: serialization.KeySerializationEncryption = (
        serialization.NoEncryption() if passphrase is None
        else serialization.BestAvailableEncryption(passphrase.encode()))
    _write_private(pair.key, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               encryption))
    _write_public(pair.cert, cert.public_bytes(serialization.Encoding.PEM))
    return pair


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "casebot sandbox"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(folder: Path, common_name: str = CA_NAME, *, stem: str = "ca", days: int = 3650) -> Issuer:
    """A new self-signed CA in `folder` (`<stem>.pem`, `<stem>-key.pem`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    start = _now() - timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    files = _save(KeyPair(folder / f"{stem}.pem", folder / f"{stem}-key.pem"), cert, key)
    return Issuer(cert, key, files)


def load_ca(folder: Path, stem: str = "ca") -> Issuer:
    files = KeyPair(folder / f"{stem}.pem", folder / f"{stem}-key.pem")
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{files.key}: not an EC key")
    return Issuer(cert, key, files)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Several test processes may share one CA folder and start at the same moment: one makes it."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_ca(folder: Path, stem: str = "ca", common_name: str = CA_NAME) -> Issuer:
    """The CA `stem` in `folder`, made there first if it has none."""
    with _locked(folder):
        if (folder / f"{stem}.pem").exists() and (folder / f"{stem}-key.pem").exists():
            return load_ca(folder, stem)
        return make_ca(folder, common_name, stem=stem)


def ensure_client_ca(folder: Path) -> Issuer:
    """The CA whose client certificates the portals requiring one accept, in `folder`."""
    return ensure_ca(folder, "client-ca", CLIENT_CA_NAME)


def _san(hosts: Sequence[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _issue(issuer: Issuer, pair: KeyPair, subject: str, usage: x509.ObjectIdentifier,
           names: x509.SubjectAlternativeName | None, not_before: datetime | None, not_after: datetime | None,
           passphrase: str | None = None) -> KeyPair:
    """An end-entity certificate for `usage` (serverAuth or clientAuth) signed by `issuer`, with a new key.
    Default validity: from a day ago for a year."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or _now() - timedelta(days=1)
    end = not_after or start + timedelta(days=365)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer.cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end))
    if names is not None:
        builder = builder.add_extension(names, critical=False)
    cert = (builder
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
                           critical=False)
            .sign(issuer.key, hashes.SHA256()))
    return _save(pair, cert, key, passphrase)


def issue_server_certificate(issuer: Issuer, pair: KeyPair, hosts: Sequence[str] = SANDBOX_HOSTS, *,
                             not_before: datetime | None = None, not_after: datetime | None = None) -> KeyPair:
    """A TLS server certificate for `hosts` (IP addresses as IP SANs, names as DNS SANs), signed by `issuer`.
    Default validity: from a day ago for a year."""
    return _issue(issuer, pair, hosts[0], ExtendedKeyUsageOID.SERVER_AUTH, _san(hosts), not_before, not_after)


def issue_client_certificate(issuer: Issuer, pair: KeyPair, common_name: str = CLIENT_NAME, *,
                             passphrase: str | None = CLIENT_PASSPHRASE, not_before: datetime | None = None,
                             not_after: datetime | None = None) -> KeyPair:
    """A TLS client certificate (extended key usage clientAuth) signed by `issuer`, its key encrypted with
    `passphrase` (None: unencrypted). Default validity: from a day ago for a year."""
    return _issue(issuer, pair, common_name, ExtendedKeyUsageOID.CLIENT_AUTH, None, not_before, not_after,
                  passphrase)


def _pair(folder: Path, stem: str) -> KeyPair:
    return KeyPair(folder / f"{stem}.pem", folder / f"{stem}-key.pem")


def expired_certificate(issuer: Issuer, folder: Path) -> KeyPair:
    """Right host, trusted CA, but it ran out yesterday."""
    end = _now() - timedelta(days=1)
    return issue_server_certificate(issuer, _pair(folder, "expired"), not_before=end - timedelta(days=365),
                                    not_after=end)


def wrong_host_certificate(issuer: Issuer, folder: Path) -> KeyPair:
    """Trusted CA, valid dates, but for another host name than the portal's."""
    return issue_server_certificate(issuer, _pair(folder, "wrong_host"), (OTHER_HOST,))


def untrusted_certificate(folder: Path) -> KeyPair:
    """Right host and dates, signed by a CA of its own that no robot config trusts."""
    rogue = make_ca(folder, ROGUE_CA_NAME, stem="rogue-ca")
    return issue_server_certificate(rogue, _pair(folder, "untrusted"))


def expiring_certificate(issuer: Issuer, folder: Path, days: int = EXPIRING_DAYS) -> KeyPair:
    """Good in every way, but only for `days` more days: the robot warns, and goes on."""
    return issue_server_certificate(issuer, _pair(folder, "expiring"), not_after=_now() + timedelta(days=days))


def bad_certificate(kind: str, issuer: Issuer, folder: Path) -> KeyPair:
    if kind == "expired":
        return expired_certificate(issuer, folder)
    if kind == "wrong_host":
        return wrong_host_certificate(issuer, folder)
    if kind == "untrusted":
        return untrusted_certificate(folder)
    if kind == "expiring":
        return expiring_certificate(issuer, folder)
    raise ValueError(f"unknown certificate kind {kind!r} (one of {', '.join(KINDS)})")


# Client certificates tests present on purpose: "expired" and "expiring" from the client CA, "untrusted" from a CA
# of its own the portals do not accept.
CLIENT_KINDS = ("good", "expired", "expiring", "untrusted")


def client_certificate(kind: str, client_ca: Issuer, folder: Path,
                       passphrase: str | None = CLIENT_PASSPHRASE) -> KeyPair:
    """A client certificate of `kind` in `folder` (`client-<kind>.pem`; the good one `client.pem`)."""
    pair = _pair(folder, "client" if kind == "good" else f"client-{kind}")
    if kind == "good":
        return issue_client_certificate(client_ca, pair, passphrase=passphrase)
    if kind == "expired":
        end = _now() - timedelta(days=1)
        return issue_client_certificate(client_ca, pair, passphrase=passphrase,
                                        not_before=end - timedelta(days=365), not_after=end)
    if kind == "expiring":
        return issue_client_certificate(client_ca, pair, passphrase=passphrase,
                                        not_after=_now() + timedelta(days=EXPIRING_DAYS))
    if kind == "untrusted":
        rogue = make_ca(folder, ROGUE_CA_NAME, stem="rogue-client-ca")
        return issue_client_certificate(rogue, pair, passphrase=passphrase)
    raise ValueError(f"unknown client certificate kind {kind!r} (one of {', '.join(CLIENT_KINDS)})")


@dataclass(frozen=True)
class SandboxTls:
    """What the sandbox serves with: the CA a client must trust, a certificate per kind asked for, and for portals
    that require a client certificate, the CA they accept and the robot's certificate from it."""

    ca_file: Path
    certificates: dict[str, KeyPair]  # kind -> files ("good" always)
    client_ca_file: Path | None = None
    client: KeyPair | None = None

    def for_kind(self, kind: str) -> KeyPair:
        return self.certificates[kind]


def sandbox_tls(folder: Path, ca_dir: Path | None = None, kinds: Sequence[str] = (), *,
                client_auth: bool = False) -> SandboxTls:
    """The CA (in `ca_dir` when given and shared between sandboxes, else made in `folder`), a fresh server
    certificate for the sandbox's hosts, and one certificate per bad kind in `kinds`. `client_auth`: also the
    client CA (beside the CA) and a fresh client certificate for the robot in `folder`."""
    issuer = ensure_ca(ca_dir) if ca_dir is not None else make_ca(folder)
    certificates = {"good": issue_server_certificate(issuer, _pair(folder, "server"))}
    for kind in dict.fromkeys(kinds):
        if kind != "good":
            certificates[kind] = bad_certificate(kind, issuer, folder)
    if not client_auth:
        return SandboxTls(issuer.files.cert, certificates)
    client_ca = ensure_client_ca(ca_dir if ca_dir is not None else folder)
    return SandboxTls(issuer.files.cert, certificates, client_ca.files.cert,
                      client_certificate("good", client_ca, folder))
