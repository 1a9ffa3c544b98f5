"""The sandbox's TLS material (portals/tls.py) and the robot's trust (bot/tls.py), with real handshakes against
real servers: the robot's context accepts the sandbox's good certificate and refuses the expired, the wrong-host
and the untrusted one, saying which is which."""

from __future__ import annotations

import ipaddress
import ssl
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from bot.config import TlsSettings
from bot.errors import ConfigError
from bot.tls import check_server, chromium_certificate_problem, ssl_context
from portals import tls as material
from tests.sandbox_proc import Sandbox


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_the_sandbox_material_is_a_ca_and_a_server_certificate_for_the_local_hosts(tmp_path: Path) -> None:
    made = material.sandbox_tls(tmp_path / "tls", kinds=material.BAD_KINDS)
    ca, server = _cert(made.ca_file), _cert(made.for_kind("good").cert)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert server.issuer == ca.subject
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("127.0.0.1"),
                                                             ipaddress.ip_address("::1")}
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    now = datetime.now(UTC)
    assert timedelta(hours=23) < now - server.not_valid_before_utc < timedelta(hours=25)
    assert timedelta(days=363) < server.not_valid_after_utc - now < timedelta(days=365)
    # Every key owner-only; the folder too.
    keys = sorted((tmp_path / "tls").glob("*-key.pem"))
    assert len(keys) == 2 + len(material.BAD_KINDS) + 1  # CA, server, the bad ones, the rogue CA
    assert all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys)
    assert stat.S_IMODE((tmp_path / "tls").stat().st_mode) == 0o700


def test_the_bad_certificates_are_bad_in_exactly_one_way(tmp_path: Path) -> None:
    made = material.sandbox_tls(tmp_path, kinds=material.BAD_KINDS)
    ca = _cert(made.ca_file)
    now = datetime.now(UTC)
    expired = _cert(made.for_kind("expired").cert)
    assert expired.not_valid_after_utc < now and expired.issuer == ca.subject
    wrong = _cert(made.for_kind("wrong_host").cert)
    assert wrong.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName) == [material.OTHER_HOST]
    assert wrong.issuer == ca.subject and wrong.not_valid_after_utc > now
    untrusted = _cert(made.for_kind("untrusted").cert)
    assert untrusted.issuer != ca.subject and untrusted.not_valid_after_utc > now
    expiring = _cert(made.for_kind("expiring").cert)
    assert timedelta(days=material.EXPIRING_DAYS - 1) < expiring.not_valid_after_utc - now \
        <= timedelta(days=material.EXPIRING_DAYS)


def test_a_shared_ca_folder_is_made_once_and_reused(tmp_path: Path) -> None:
    first = material.ensure_ca(tmp_path / "ca")
    again = material.ensure_ca(tmp_path / "ca")
    assert first.cert == again.cert
    one = material.sandbox_tls(tmp_path / "a", tmp_path / "ca")
    two = material.sandbox_tls(tmp_path / "b", tmp_path / "ca")
    assert one.ca_file == two.ca_file == tmp_path / "ca" / "ca.pem"
    assert _cert(one.for_kind("good").cert).issuer == _cert(two.for_kind("good").cert).issuer


def test_the_robots_context_always_checks_certificates_and_host_names(mixed_box: Sandbox) -> None:
    for settings in (None, TlsSettings(), mixed_box.tls):
        context = ssl_context(settings)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    # The sandbox CA is trusted only when configured: the system's store alone refuses the sandbox.
    with httpx.Client(verify=ssl_context(TlsSettings()), timeout=10) as client, \
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        client.get(mixed_box.url("casesystem", "/healthz"))


def test_a_missing_bundle_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tls.ca_bundle"):
        ssl_context(TlsSettings(ca_bundle=tmp_path / "nowhere.pem"))


@pytest.mark.parametrize(("portal", "reason"), [("skv", "certificate has expired"),
                                                ("fk", "Hostname mismatch|IP address mismatch"),
                                                ("csn", "unable to get local issuer certificate")])
def test_the_robots_client_refuses_each_bad_certificate(mixed_box: Sandbox, portal: str, reason: str) -> None:
    with mixed_box.http_client() as client:
        assert client.get(mixed_box.url("casesystem", "/healthz")).status_code == 200
        assert client.get(mixed_box.url("af", "/healthz")).status_code == 200  # expiring, still valid
        with pytest.raises(httpx.ConnectError, match=reason):
            client.get(mixed_box.url(portal, "/healthz"))


def test_check_server_says_what_is_wrong(mixed_box: Sandbox) -> None:
    good = check_server(mixed_box.url("casesystem"), mixed_box.tls)
    assert good.trusted and good.issuer == material.CA_NAME and "127.0.0.1" in good.sans
    assert good.days_left() > 360
    expired = check_server(mixed_box.url("skv"), mixed_box.tls)
    assert expired.problem == "expired" and expired.not_after < datetime.now(UTC)
    assert f"expired on {expired.not_after:%Y-%m-%d}" in expired.detail
    wrong = check_server(mixed_box.url("fk"), mixed_box.tls)
    assert wrong.problem == "wrong_host" and wrong.sans == (material.OTHER_HOST,)
    assert "for portal.example, not 127.0.0.1" in wrong.detail
    untrusted = check_server(mixed_box.url("csn"), mixed_box.tls)
    assert untrusted.problem == "untrusted" and untrusted.issuer == material.ROGUE_CA_NAME
    assert "a CA the robot does not trust" in untrusted.detail
    expiring = check_server(mixed_box.url("af"), mixed_box.tls)
    assert expiring.trusted and expiring.expires_within(30) and not expiring.expires_within(5)
    # Trusting only the system's store, the sandbox's own good certificate is untrusted too.
    assert check_server(mixed_box.url("casesystem"), TlsSettings()).problem == "untrusted"


def test_check_server_raises_for_a_server_that_is_not_there(mixed_box: Sandbox) -> None:
    from tests.sandbox_proc import free_port_base

    with pytest.raises(OSError):
        check_server(f"https://127.0.0.1:{free_port_base(1)}", mixed_box.tls, timeout=2)


def test_chromium_certificate_errors_in_words() -> None:
    assert "does not trust" in chromium_certificate_problem(
        "Page.goto: net::ERR_CERT_AUTHORITY_INVALID at https://127.0.0.1:1/login")  # type: ignore[operator]
    assert "expired" in chromium_certificate_problem("net::ERR_CERT_DATE_INVALID at x")  # type: ignore[operator]
    assert "another host" in chromium_certificate_problem(  # type: ignore[operator]
        "net::ERR_CERT_COMMON_NAME_INVALID at x")
    assert "net::ERR_CERT_SOMETHING_NEW" in chromium_certificate_problem(  # type: ignore[operator]
        "net::ERR_CERT_SOMETHING_NEW at x")
    assert chromium_certificate_problem("net::ERR_CONNECTION_REFUSED at x") is None
