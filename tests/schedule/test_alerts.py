"""Alerts reach a real SMTP server and a real webhook; a good night sends nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.alerts import alert_for, notify
from bot.config import AlertSettings
from bot.errors import ErrorCode, SystemException
from bot.run.entry import NightReport
from bot.run.night import RunResult
from bot.store import NewWorkItem, open_store
from tests.schedule.servers import SmtpServer, WebhookServer


def _night(tmp_path: Path, *, failed: int, stopped: SystemException | None = None) -> NightReport:
    """A night as the store holds it: 3 cases, `failed` of them failed with PORTAL_DOWN, the rest done."""
    with open_store(f"sqlite:///{tmp_path / 'casebot.db'}") as store:
        run = store.open_run({})
        store.add_work_items(run.id, [NewWorkItem(f"EB-2024-0000{i}", "2024-12", None) for i in range(1, 4)])
        for index in range(3):
            item = store.claim_next(run.id, "w1", 60)
            assert item is not None
            if index < failed:
                store.fail(item, ErrorCode.PORTAL_DOWN, "fk: HTTP 503 for 19850101-1234's payments",
                           retryable=False, max_attempts=1, step="collect")
            else:
                store.complete(item, "auto", amount=1000)
        store.finish_run(run.id, "failed" if stopped else "finished")
        result = RunResult(run.id, store.run_summary(run.id), stopped)
        return NightReport(result, tmp_path / "morning.xlsx", tmp_path / "run.jsonl", store.items(run.id))


def test_a_night_with_failed_cases_alerts_by_mail_and_webhook(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    night = _night(tmp_path, failed=2)
    monkeypatch.setenv("CASEBOT_WEBHOOK_TOKEN", "s3cret-token")
    with SmtpServer() as smtp, WebhookServer() as hook:
        settings = AlertSettings.model_validate({
            "email": {"host": "127.0.0.1", "port": smtp.port, "sender": "casebot@kommun.example",
                      "to": ["drift@kommun.example"]},
            "webhook": {"url": hook.url, "token_env": "CASEBOT_WEBHOOK_TOKEN"}})
        assert notify(night, settings) == ["email", "webhook"]
        assert smtp.mailbox.arrived.wait(10) and hook.hook.arrived.wait(10)
    (mail,) = smtp.mailbox.messages
    run_id = night.result.run_id
    assert mail["Subject"] == f"casebot: körning {run_id} – 2 ärende(n) med fel"
    assert mail["To"] == "drift@kommun.example"
    body = mail.get_payload(decode=True).decode()
    assert "PORTAL_DOWN: 2 ärende(n) – runbooks/PORTAL_DOWN.md" in body
    assert "EB-2024-00001 [PORTAL_DOWN]" in body and str(night.report_path) in body
    assert "19850101-1234" not in body  # error messages are masked like every log line
    (headers, payload) = hook.hook.calls[0]
    assert headers["Authorization"] == "Bearer s3cret-token"
    assert payload["run_id"] == run_id and payload["failed"] == 2
    assert payload["codes"] == {"PORTAL_DOWN": {"count": 2, "runbook": "runbooks/PORTAL_DOWN.md"}}


def test_a_stopped_night_names_the_stop_code_and_its_runbook(tmp_path: Path) -> None:
    stop = SystemException(ErrorCode.PREFLIGHT_FAILED, "the selectors no longer find 1 element(s): fk/result/payments",
                           step="preflight")
    alert = alert_for(_night(tmp_path, failed=0, stopped=stop))
    assert alert is not None and alert.subject.endswith("stoppad – PREFLIGHT_FAILED")
    assert "fk/result/payments" in alert.body and "runbooks/PREFLIGHT_FAILED.md" in alert.body


def test_a_good_night_sends_nothing_and_an_unreachable_relay_does_not_raise(tmp_path: Path) -> None:
    settings = AlertSettings.model_validate({"email": {"host": "127.0.0.1", "port": 9, "sender": "a@b.se",
                                                       "to": ["c@d.se"]}})
    assert alert_for(_night(tmp_path / "good", failed=0)) is None
    (tmp_path / "bad").mkdir()
    assert notify(_night(tmp_path / "bad", failed=1), settings) == []  # refused connection: logged, not raised
