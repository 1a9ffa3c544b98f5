"""The robot's client certificates (bot/clientcert.py) and the preflight's handshake with a portal that requires
one (bot/tls.py), against a real sandbox serving mutual TLS: what an operator can fix on the robot host is said as
such before any connection; what only the portal can judge is said from the TLS alert it sent."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from bot.clientcert import ClientCertificate, browser_options, load_client_certificate, load_client_certificates
from bot.config import ClientCertificateSettings, load_config, write_config
from bot.dev.sandbox import CLIENT_PASSPHRASE, Sandbox, sandbox_config, sandbox_environ
from bot.errors import ErrorCode, SystemException
from bot.masking import mask_text
from bot.tls import check_server, interceptor_problem
from bot.upkeep.preflight import certificate_failure, check_certificates
from portals import tls as material
from tests.own_sandbox import own_sandbox
from tests.sandbox_proc import shared_ca_dir

PASS = {"CASEBOT_FK_CERT_PASSPHRASE": CLIENT_PASSPHRASE}


# Försäkringskassan requires a client certificate from the sandbox's client CA; the others do not.
mtls_box = own_sandbox(2, seed=3, client_auth=("fk",))


def _settings(cert: Path, key: Path, **extra: object) -> ClientCertificateSettings:
    """Settings as the config loader makes them: named after the portal they belong to."""
    settings = ClientCertificateSettings.model_validate({"cert": str(cert), "key": str(key), **extra})
    settings._portal, settings._username = "fk", "kommun"
    return settings


def _made(kind: str, folder: Path, passphrase: str | None = CLIENT_PASSPHRASE) -> material.KeyPair:
    return material.client_certificate(kind, material.ensure_client_ca(shared_ca_dir()), folder, passphrase)


def _refusal(call: object, *args: object, **kwargs: object) -> SystemException:
    with pytest.raises(SystemException) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    error = caught.value
    assert error.code == ErrorCode.CLIENT_CERTIFICATE and error.portal == "fk" and error.step == "preflight"
    assert error.runbook == "runbooks/CLIENT_CERTIFICATE.md"
    return error


# -- what the robot can tell on its own host ----------------------------------------------------------------------
def test_a_good_certificate_loads_with_its_passphrase_from_the_environment(tmp_path: Path) -> None:
    pair = _made("good", tmp_path)
    cert = load_client_certificate("fk", _settings(pair.cert, pair.key), PASS)
    assert cert.subject == material.CLIENT_NAME and cert.issuer == material.CLIENT_CA_NAME
    assert 363 < cert.days_left() < 365 and not cert.expires_within(30)
    assert CLIENT_PASSPHRASE not in repr(cert)  # a dataclass repr in a log line must not carry it
    assert mask_text(f"passphrase {CLIENT_PASSPHRASE}") == "passphrase ***"  # registered with the log masking
    # The browser's option: the portal's origin, the files, the passphrase.
    option = cert.playwright_option("https://fk.kommun.example:8443/start")
    assert option == {"origin": "https://fk.kommun.example:8443", "certPath": str(pair.cert),
                      "keyPath": str(pair.key), "passphrase": CLIENT_PASSPHRASE}


def test_an_unencrypted_key_needs_no_passphrase(tmp_path: Path) -> None:
    pair = _made("good", tmp_path, passphrase=None)
    cert = load_client_certificate("fk", _settings(pair.cert, pair.key), {})
    assert cert.passphrase is None and "passphrase" not in cert.playwright_option("https://h:1")


def test_a_missing_certificate_file_is_named_with_its_setting(tmp_path: Path) -> None:
    pair = _made("good", tmp_path)
    error = _refusal(load_client_certificate, "fk", _settings(tmp_path / "gone.pem", pair.key), PASS)
    assert f"the client certificate's cert {tmp_path / 'gone.pem'} does not exist" in error.message
    assert "portals.fk.client_certificate.cert" in error.message
    error = _refusal(load_client_certificate, "fk", _settings(pair.cert, tmp_path / "gone-key.pem"), PASS)
    assert "portals.fk.client_certificate.key" in error.message


def test_no_passphrase_says_where_to_put_one(tmp_path: Path) -> None:
    pair = _made("good", tmp_path)
    error = _refusal(load_client_certificate, "fk", _settings(pair.cert, pair.key), {})
    assert "is encrypted and there is no passphrase" in error.message
    assert "CASEBOT_FK_CERT_PASSPHRASE" in error.message
    assert "keyring set casebot/fk-certificate kommun" in error.message
    # A variable of the admin's choosing is looked up instead.
    named = _settings(pair.cert, pair.key, passphrase_env="FK_KEY_PASS")
    assert load_client_certificate("fk", named, {"FK_KEY_PASS": CLIENT_PASSPHRASE}).subject == material.CLIENT_NAME


def test_a_wrong_passphrase_is_said_as_such(tmp_path: Path) -> None:
    pair = _made("good", tmp_path)
    error = _refusal(load_client_certificate, "fk", _settings(pair.cert, pair.key),
                     {"CASEBOT_FK_CERT_PASSPHRASE": "fel-lösen"})
    assert "the passphrase does not open the client certificate's key" in error.message
    assert "fel-lösen" not in str(error)


def test_a_key_of_another_certificate_is_refused(tmp_path: Path) -> None:
    one, other = _made("good", tmp_path / "one"), _made("good", tmp_path / "other")
    error = _refusal(load_client_certificate, "fk", _settings(one.cert, other.key), PASS)
    assert f"the key {other.key} is not the key of the client certificate" in error.message


def test_an_expired_certificate_is_refused_before_any_connection(tmp_path: Path) -> None:
    pair = _made("expired", tmp_path)
    expired_on = x509.load_pem_x509_certificate(pair.cert.read_bytes()).not_valid_after_utc
    error = _refusal(load_client_certificate, "fk", _settings(pair.cert, pair.key), PASS)
    assert f"expired on {expired_on:%Y-%m-%d %H:%M} UTC: install the renewed one" in error.message


def test_a_certificate_not_yet_valid_points_at_the_clock(tmp_path: Path) -> None:
    pair = _made("good", tmp_path)
    error = _refusal(load_client_certificate, "fk", _settings(pair.cert, pair.key), PASS,
                     now=datetime.now(UTC) - timedelta(days=3))
    assert "is not valid until" in error.message and "check the clock" in error.message


def test_a_key_every_user_can_read_is_refused(tmp_path: Path) -> None:
    pair = _made("good", tmp_path)
    os.chmod(pair.key, 0o644)
    error = _refusal(load_client_certificate, "fk", _settings(pair.cert, pair.key), PASS)
    assert "readable by every user on the host" in error.message and "chmod 600" in error.message


def test_a_file_that_is_not_a_pem_certificate_points_at_the_conversion(tmp_path: Path) -> None:
    pair = _made("good", tmp_path)
    p12 = tmp_path / "robot.p12"
    p12.write_bytes(b"\x30\x82\x05\x00 not pem")
    error = _refusal(load_client_certificate, "fk", _settings(p12, pair.key), PASS)
    assert "is not a PEM certificate" in error.message and ".p12/.pfx" in error.message


def test_the_config_names_each_certificate_after_its_portal_and_survives_a_round_trip(tmp_path: Path,
                                                                                       mtls_box: Sandbox) -> None:
    config = sandbox_config(tmp_path, mtls_box)
    assert config.portals.fk.client_certificate is not None and config.portals.skv.client_certificate is None
    reread = load_config(write_config(config, tmp_path / "config.yaml"))
    settings = reread.portals.fk.client_certificate
    assert settings is not None and settings.env_var == "CASEBOT_FK_CERT_PASSPHRASE"
    assert settings.service == "casebot/fk-certificate" and settings.username == "kommun"
    loaded = load_client_certificates(reread, sandbox_environ(mtls_box))
    assert list(loaded) == ["fk"]
    (option,) = browser_options(reread, loaded)["fk"]
    assert option["origin"] == mtls_box.url("fk")
    # A client certificate over plain http is a config error, not a silent no-op.
    data = reread.model_dump(mode="json", exclude={"source"}, exclude_none=True)
    data["portals"]["fk"]["url"] = "http://127.0.0.1:1"
    with pytest.raises(ValueError, match="client certificate is presented over TLS only"):
        type(reread).model_validate(data, context={"base": tmp_path})


# -- what only the portal can judge: its TLS alert at the preflight's handshake ------------------------------------
def _presented(kind: str, folder: Path) -> ClientCertificate:
    """A certificate of `kind` loaded as the robot would present it (an expired one as if loaded before it ran
    out, to hear what the portal says of it)."""
    pair = _made(kind, folder)
    now = datetime.now(UTC) - timedelta(days=100) if kind == "expired" else None
    return load_client_certificate("fk", _settings(pair.cert, pair.key), PASS, now=now)


def test_the_portal_that_requires_a_certificate_says_so_when_the_robot_has_none(mtls_box: Sandbox) -> None:
    found = check_server(mtls_box.url("fk"), mtls_box.tls)
    assert found.trusted  # its own certificate is fine
    assert found.client_refused.startswith("the portal requires a client certificate, and the robot has none")
    assert "TLSV13_ALERT_CERTIFICATE_REQUIRED" in found.client_refused
    # The portals that do not ask for one are not troubled by the check.
    assert check_server(mtls_box.url("skv"), mtls_box.tls).client_refused == ""


def test_the_portal_accepts_the_robots_certificate(mtls_box: Sandbox, tmp_path: Path) -> None:
    found = check_server(mtls_box.url("fk"), mtls_box.tls, client=_presented("good", tmp_path))
    assert found.trusted and found.client_refused == ""


@pytest.mark.parametrize(("kind", "words"), [
    ("expired", "the portal refused the client certificate as expired"),
    ("untrusted", "the portal does not accept the CA that issued the client certificate"),
])
def test_the_portals_refusal_is_said_from_its_alert(mtls_box: Sandbox, tmp_path: Path, kind: str,
                                                     words: str) -> None:
    client = _presented(kind, tmp_path)
    found = check_server(mtls_box.url("fk"), mtls_box.tls, client=client)
    assert found.trusted and found.client_refused.startswith(words)
    assert str(client.cert) in found.client_refused  # which certificate it was


def test_the_preflight_stops_on_a_refusal_naming_the_portal_and_the_setting(mtls_box: Sandbox,
                                                                            tmp_path: Path) -> None:
    config = sandbox_config(tmp_path, mtls_box)
    without = config.model_copy(update={"portals": config.portals.model_copy(update={
        "fk": config.portals.fk.model_copy(update={"client_certificate": None})})})
    failure = certificate_failure(check_certificates(without))
    assert failure is not None and failure.code == ErrorCode.CLIENT_CERTIFICATE and failure.portal == "fk"
    assert f"fk ({mtls_box.url('fk')}): the portal requires a client certificate" in failure.message
    assert "set portals.fk.client_certificate" in failure.message
    clients = load_client_certificates(config, sandbox_environ(mtls_box))
    assert certificate_failure(check_certificates(config, clients=clients)) is None


def test_the_drivers_error_page_is_told_apart_from_a_portal_that_is_down() -> None:
    page = ("<html><body>Playwright client-certificate error: unable to verify the first certificate; if the "
            "root CA is installed locally, try running Node.js with --use-system-ca</body></html>")
    assert interceptor_problem(page) == ("server", "unable to verify the first certificate; if the root CA is "
                                                   "installed locally, try running Node.js with --use-system-ca")
    alert = "Playwright client-certificate error: ssl/tls alert certificate expired <br>"
    assert interceptor_problem(alert) == ("client", "ssl/tls alert certificate expired")
    assert interceptor_problem("<html>503 Service Unavailable</html>") is None
