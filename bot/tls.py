"""Whom the robot trusts over HTTPS, and what is wrong with a server certificate when it does not.

Every HTTP client of the robot (alerts, webhooks, the bench floor, the sandbox's admin calls) verifies against
`ssl_context(settings)`: the system's trust store plus `tls.ca_bundle`, host names checked. Chromium gets the same
trust through an NSS database of its own (`bot.browser.trust`). Verification is never switched off: a certificate
the robot cannot trust stops the night at preflight (TLS_CERTIFICATE) with what was wrong, in words.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from cryptography import x509

from bot.certinfo import Validity, common_name
from bot.clientcert import ClientCertificate
from bot.config import TlsSettings
from bot.errors import ConfigError
from bot.net import Proxy, connect

Problem = Literal["untrusted", "expired", "not_yet_valid", "wrong_host", "handshake"]

# OpenSSL's verify codes (x509_vfy.h) for what an operator can act on.
_EXPIRED = {10}  # X509_V_ERR_CERT_HAS_EXPIRED
_NOT_YET_VALID = {9}  # X509_V_ERR_CERT_NOT_YET_VALID
_WRONG_HOST = {62, 63, 64}  # HOSTNAME_MISMATCH, EMAIL_MISMATCH, IP_ADDRESS_MISMATCH
_UNTRUSTED = {2, 18, 19, 20, 21, 27, 28}  # unknown issuer, self-signed, chain not trusted or rejected


def ssl_context(settings: TlsSettings | None = None) -> ssl.SSLContext:
    """A client context trusting the system's store and the configured bundle; certificates and host names are
    always checked."""
    context = ssl.create_default_context()  # CERT_REQUIRED, check_hostname, the system's roots
    bundle = settings.ca_bundle if settings is not None else None
    if bundle is not None:
        try:
            context.load_verify_locations(cafile=str(bundle))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"tls.ca_bundle: {bundle} is not a readable PEM file of CA certificates ({exc})"
                              ) from exc
    return context


@dataclass(frozen=True)
class ServerCertificate(Validity):
    """A server's certificate as a TLS handshake found it, and what is wrong with it (None: trusted)."""

    host: str
    port: int
    subject: str
    issuer: str
    sans: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    problem: Problem | None = None
    detail: str = ""  # the problem in words, for the operator
    # The server refused the robot as a client (it requires a client certificate the robot did not present, or
    # does not accept the one it did): in words, "" when it did not.
    client_refused: str = ""

    @property
    def trusted(self) -> bool:
        return self.problem is None

    def describe(self) -> str:
        """One line: who the certificate is for, who issued it, until when."""
        names = ", ".join(self.sans) or self.subject
        return f"certificate for {names}, issued by {self.issuer}, valid until {self.not_after:%Y-%m-%d}"


class HandshakeFailed(ConnectionError):
    """The server did not complete a TLS handshake for a reason that is not its certificate."""


# The TLS alerts a server sends when it refuses the client's certificate (OpenSSL's reason names), in words. With
# TLS 1.3 they come after the client's side of the handshake is done, at the first read; with TLS 1.2, during it.
_CLIENT_ALERTS = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "the portal requires a client certificate",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "the portal refused the client certificate as expired",
    "TLSV1_ALERT_UNKNOWN_CA": "the portal does not accept the CA that issued the client certificate",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the portal refused the client certificate as bad",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": "the portal refused the client certificate as unsupported",
    "SSLV3_ALERT_CERTIFICATE_REVOKED": "the portal refused the client certificate as revoked",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "the portal refused the client certificate",
    "TLSV1_ALERT_ACCESS_DENIED": "the portal denied access to the client certificate",
}


def client_refusal(exc: ssl.SSLError, presented: ClientCertificate | None) -> str:
    """Words for a server's refusal of the robot as a client, or "" when `exc` is about something else."""
    words = _CLIENT_ALERTS.get(str(exc.reason or ""))
    if words is None:
        return ""
    if presented is None:
        return f"{words}, and the robot has none configured for it (TLS alert {exc.reason})"
    return f"{words}: the robot presented its {presented.describe()} (TLS alert {exc.reason})"


