"""The error-code catalogue and the two kinds of failure the run loop treats differently.

A `BusinessException` means the data says a human is needed: it is an outcome for the case and is never
retried. A `SystemException` means the robot or a portal got in the way (portal down, element missing): it is
retried with back-off and reported with its code, case, step and the runbook an operator should read.

Two system codes *hold* their case (`CodeInfo.holds`): INTERNAL_ERROR (an exception no code covers, a bug: it
would repeat) and CASE_QUARANTINED (the case's attempts kept ending in a crash of the robot). Later runs do not
take a held case again until an operator releases it (`Store.release_held`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Literal, Self

RUNBOOK_DIR = "runbooks"

Kind = Literal["system", "business"]


@dataclass(frozen=True)
class CodeInfo:
    summary: str
    kind: Kind
    retryable: bool = False
    # True when carrying on with the next case is pointless or harmful (all cases would fail the same way, or
    # retries would lock the shared service account): the run loop stops and alerts instead.
    stops_run: bool = False
    # True when later runs must not take the case again by themselves (it would fail or crash the same way): it
    # waits for an operator to release it after a fix or an investigation.
    holds: bool = False


class ErrorCode(StrEnum):
    PORTAL_DOWN = "PORTAL_DOWN"
    PORTAL_SLOW = "PORTAL_SLOW"
    PORTAL_MAINTENANCE = "PORTAL_MAINTENANCE"
    LOGIN_FAILED = "LOGIN_FAILED"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    SESSION_EXPIRED = "SESSION_EXPIRED"
    SELECTOR_MISSING = "SELECTOR_MISSING"
    READBACK_MISMATCH = "READBACK_MISMATCH"
    DATA_MISMATCH = "DATA_MISMATCH"
    NORM_TABLE_MISSING = "NORM_TABLE_MISSING"
    STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
    CONFIG_INVALID = "CONFIG_INVALID"
    CREDENTIALS_MISSING = "CREDENTIALS_MISSING"
    LOCK_CONFLICT = "LOCK_CONFLICT"
    LEASE_EXPIRED = "LEASE_EXPIRED"
    BROWSER_CRASHED = "BROWSER_CRASHED"
    AGENCY_NO_ANSWER = "AGENCY_NO_ANSWER"
    UNPARSEABLE_AMOUNT = "UNPARSEABLE_AMOUNT"
    PREFLIGHT_FAILED = "PREFLIGHT_FAILED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    CASE_QUARANTINED = "CASE_QUARANTINED"
    RECORDING_FAILED = "RECORDING_FAILED"
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
    PROXY_FAILED = "PROXY_FAILED"
    TLS_CERTIFICATE = "TLS_CERTIFICATE"
    TLS_EXPIRES_SOON = "TLS_EXPIRES_SOON"
    CLIENT_CERTIFICATE = "CLIENT_CERTIFICATE"
    CLIENT_CERTIFICATE_EXPIRES_SOON = "CLIENT_CERTIFICATE_EXPIRES_SOON"

    @property
    def info(self) -> CodeInfo:
        return CATALOGUE[self]

    @property
    def summary(self) -> str:
        return CATALOGUE[self].summary

    @property
    def runbook(self) -> str:
        return f"{RUNBOOK_DIR}/{self.value}.md"

    @property
    def retryable(self) -> bool:
        return CATALOGUE[self].retryable

    @property
    def stops_run(self) -> bool:
        return CATALOGUE[self].stops_run

    @property
    def holds(self) -> bool:
        return CATALOGUE[self].holds


_S: Kind = "system"
_B: Kind = "business"

CATALOGUE: dict[ErrorCode, CodeInfo] = {
    ErrorCode.PORTAL_DOWN: CodeInfo(
        "Portalen svarar inte / portal unreachable or answering HTTP 5xx", _S, retryable=True),
    ErrorCode.PORTAL_SLOW: CodeInfo(
        "Portalen svarar för långsamt / portal did not answer within the timeout", _S, retryable=True),
    ErrorCode.PORTAL_MAINTENANCE: CodeInfo(
        "Portalen har underhåll / portal shows its maintenance page", _S, retryable=True),
    ErrorCode.LOGIN_FAILED: CodeInfo(
        "Inloggningen nekades / login refused: check the service account's password", _S, stops_run=True),
    ErrorCode.ACCOUNT_LOCKED: CodeInfo(
        "Tjänstekontot är låst / the service account is locked out", _S, stops_run=True),
    ErrorCode.SESSION_EXPIRED: CodeInfo(
        "Sessionen gick ut / the portal session expired and re-login did not help", _S, retryable=True),
    ErrorCode.SELECTOR_MISSING: CodeInfo(
        "Element saknas på skärmen / no selector fallback found the element (layout drift?)", _S, retryable=True),
    ErrorCode.READBACK_MISMATCH: CodeInfo(
        "Formuläret visar andra värden än ifyllda / the form reads back different values", _S, retryable=True),
    ErrorCode.DATA_MISMATCH: CodeInfo(
        "Uppgifterna går inte ihop / sources disagree, a caseworker must decide", _B),
    ErrorCode.NORM_TABLE_MISSING: CodeInfo(
        "Normtabell saknas för året / no norm table for the period's year", _S, stops_run=True),
    ErrorCode.STORE_UNAVAILABLE: CodeInfo(
        "Tillståndsdatabasen går inte att nå / the state store cannot be opened or written", _S, stops_run=True),
    ErrorCode.CONFIG_INVALID: CodeInfo(
        "Felaktig konfiguration / a configuration file is invalid", _S, stops_run=True),
    ErrorCode.CREDENTIALS_MISSING: CodeInfo(
        "Lösenord saknas / no password in the environment or the OS keyring", _S, stops_run=True),
    ErrorCode.LOCK_CONFLICT: CodeInfo(
        "Ärendet ändrades samtidigt / the case changed while the robot worked on it", _S),
    ErrorCode.LEASE_EXPIRED: CodeInfo(
        "Arbetet med ärendet avbröts / a worker's lease on the case expired (worker stopped or hung)", _S),
    ErrorCode.BROWSER_CRASHED: CodeInfo(
        "Webbläsaren kraschade / the browser or its page crashed", _S, retryable=True),
    ErrorCode.AGENCY_NO_ANSWER: CodeInfo(
        "Myndigheten lämnar inga uppgifter / an agency could not answer for a person", _B),
    ErrorCode.UNPARSEABLE_AMOUNT: CodeInfo(
        "Beloppet går inte att tolka / an amount on screen could not be read as kronor", _B),
    ErrorCode.PREFLIGHT_FAILED: CodeInfo(
        "Förkontrollen misslyckades / preflight found a portal or selector not ready", _S, stops_run=True),
    ErrorCode.INTERNAL_ERROR: CodeInfo(
        "Internt fel i roboten / an unexpected error (a bug) ended this case; the night went on", _S, holds=True),
    ErrorCode.CASE_QUARANTINED: CodeInfo(
        "Ärendet i karantän / the case stopped the robot again and again and is not taken any more", _S,
        holds=True),
    ErrorCode.RECORDING_FAILED: CodeInfo(
        "Inspelningen misslyckades / the selector recorder could not record a usable element; nothing was saved",
        _S),
    ErrorCode.OUTCOME_UNKNOWN: CodeInfo(
        "Okänt om sparandet gick igenom / a write got no answer and reading back could not tell; the retry reads "
        "what the system holds before it writes again", _S, retryable=True),
    ErrorCode.PROXY_FAILED: CodeInfo(
        "Proxyn släpper inte igenom roboten / the outbound proxy cannot be reached or refused the robot's login", _S,
        stops_run=True),
    ErrorCode.TLS_CERTIFICATE: CodeInfo(
        "Portalens certifikat godtas inte / a portal's TLS certificate is untrusted, expired or for another host",
        _S, stops_run=True),
    ErrorCode.TLS_EXPIRES_SOON: CodeInfo(
        "Certifikatet går snart ut / a portal's TLS certificate expires within tls.expiry_warning_days (a warning; "
        "the night goes on)", _S),
    ErrorCode.CLIENT_CERTIFICATE: CodeInfo(
        "Robotens klientcertifikat fungerar inte / the robot's client certificate for a portal is missing, "
        "unreadable, expired or refused by the portal", _S, stops_run=True),
    ErrorCode.CLIENT_CERTIFICATE_EXPIRES_SOON: CodeInfo(
        "Klientcertifikatet går snart ut / the robot's client certificate for a portal expires within "
        "tls.expiry_warning_days (a warning; the night goes on)", _S),
}


# Warnings that something will stop a night on a known date (a certificate running out): each one also goes out
# as an alert, a night that otherwise went well included.
EXPIRY_WARNING_CODES = (ErrorCode.TLS_EXPIRES_SOON.value, ErrorCode.CLIENT_CERTIFICATE_EXPIRES_SOON.value)


def held_codes() -> tuple[str, ...]:
    """The codes that hold their case for an operator (see `CodeInfo.holds`)."""
    return tuple(code.value for code, info in CATALOGUE.items() if info.holds)


def _where(case_id: str | None, step: str | None) -> str:
    parts = [f"case {case_id}"] if case_id else []
    if step:
        parts.append(f"step {step}")
    return f" [{', '.join(parts)}]" if parts else ""


class CasebotError(Exception):
    """A failure with a catalogue code, the case and step it happened in, and a human message."""

    kind: ClassVar[Kind] = "system"

    def __init__(self, code: ErrorCode | str, message: str = "", *, case_id: str | None = None,
                 step: str | None = None, portal: str | None = None) -> None:
        self.code = ErrorCode(code)
        self.message = message or self.code.summary
        self.case_id = case_id
        self.step = step
        self.portal = portal  # the portal that answered so, when one did
        super().__init__(self.message)

    @property
    def runbook(self) -> str:
        return self.code.runbook

    def with_context(self, case_id: str | None = None, step: str | None = None) -> Self:
        """Fill in the case and step where the raiser did not know them (the run loop does)."""
        self.case_id = self.case_id or case_id
        self.step = self.step or step
        return self

    def __str__(self) -> str:
        sep = "" if self.message.endswith("\n") else " "  # a multi-line message puts the runbook on its own line
        return f"{self.code.value}{_where(self.case_id, self.step)} {self.message}{sep}— runbook: {self.runbook}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle through their args by default, which would drop the code; multiprocessing and
        # loguru's enqueue need the whole thing.
        return (_rebuild, (self.__class__, self.__dict__.copy()))


def _rebuild(cls: type[CasebotError], state: dict[str, Any]) -> CasebotError:
    exc = cls.__new__(cls)
    Exception.__init__(exc, state.get("message", ""))
    exc.__dict__.update(state)
    return exc


class BusinessException(CasebotError):
    """The data says a human is needed. An outcome for the case, never retried."""

    kind: ClassVar[Kind] = "business"


class SystemException(CasebotError):
    """The robot could not do its work (portal down, element missing). Retried with back-off unless the code
    says otherwise."""

    kind: ClassVar[Kind] = "system"

    def __init__(self, code: ErrorCode | str, message: str = "", *, case_id: str | None = None,
                 step: str | None = None, portal: str | None = None, retryable: bool | None = None) -> None:
        super().__init__(code, message, case_id=case_id, step=step, portal=portal)
        self.retryable = self.code.retryable if retryable is None else retryable


class ConfigError(SystemException):
    """A configuration file is invalid. Each problem reads `file:line: dotted.key: what is wrong`."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems:\n" + "\n".join(f"  {p}" for p in self.problems) + "\n"
        super().__init__(ErrorCode.CONFIG_INVALID, message, retryable=False)


def error_for(code: ErrorCode, message: str, *, case_id: str | None = None, step: str | None = None,
              portal: str | None = None) -> CasebotError:
    """The exception a code means: business codes (the data needs a human) are outcomes, the rest are system
    failures retried as their code says."""
    cls = BusinessException if code.info.kind == "business" else SystemException
    return cls(code, message, case_id=case_id, step=step, portal=portal)


def runbook_for(code: str | None) -> str | None:
    """The runbook of a code as stored (a string); None for no code or one this version does not know."""
    if not code:
        return None
    try:
        return ErrorCode(code).runbook
    except ValueError:  # a code from a newer robot version or a triage rule: no runbook to point at
        return None
