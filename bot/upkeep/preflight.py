"""The preflight check, before any case is touched: every portal's certificate checked by a TLS handshake, then
every portal's screens walked read-only and every selector resolved. A night that would fail case after case on
a refused certificate or a changed screen stops here instead, naming the portals and the elements.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from loguru import logger

from bot.browser.worker import config_worker
from bot.certinfo import days_until
from bot.clientcert import ClientCertificate
from bot.config import PORTAL_NAMES, Config
from bot.drivers.base import Driver
from bot.drivers.portal_drivers import make_driver, reference_of
from bot.errors import ErrorCode, SystemException
from bot.net import Proxy
from bot.selectors.model import SelectorFile
from bot.store.base import Store
from bot.tls import HandshakeFailed, ServerCertificate, check_server
from bot.upkeep.check import PortalCheck, check_portal

TLS_TIMEOUT_S = 10.0


async def check_drivers(drivers: Sequence[Driver], config: Config) -> list[PortalCheck]:
    """Check the portals in parallel, each on its driver's own page."""
    reference = reference_of(config)
    return list(await asyncio.gather(*(check_portal(d, reference) for d in drivers)))


async def check_selectors(config: Config, passwords: Mapping[str, str], selectors: Mapping[str, SelectorFile],
                          portals: Sequence[str] = PORTAL_NAMES, *, headless: bool = True,
                          clients: Mapping[str, ClientCertificate] | None = None) -> list[PortalCheck]:
    """`casebot check-selectors`: a browser of its own, one context per portal, nothing written anywhere.
    `clients`: the client certificates, when already loaded (else `config_worker` loads them)."""
    async with config_worker(config, "preflight", headless=headless, clients=clients) as worker:
        drivers = [make_driver(config, name, await worker.page(name), passwords[name], selectors[name])
                   for name in portals]
        return await check_drivers(drivers, config)


def preflight_failure(results: Sequence[PortalCheck]) -> SystemException | None:
    """The error that stops the night, if any: broken elements (PREFLIGHT_FAILED, naming them all), or a walk
    stopped by an error that would stop the run anyway (wrong password, locked account). A portal that is only
    down or slow is not a reason to skip the night: cases retry it, and the others go on."""
    broken = [c.where for r in results for c in r.having("broken")]
    if broken:
        return SystemException(ErrorCode.PREFLIGHT_FAILED,
                               f"the selectors no longer find {len(broken)} element(s): {', '.join(broken)}. "
                               "Run `casebot check-selectors`, then re-record with `casebot record`",
                               step="preflight")
    for result in results:
        if result.error is not None and result.error.code.stops_run:
            return SystemException(result.error.code, result.error.message, step="preflight",
                                   portal=result.portal)
    return None


def record_preflight(store: Store, run_id: str, results: Sequence[PortalCheck]) -> SystemException | None:
    """Put the screen check into the run's events (a healed element is drift for the report; a broken one an
    error; a portal that could not be walked a warning) and say whether the night must stop."""
    for result in results:
        for check in result.having("healed"):
            store.record_event(run_id, "WARNING", f"selector drift at preflight: {check.where} found by "
                               f"{check.strategy}", code="SELECTOR_DRIFT",
                               data={"kind": "drift", "portal": check.portal, "screen": check.screen,
                                     "element": check.element, "strategy": check.strategy})
        for check in result.having("broken"):
            store.record_event(run_id, "ERROR", f"selector broken at preflight: {check.where} ({check.detail})",
                               code=ErrorCode.SELECTOR_MISSING.value,
                               data={"step": "preflight", "runbook": ErrorCode.SELECTOR_MISSING.runbook,
                                     "portal": check.portal, "screen": check.screen, "element": check.element})
        if result.error is not None and not result.having("broken"):
            store.record_event(run_id, "WARNING", f"preflight could not walk {result.portal}: {result.error}",
                               code=result.error.code.value,
                               data={"step": "preflight", "runbook": result.error.runbook})
    failure = preflight_failure(results)
    if failure is None:
        healed = sum(len(r.having("healed")) for r in results)
        logger.info("preflight: every screen checked, {} element(s) found by a fallback", healed)
    return failure