def _refused_after_handshake(tls: ssl.SSLSocket, netloc: str, presented: ClientCertificate | None) -> str:
    """A HEAD request on the verified connection, to hear a refusal TLS 1.3 sends only after the handshake (a
    client certificate required, or not accepted). Nothing is read but the answer's first bytes."""
    try:
        tls.sendall(f"HEAD / HTTP/1.1\r\nHost: {netloc}\r\nConnection: close\r\n\r\n".encode())
        tls.recv(1)
    except ssl.SSLError as exc:
        return client_refusal(exc, presented)
    except OSError:
        return ""  # a server that closes without a word: not a certificate matter, the screen walk will tell
    return ""


def _sans(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    return (*(str(ip) for ip in ext.get_values_for_type(x509.IPAddress)), *ext.get_values_for_type(x509.DNSName))


def describe_certificate(der: bytes, host: str, port: int, problem: Problem | None = None,
                         detail: str = "") -> ServerCertificate:
    cert = x509.load_der_x509_certificate(der)
    return ServerCertificate(host, port, common_name(cert.subject), common_name(cert.issuer), _sans(cert),
                             cert.not_valid_before_utc, cert.not_valid_after_utc, problem, detail)


def problem_of(verify_code: int) -> Problem:
    if verify_code in _EXPIRED:
        return "expired"
    if verify_code in _NOT_YET_VALID:
        return "not_yet_valid"
    if verify_code in _WRONG_HOST:
        return "wrong_host"
    if verify_code in _UNTRUSTED:
        return "untrusted"
    return "handshake"


def in_words(cert: ServerCertificate, problem: Problem, verify_message: str = "") -> str:
    """What an operator reads: the problem, with the certificate's own facts that show it."""
    if problem == "expired":
        return f"the certificate expired on {cert.not_after:%Y-%m-%d %H:%M} UTC"
    if problem == "not_yet_valid":
        return f"the certificate is not valid until {cert.not_before:%Y-%m-%d %H:%M} UTC (check the clock)"
    if problem == "wrong_host":
        return (f"the certificate is for {', '.join(cert.sans) or cert.subject}, not {cert.host} "
                "(wrong host name in the URL, or the wrong certificate on the server)")
    if problem == "untrusted":
        return (f"the certificate is signed by {cert.issuer!r}, a CA the robot does not trust "
                "(not in the system's trust store nor in tls.ca_bundle)")
    return f"the certificate was refused: {verify_message or 'unknown reason'}"


def _peer_certificate(host: str, port: int, timeout: float, proxy: Proxy | None) -> bytes:
    """The certificate a server presents, read without trusting it, only to say what is wrong with it after the
    verifying handshake refused it: the handshake is all that happens on this connection, no request is sent."""
    describe_only = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    describe_only.check_hostname = False
    describe_only.verify_mode = ssl.CERT_NONE
    with connect(proxy, host, port, timeout_s=timeout) as sock, \
            describe_only.wrap_socket(sock, server_hostname=host) as tls:
        der = tls.getpeercert(binary_form=True)
    if der is None:
        raise HandshakeFailed(f"{host}:{port} presented no certificate")
    return der


def check_server(url: str, settings: TlsSettings | None = None, timeout: float = 10.0, *,
                 proxy: Proxy | None = None, client: ClientCertificate | None = None) -> ServerCertificate:
    """A TLS handshake with `url`'s server as the robot's clients make it (through `proxy`'s CONNECT tunnel
    unless the host goes direct, presenting `client` when the portal has a client certificate), then a HEAD
    request. Returns the server's certificate, with the problem (untrusted, expired, wrong host, …) in words when
    the robot would refuse it, and `client_refused` when the server refused the robot as a client. Raises OSError
    when the server cannot be reached at all, and HandshakeFailed when it does not speak TLS properly."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"not an https URL: {url}")
    host, port = parts.hostname, parts.port or 443
    context = ssl_context(settings)
    if client is not None:
        client.load_into(context)
    try:
        with connect(proxy, host, port, timeout_s=timeout) as sock, \
                context.wrap_socket(sock, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
            refused = _refused_after_handshake(tls, parts.netloc, client)
    except ssl.SSLCertVerificationError as exc:
        problem = problem_of(exc.verify_code)
        der = _peer_certificate(host, port, timeout, proxy)
        seen = describe_certificate(der, host, port)
        return describe_certificate(der, host, port, problem, in_words(seen, problem, exc.verify_message))
    except ssl.SSLError as exc:
        refused = client_refusal(exc, client)
        if not refused:
            raise HandshakeFailed(f"no TLS handshake with {host}:{port}: {exc.reason or exc}") from exc
        # TLS 1.2: the refusal came during the handshake, after the server's certificate was verified.
        der = _peer_certificate(host, port, timeout, proxy)
    if der is None:
        raise HandshakeFailed(f"{host}:{port} presented no certificate")
    return replace(describe_certificate(der, host, port), client_refused=refused)


# Chromium's certificate errors (net/base/net_error_list.h) as the same problems.
CHROMIUM_ERRORS: dict[str, Problem] = {
    "ERR_CERT_AUTHORITY_INVALID": "untrusted",
    "ERR_CERT_DATE_INVALID": "expired",
    "ERR_CERT_COMMON_NAME_INVALID": "wrong_host",
}
CHROMIUM_WORDS: dict[str, str] = {
    "ERR_CERT_AUTHORITY_INVALID": "the certificate is signed by a CA the robot does not trust (not in the "
                                  "system's trust store nor in tls.ca_bundle)",
    "ERR_CERT_DATE_INVALID": "the certificate has expired or is not valid yet (or the clock is wrong)",
    "ERR_CERT_COMMON_NAME_INVALID": "the certificate is for another host name than the portal's URL",
    "ERR_CERT_INVALID": "the certificate is malformed",
    "ERR_CERT_REVOKED": "the certificate has been revoked",
    "ERR_CERT_WEAK_SIGNATURE_ALGORITHM": "the certificate is signed with a weak algorithm",
    "ERR_CERT_WEAK_KEY": "the certificate's key is too weak",
    "ERR_CERT_VALIDITY_TOO_LONG": "the certificate's validity period is too long",
    "ERR_CERT_NAME_CONSTRAINT_VIOLATION": "the certificate breaks its CA's name constraints",
    "ERR_CERT_CONTAINS_ERRORS": "the certificate contains errors",
    "ERR_SSL_PROTOCOL_ERROR": "the server's TLS is broken or it does not speak TLS",
    "ERR_SSL_VERSION_OR_CIPHER_MISMATCH": "the server offers no TLS version or cipher the browser accepts",
}


def chromium_certificate_problem(message: str) -> str | None:
    """Words for a Chromium certificate error in a Playwright error message (`net::ERR_CERT_…`), or None when
    the message is about something else."""
    for code, words in CHROMIUM_WORDS.items():
        if f"net::{code}" in message:
            return f"{words} (net::{code})"
    if "net::ERR_CERT_" in message:
        code = message.split("net::", 1)[1].split()[0]
        return f"the browser refused the certificate (net::{code})"
    return None


# Playwright's driver answers for a context with client certificates (it makes the portal's TLS connection
# itself): when that connection fails, the browser gets a 503 page with this prefix and Node's reason.
INTERCEPTOR_ERROR = "Playwright client-certificate error:"


def interceptor_problem(body: str) -> tuple[Literal["server", "client"], str] | None:
    """What Playwright's client-certificate page says went wrong: the portal's certificate ("server": Node did not
    trust it) or the robot's ("client": the portal sent a TLS alert refusing it), in Node's words; None when the
    page is not that one."""
    start = body.find(INTERCEPTOR_ERROR)
    if start < 0:
        return None
    reason = body[start + len(INTERCEPTOR_ERROR):].split("<", 1)[0].strip()
    return ("client" if "alert" in reason.lower() else "server"), reason
