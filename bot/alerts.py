"""Telling operations when a night went wrong: e-mail (SMTP) and an optional webhook.

An alert goes out when a run stopped early (preflight, wrong password, …), failed, or ended with failed cases.
It names the run, the counts, every error code with its runbook, and where the report and the log are. Sending
never breaks the run or the scheduler: a failed delivery is logged as an error and the next channel is tried.
"""

from __future__ import annotations

import os
import smtplib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import httpx
from loguru import logger

from bot.config import AlertSettings, ProxySettings, TlsSettings
from bot.credentials import resolve_password
from bot.errors import CasebotError, runbook_for
from bot.masking import mask_text
from bot.net import http_client, resolve_proxy
from bot.report import OUTCOME_LABELS
from bot.run.entry import NightReport
from bot.tls import ssl_context

TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Alert:
    subject: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)  # the webhook's JSON


def runbook_or_index(code: str) -> str:
    return runbook_for(code) or "runbooks/README.md"


def alert_for(night: NightReport) -> Alert | None:
    """The alert this night calls for, or None when every case was prepared or handed to a human and nothing is
    about to run out (a certificate expiring within tls.expiry_warning_days is worth an alert of its own)."""
    result = night.result
    summary = result.summary
    failed = [i for i in night.items if i.state == "failed"]
    stopped: CasebotError | None = result.stopped_by
    expiring = night.expiry_warnings
    if stopped is None and not failed and summary.run.status != "failed" and not expiring:
        return None
    codes = Counter(i.last_error_code or "?" for i in failed)
    lines = [f"Körning {result.run_id}: {summary.run.status}, {summary.total} ärende(n)."]
    if stopped is not None:
        codes.setdefault(stopped.code.value, 0)  # listed with its runbook even when no case carries it
        subject = f"casebot: körning {result.run_id} stoppad – {stopped.code.value}"
        lines.append(f"Stoppad: {stopped}")
    elif failed or summary.run.status == "failed":
        subject = f"casebot: körning {result.run_id} – {len(failed)} ärende(n) med fel"
    else:
        subject = f"casebot: körning {result.run_id} – {len(expiring)} certifikat går snart ut"
    if expiring:
        lines.append("")
        lines.append("Går snart ut (förnya i tid, annars stoppas körningen):")
        lines += [f"  [{w.code}] {w.message} – {runbook_or_index(w.code or '')}" for w in expiring]
    lines.append("")
    for outcome, label in OUTCOME_LABELS.items():
        lines.append(f"  {label}: {summary.by_outcome.get(outcome, 0)}")
    lines.append(f"  Fel: {len(failed)}")
    lines.append(f"  Ej klara (fortsätter vid nästa körning): {summary.open}")
    lines.append("")
    lines.append("Felkoder och runbooks:")
    for code, count in sorted(codes.items()):
        lines.append(f"  {code}: {count} ärende(n) – {runbook_or_index(code)}")
    for item in failed[:20]:
        lines.append(f"  {item.case_id} [{item.last_error_code}] {item.last_error_message or ''}")
    if len(failed) > 20:
        lines.append(f"  … och {len(failed) - 20} till (se rapporten)")
    lines.append("")
    lines.append(f"Morgonrapport: {night.report_path}")
    lines.append(f"Logg: {night.log_path}")
    body = mask_text("\n".join(lines))  # error messages may quote portal text
    data = {"run_id": result.run_id, "status": summary.run.status, "total": summary.total,
            "failed": len(failed), "open": summary.open, "by_outcome": dict(summary.by_outcome),
            "stopped_by": stopped.code.value if stopped else None,
            "codes": {c: {"count": n, "runbook": runbook_or_index(c)} for c, n in codes.items()},
            "expiring": [{"code": w.code, "message": w.message, **(w.data if isinstance(w.data, dict) else {})}
                         for w in expiring],
            "report": str(night.report_path), "text": body}
    return Alert(mask_text(subject), body, data)


def send_alert(alert: Alert, settings: AlertSettings, environ: Mapping[str, str] | None = None, *,
               proxy: ProxySettings | None = None, tls: TlsSettings | None = None) -> list[str]:
    """Deliver on every configured channel; returns the channels that took it. `proxy`: the config's `proxy:`, which
    the webhook goes through like every HTTP request of the robot (the e-mail does not: SMTP is not HTTP)."""
    delivered: list[str] = []
    if settings.email is not None:
        try:
            _send_email(alert, settings, environ, tls)
            delivered.append("email")
        except (OSError, smtplib.SMTPException, CasebotError) as exc:
            logger.error("alert e-mail to {} not sent: {}", ", ".join(settings.email.to), exc)
    if settings.webhook is not None:
        try:
            _send_webhook(alert, settings, environ, proxy, tls)
            delivered.append("webhook")
        except (httpx.HTTPError, CasebotError) as exc:  # CasebotError: no password for the proxy
            logger.error("alert webhook not delivered: {}", exc)
    if delivered:
        logger.info("alert sent ({}): {}", ", ".join(delivered), alert.subject)
    return delivered


def _send_email(alert: Alert, settings: AlertSettings, environ: Mapping[str, str] | None,
                tls: TlsSettings | None = None) -> None:
    email = settings.email
    assert email is not None
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message.set_content(alert.body)
    # Straight to the relay, never through `proxy:`: an HTTP proxy carries HTTP (and CONNECT tunnels), not SMTP.
    with smtplib.SMTP(email.host, email.port, timeout=TIMEOUT_S) as smtp:
        if email.starttls:
            # The relay's certificate checked like every server's (system roots + tls.ca_bundle, host name).
            smtp.starttls(context=ssl_context(tls))
        if email.username:
            smtp.login(email.username, resolve_password(email, environ))
        smtp.send_message(message)


def _send_webhook(alert: Alert, settings: AlertSettings, environ: Mapping[str, str] | None,
                  proxy: ProxySettings | None, tls: TlsSettings | None) -> None:
    hook = settings.webhook
    assert hook is not None
    env = os.environ if environ is None else environ
    headers = {}
    token = env.get(hook.token_env) if hook.token_env else None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with http_client(resolve_proxy(proxy, environ), verify=ssl_context(tls), timeout=TIMEOUT_S) as client:
        response = client.post(str(hook.url), json={"subject": alert.subject, **alert.data}, headers=headers)
    response.raise_for_status()


def notify(night: NightReport, settings: AlertSettings, environ: Mapping[str, str] | None = None, *,
           proxy: ProxySettings | None = None, tls: TlsSettings | None = None) -> list[str]:
    """Send the alert this night calls for, if any and if any channel is configured."""
    alert = alert_for(night)
    if alert is None or (settings.email is None and settings.webhook is None):
        return []
    return send_alert(alert, settings, environ, proxy=proxy, tls=tls)
