"""Alerts go out over TLS trusting `tls.ca_bundle` and nothing the bundle does not cover: a real HTTPS webhook
receiver and a real SMTP relay with STARTTLS, each with a certificate from the test CA, and each refused when
its certificate comes from a CA the robot does not trust."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.alerts import Alert, send_alert
from bot.config import AlertSettings, TlsSettings
from portals import tls as material
from tests.schedule.servers import SmtpServer, WebhookServer

ALERT = Alert("casebot: körning R1 – 1 ärende(n) med fel", "Körning R1: failed", {"run_id": "R1"})


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> material.SandboxTls:
    return material.sandbox_tls(tmp_path_factory.mktemp("alert-tls"), kinds=("untrusted",))


def _pair(certs: material.SandboxTls, kind: str) -> tuple[Path, Path]:
    pair = certs.for_kind(kind)
    return pair.cert, pair.key


def _settings(smtp: SmtpServer | None = None, hook: WebhookServer | None = None) -> AlertSettings:
    return AlertSettings.model_validate({
        **({"email": {"host": "127.0.0.1", "port": smtp.port, "starttls": True, "sender": "casebot@kommun.example",
                      "to": ["drift@kommun.example"]}} if smtp else {}),
        **({"webhook": {"url": hook.url}} if hook else {})})


def test_the_webhook_and_the_mail_go_out_over_tls_trusting_the_bundle(certs: material.SandboxTls) -> None:
    tls = TlsSettings(ca_bundle=certs.ca_file)
    with SmtpServer(starttls=_pair(certs, "good")) as smtp, WebhookServer(https=_pair(certs, "good")) as hook:
        assert hook.url.startswith("https://")
        assert send_alert(ALERT, _settings(smtp, hook), {}, tls=tls) == ["email", "webhook"]
        assert smtp.mailbox.arrived.wait(10) and hook.hook.arrived.wait(10)
    assert smtp.mailbox.messages[0]["Subject"] == ALERT.subject
    assert hook.hook.calls[0][1]["run_id"] == "R1"


def test_without_the_bundle_the_same_servers_are_refused(certs: material.SandboxTls) -> None:
    with SmtpServer(starttls=_pair(certs, "good")) as smtp, WebhookServer(https=_pair(certs, "good")) as hook:
        assert send_alert(ALERT, _settings(smtp, hook), {}, tls=TlsSettings()) == []
    assert smtp.mailbox.messages == [] and hook.hook.calls == []


def test_a_certificate_from_another_ca_is_refused(certs: material.SandboxTls) -> None:
    tls = TlsSettings(ca_bundle=certs.ca_file)
    with SmtpServer(starttls=_pair(certs, "untrusted")) as smtp, \
            WebhookServer(https=_pair(certs, "untrusted")) as hook:
        assert send_alert(ALERT, _settings(smtp, hook), {}, tls=tls) == []
    assert smtp.mailbox.messages == [] and hook.hook.calls == []