# -- certificates ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CertificateCheck:
    """One portal's TLS handshake at preflight: the certificate it presented, or why there was none to judge, and
    the robot's client certificate for it, if it has one."""

    portal: str
    url: str
    certificate: ServerCertificate | None = None
    unreachable: str = ""  # the server could not be reached: not a certificate problem (the walk reports it)
    client: ClientCertificate | None = None

    @property
    def refused(self) -> bool:
        return self.certificate is not None and not self.certificate.trusted

    @property
    def client_refused(self) -> bool:
        """The portal refused the robot as a client (its server certificate was fine)."""
        return self.certificate is not None and self.certificate.trusted and bool(self.certificate.client_refused)

    def expiring(self, days: int) -> bool:
        return self.certificate is not None and self.certificate.trusted and self.certificate.expires_within(days)

    def client_expiring(self, days: int) -> bool:
        return self.client is not None and self.client.expires_within(days)

    def words(self) -> str:
        assert self.certificate is not None
        return f"{self.portal} ({self.url}): {self.certificate.detail}; {self.certificate.describe()}"

    def client_words(self) -> str:
        assert self.certificate is not None
        hint = "" if self.client is not None else f": set portals.{self.portal}.client_certificate"
        return f"{self.portal} ({self.url}): {self.certificate.client_refused}{hint}"


def check_certificates(config: Config, portals: Sequence[str] = PORTAL_NAMES, *, proxy: Proxy | None = None,
                       clients: Mapping[str, ClientCertificate] | None = None) -> list[CertificateCheck]:
    """A TLS handshake with every https portal, trusting what the robot's clients and Chromium trust, and the way
    they reach it (`proxy`: `bot.net.resolve_proxy(config.proxy)`), presenting the portal's client certificate
    when it has one (`clients`: `bot.clientcert.load_client_certificates`). Plain http portals (a closed test
    network) have no certificate to check."""
    checks = []
    for name in portals:
        url = config.portals[name].url
        if not url.startswith("https://"):
            continue
        client = (clients or {}).get(name)
        try:
            checks.append(CertificateCheck(name, url, check_server(url, config.tls, TLS_TIMEOUT_S, proxy=proxy,
                                                                   client=client), client=client))
        except HandshakeFailed as exc:
            checks.append(CertificateCheck(name, url, unreachable=str(exc), client=client))
        except OSError as exc:
            checks.append(CertificateCheck(name, url, unreachable=f"{type(exc).__name__}: {exc}", client=client))
    return checks


def certificate_failure(checks: Sequence[CertificateCheck]) -> SystemException | None:
    """TLS_CERTIFICATE naming every portal whose certificate the robot refuses, and why; else CLIENT_CERTIFICATE
    naming every portal that refused the robot's client certificate (or wanted one it does not have); None when
    neither."""
    refused = [c for c in checks if c.refused]
    if refused:
        return SystemException(ErrorCode.TLS_CERTIFICATE, "; ".join(c.words() for c in refused), step="preflight",
                               portal=refused[0].portal)
    refused = [c for c in checks if c.client_refused]
    if refused:
        return SystemException(ErrorCode.CLIENT_CERTIFICATE, "; ".join(c.client_words() for c in refused),
                               step="preflight", portal=refused[0].portal, retryable=False)
    return None


def record_certificates(store: Store, run_id: str, checks: Sequence[CertificateCheck],
                        warning_days: int) -> SystemException | None:
    """Put the certificate check into the run's events (a refused certificate an error, one expiring within
    `warning_days` a warning: the portals' and the robot's own) and say whether the night must stop."""
    for check in checks:
        cert = check.certificate
        if check.client is not None and check.client_expiring(warning_days):
            record_client_expiry(store, run_id, check.client)
        if cert is None:
            logger.warning("preflight: no TLS handshake with {} ({}): {}", check.portal, check.url, check.unreachable)
        elif check.client_refused:
            store.record_event(run_id, "ERROR", f"client certificate refused at preflight: {check.client_words()}",
                               code=ErrorCode.CLIENT_CERTIFICATE.value,
                               data={"step": "preflight", "runbook": ErrorCode.CLIENT_CERTIFICATE.runbook,
                                     "portal": check.portal, "problem": "refused_by_portal",
                                     "configured": check.client is not None})
        elif check.refused:
            store.record_event(run_id, "ERROR", f"certificate refused at preflight: {check.words()}",
                               code=ErrorCode.TLS_CERTIFICATE.value,
                               data={"step": "preflight", "runbook": ErrorCode.TLS_CERTIFICATE.runbook,
                                     "portal": check.portal, "problem": cert.problem,
                                     "not_after": cert.not_after.isoformat(), "issuer": cert.issuer})
        elif check.expiring(warning_days):
            _record_expiry(store, run_id, ErrorCode.TLS_EXPIRES_SOON, check.portal,
                           f"certificate expires soon: {check.portal} ({check.url}): {cert.describe()}",
                           cert.not_after)
    failure = certificate_failure(checks)
    if failure is None:
        logger.info("preflight: {} portal certificate(s) trusted", sum(1 for c in checks if c.certificate))
    return failure


def record_client_expiry(store: Store, run_id: str, client: ClientCertificate) -> None:
    """CLIENT_CERTIFICATE_EXPIRES_SOON for the robot's own certificate: renewing it takes an order to the
    agency, so the warning starts as early as the portals' own."""
    _record_expiry(store, run_id, ErrorCode.CLIENT_CERTIFICATE_EXPIRES_SOON, client.portal,
                   f"client certificate expires soon: {client.portal}: {client.describe()}", client.not_after,
                   subject=client.subject)


def _record_expiry(store: Store, run_id: str, code: ErrorCode, portal: str, words: str, not_after: datetime,
                   **data: str) -> None:
    """A warning event for a certificate that runs out within the warning period: `words`, and its date."""
    days = int(days_until(not_after))
    store.record_event(run_id, "WARNING", f"{words}, expires on {not_after:%Y-%m-%d} ({days} days)", code=code.value,
                       data={"step": "preflight", "runbook": code.runbook, "portal": portal,
                             "not_after": not_after.isoformat(), "days_left": days, **data})


def _until(not_after: datetime, days: int) -> str:
    left = math.floor(days_until(not_after))
    text = f"valid until {not_after:%Y-%m-%d} ({left} days)"
    return f"{text}, EXPIRES SOON" if left <= days else text


def format_certificates(checks: Sequence[CertificateCheck], warning_days: int) -> str:
    """`casebot check-selectors`' certificate lines: per https portal, its certificate and the robot's own for it,
    each as the night's preflight would judge it."""
    lines = ["certificates:"]
    for check in checks:
        cert = check.certificate
        if cert is None:
            lines.append(f"  {check.portal:<11} no TLS handshake: {check.unreachable}")
            continue
        server = (f"REFUSED: {cert.detail}" if check.refused
                  else f"trusted, issued by {cert.issuer}, {_until(cert.not_after, warning_days)}")
        lines.append(f"  {check.portal:<11} server {server}")
        if check.client is not None or cert.client_refused:
            client = "" if check.client is None else (f"{check.client.subject!r}, "
                                                      f"{_until(check.client.not_after, warning_days)}")
            verdict = (f"REFUSED: {cert.client_refused}" if cert.client_refused
                       else "not judged (the server certificate was refused first)" if check.refused
                       else "accepted")
            lines.append(f"  {'':<11} client {client + ': ' if client else ''}{verdict}")
    return "\n".join(lines)
