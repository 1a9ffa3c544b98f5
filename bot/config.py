"""The robot's configuration: one YAML file validated into typed settings.

```yaml
data_dir: data                  # relative paths are relative to this file's folder
log_dir: logs
workers: 4
retries: {max_attempts: 3, backoff_base_s: 2, backoff_max_s: 300}
timeouts: {page_s: 30, element_s: 10, case_s: 900}
retention: {traces_days: 14, screenshots_days: 14, logs_days: 90}
guidelines: guidelines.yaml     # optional: without it, the built-in defaults
norms_dir: norms                # optional: next year's riksnorm table (<year>.yaml) before a release has it
store: {url: "sqlite:///data/casebot.db", lease_s: 120}   # or postgresql://host/db for several robot hosts
preflight: {reference_case: TEST-2024-0001, reference_pnr: "19800101-1234"}   # read-only screen check
desktop: {display: ":0"}        # with channel: desktop, the X display the client is on
proxy: {url: "http://proxy.kommun.example:3128", username: casebot,   # password: CASEBOT_PROXY_PASSWORD or keyring
        no_proxy: [.intern.kommun.example, 10.0.0.0/8]}                # casebot/proxy; without proxy: no proxy at all
tls: {ca_bundle: /etc/casebot/kommun-ca.pem, expiry_warning_days: 30}   # trusted besides the system's roots
console: {host: 127.0.0.1, port: 8470, session_minutes: 30, login_attempts: 5, window_minutes: 15,
          trusted_proxy: {address: 10.0.0.5, user_header: X-Remote-User, role_header: X-Remote-Role},
          metrics_token_env: CASEBOT_METRICS_TOKEN}   # `casebot console`; the session key: CASEBOT_CONSOLE_SECRET
alerts:                         # a failed run, a stop at preflight, failed cases: tell operations
  email: {host: smtp.kommun.example, port: 587, starttls: true, sender: casebot@kommun.example,
          to: [it-drift@kommun.example], username: casebot}   # password: CASEBOT_SMTP_PASSWORD or keyring casebot/smtp
  webhook: {url: "https://chat.kommun.example/hooks/rpa", token_env: CASEBOT_WEBHOOK_TOKEN}
portals:
  casesystem:
    url: http://127.0.0.1:8100
    username: robot
    password_env: CASEBOT_CASESYSTEM_PASSWORD   # the default name; else keyring service casebot/casesystem
    layout: v1
    channel: web                # or desktop: its calculation screen and park through the desktop client
  skv: {url: http://127.0.0.1:8101, username: kommun}
  fk:
    url: https://ssbtek.fk.example
    username: kommun
    client_certificate: {cert: /etc/casebot/fk.pem, key: /etc/casebot/fk-key.pem}  # mutual TLS; the key's
                                # passphrase: CASEBOT_FK_CERT_PASSPHRASE or keyring casebot/fk-certificate
  ...
```

Passwords never live in this file: a secret-looking key with a value, or a URL with a password, is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.errors import ConfigError
from bot.yamlload import load_yaml, secret_problems, validate

PORTAL_NAMES = ("casesystem", "skv", "fk", "af", "csn")
AGENCIES = PORTAL_NAMES[1:]
DEFAULT_DB_NAME = "casebot.db"


def _base(info: ValidationInfo) -> Path:
    context = info.context or {}
    return Path(context.get("base", "."))


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    """Relative to the config file's folder, so the robot behaves the same whatever folder it starts in."""
    path = value.expanduser()
    return path if path.is_absolute() else (_base(info) / path).resolve()


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not a valid URL (expected http:// or https:// and a host)")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError as exc:
        raise ValueError("not a valid URL (bad port)") from exc
    return value.rstrip("/")


def _check_env_name(value: str) -> str:
    if not value.replace("_", "a").isalnum() or value[0].isdigit() or not value.isascii():
        raise ValueError("not an environment variable name (letters, digits and _, not starting with a digit)")
    return value


ResolvedPath = Annotated[Path, AfterValidator(_resolve_path)]
HttpUrl = Annotated[str, AfterValidator(_check_http_url)]
EnvName = Annotated[str, Field(min_length=1), AfterValidator(_check_env_name)]


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetrySettings(Settings):
    max_attempts: int = Field(3, ge=1, le=20)
    # Attempts cut off by a crash (the process died or hung holding the case) are given back and counted apart;
    # after this many crashes the case is quarantined (CASE_QUARANTINED) instead of being tried again.
    max_crashes: int = Field(3, ge=1, le=20)
    # Portals lock an account after 5 failed logins (the sandbox and most IdPs): the robot stops well before.
    login_attempts: int = Field(2, ge=1, le=3)
    backoff_base_s: float = Field(2.0, ge=0)
    backoff_max_s: float = Field(300.0, ge=0)

    def delay_s(self, attempt: int) -> float:
        """Back-off before attempt `attempt + 1`: base · 2^(attempt−1), capped."""
        return min(self.backoff_max_s, self.backoff_base_s * 2 ** max(0, attempt - 1))


class TimeoutSettings(Settings):
    page_s: float = Field(30.0, gt=0)
    element_s: float = Field(10.0, gt=0)
    case_s: float = Field(900.0, gt=0)


class RetentionSettings(Settings):
    traces_days: int = Field(14, ge=0)
    screenshots_days: int = Field(14, ge=0)
    logs_days: int = Field(90, ge=0)
    # Worker rows not heard from for this long are dropped from the store (dead or stopped robots' workers).
    workers_days: int = Field(7, ge=1)


class ClientCertificateSettings(Settings):
    """The robot's client certificate for a portal that requires one (mutual TLS: an agency's system-to-system
    access, a "funktionscertifikat"): a PEM certificate and its PEM private key. The key's passphrase, when the key
    is encrypted, comes from CASEBOT_<PORTAL>_CERT_PASSPHRASE or the OS keyring (`keyring set
    casebot/<portal>-certificate <username>`), like every password; never from this file. A PKCS#12 (.p12/.pfx)
    file converts to the two PEM files with openssl (runbooks/CLIENT_CERTIFICATE.md)."""

    cert: ResolvedPath
    key: ResolvedPath
    passphrase_env: EnvName | None = None
    keyring_service: str | None = Field(None, min_length=1)
    _portal: str = PrivateAttr(default="")
    _username: str = PrivateAttr(default="")

    @property
    def name(self) -> str:
        return f"{self._portal}-certificate"

    @property
    def what(self) -> str:
        return f"the client certificate key of portal '{self._portal or '?'}'"

    @property
    def env_var(self) -> str:
        return self.passphrase_env or f"CASEBOT_{self._portal.upper()}_CERT_PASSPHRASE"

    @property
    def service(self) -> str:
        return self.keyring_service or f"casebot/{self._portal}-certificate"

    @property
    def username(self) -> str:
        return self._username


class PortalSettings(Settings):
    url: HttpUrl
    username: str = Field(min_length=1)
    password_env: EnvName | None = None
    keyring_service: str | None = Field(None, min_length=1)
    layout: str | None = Field(None, pattern=r"^v\d+$")
    # web: the portal's pages in Chromium; desktop: its desktop client on an X display (the case system's
    # calculation screen and park action, through `desktop:` below and selectors/<portal>/desktop.yaml).
    channel: Literal["web", "desktop"] = "web"
    # Mutual TLS: the certificate the robot presents to this portal (an https URL only).
    client_certificate: ClientCertificateSettings | None = None
    _name: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _client_certificate_needs_https(self) -> PortalSettings:
        if self.client_certificate is not None and not self.url.startswith("https://"):
            raise ValueError("a client certificate is presented over TLS only: the url must be https://")
        return self

    @property
    def name(self) -> str:
        return self._name

    @property
    def what(self) -> str:
        return f"portal '{self._name or '?'}'"

    @property
    def env_var(self) -> str:
        """Where the password is looked up first."""
        return self.password_env or f"CASEBOT_{self._name.upper()}_PASSWORD"

    @property
    def service(self) -> str:
        """The OS keyring service the password is looked up under second (with the username)."""
        return self.keyring_service or f"casebot/{self._name}"


class Portals(Settings):
    casesystem: PortalSettings
    skv: PortalSettings
    fk: PortalSettings
    af: PortalSettings
    csn: PortalSettings

    @model_validator(mode="after")
    def _name_each(self) -> Portals:
        for name in PORTAL_NAMES:
            portal = getattr(self, name)
            portal._name = name
            if portal.client_certificate is not None:
                portal.client_certificate._portal = name
                portal.client_certificate._username = portal.username
            if name != "casesystem" and getattr(self, name).channel != "web":
                raise ValueError(f"{name}: only the case system has a desktop client (channel: web)")
        return self

    def items(self) -> Iterator[tuple[str, PortalSettings]]:
        for name in PORTAL_NAMES:
            yield name, getattr(self, name)

    def __getitem__(self, name: str) -> PortalSettings:
        if name not in PORTAL_NAMES:
            raise KeyError(name)
        result: PortalSettings = getattr(self, name)
        return result


class StoreSettings(Settings):
    url: str | None = None  # None: sqlite:///<data_dir>/casebot.db
    # A worker renews the lease on its case every quarter of this; a worker that stops renewing (killed, host
    # lost) loses the case after this long, and another worker resumes it from its last checkpoint.
    lease_s: float = Field(120.0, ge=2, le=3600)

    @property
    def heartbeat_s(self) -> float:
        return self.lease_s / 4

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str | None, info: ValidationInfo) -> str | None:
        if url is None:
            return None
        scheme = urlsplit(url).scheme
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("must start with sqlite:/// or postgresql://")
        if scheme == "sqlite":
            if not url.startswith("sqlite:///") or url == "sqlite:///":
                raise ValueError("a sqlite store URL is sqlite:///relative/path or sqlite:////absolute/path")
            path = Path(url[len("sqlite:///"):]).expanduser()
            if not path.is_absolute():
                # Like every other path in the file: relative to the file's folder.
                return f"sqlite:///{(_base(info) / path).resolve()}"
        return url


class EmailAlertSettings(Settings):
    """SMTP for alerts. The password (when `username` is set) comes from the environment or the keyring."""

    host: str = Field(min_length=1)
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = False
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    to: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(min_length=1)
    username: str | None = Field(None, min_length=1)  # None: the relay takes mail without a login
    password_env: EnvName | None = None
    keyring_service: str | None = Field(None, min_length=1)

    @property
    def name(self) -> str:
        return "smtp"

    @property
    def what(self) -> str:
        return "the alerts' SMTP relay"

    @property
    def env_var(self) -> str:
        return self.password_env or "CASEBOT_SMTP_PASSWORD"

    @property
    def service(self) -> str:
        return self.keyring_service or "casebot/smtp"


class WebhookAlertSettings(Settings):
    url: HttpUrl
    token_env: EnvName | None = None  # when set and present, sent as "Authorization: Bearer <token>"


class AlertSettings(Settings):
    """Where to say that a run failed, stopped early or ended with failed cases."""

    email: EmailAlertSettings | None = None
    webhook: WebhookAlertSettings | None = None


class DesktopSettings(Settings):
    """Where the desktop client is: the X display of the robot's (Citrix) session."""

    display: str = Field(pattern=r"^[A-Za-z0-9.-]*:\d+(\.\d+)?$")
    timeout_s: float = Field(10.0, gt=0, le=120)  # how long an anchor may take to show


class PreflightSettings(Settings):
    """The read-only check of every screen before any case is touched (`casebot check-selectors`)."""

    enabled: bool = True
    # A case the robot may open but never process (a "testärende": a status it does not take from the inbox,
    # or one only test staff own), and a test person every agency holds data for.
    reference_case: str | None = Field(None, min_length=1)
    reference_pnr: str | None = Field(None, pattern=r"^\d{8}-?[0-9A-Z]\d{3}$")


class BrowserSettings(Settings):
    """How long a worker keeps its browser contexts: renewed (closed, opened again, logged in again) after this
    many cases or minutes, whichever comes first, so memory stays flat over a long night. Measured on the sandbox,
    4 workers: the renderers grew about 15 MB a case each; renewing every 100 cases peaked at 3.8 GB, every 15 at
    2.6 GB, with the same throughput (five logins cost less than a case)."""

    recycle_after_cases: int = Field(20, ge=1)
    recycle_after_minutes: float = Field(30.0, gt=0)
    # Pages per agency per worker: a household's members looked up side by side. 2 made one worker 24 % faster at
    # 300 ms agency latency, but on 2 cores 4 workers were 12 % slower with 2 than with 1 (CPU-bound): 1 by default.
    pages_per_agency: int = Field(1, ge=1, le=8)


CONSOLE_ROLES = ("operations", "admin", "viewer")


def _check_ip(value: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise ValueError("not an IP address (pin the proxy's own address, e.g. 10.0.0.5)") from exc


class TrustedProxySettings(Settings):
    """Single sign-on through the municipality's reverse proxy: a request from `address` carrying `user_header`
    is that user; the same header from anywhere else is ignored (and logged)."""

    address: Annotated[str, AfterValidator(_check_ip)]
    user_header: str = Field("X-Remote-User", min_length=1)
    role_header: str | None = Field("X-Remote-Role", min_length=1)  # None: roles from default_role/the account
    default_role: Literal["operations", "admin", "viewer"] | None = None


class ConsoleSettings(Settings):
    """`casebot console`: the operations console's address, sessions, login limits, single sign-on, /metrics."""

    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(8470, ge=1, le=65535)
    tls_cert: ResolvedPath | None = None
    tls_key: ResolvedPath | None = None
    session_minutes: float = Field(30.0, gt=0, le=24 * 60)  # idle expiry
    session_max_hours: float = Field(8.0, gt=0, le=24)  # absolute expiry, however busy
    login_attempts: int = Field(5, ge=1, le=100)  # failed logins per user name and per address ...
    window_minutes: float = Field(15.0, gt=0, le=24 * 60)  # ... within this window, then 429 until it passes
    trusted_proxy: TrustedProxySettings | None = None
    # None: /metrics is open to whoever reaches the console; set: the environment variable holding the bearer
    # token Prometheus must send (a token is a secret, so never in this file).
    metrics_token_env: EnvName | None = None

    @model_validator(mode="after")
    def _cert_and_key(self) -> ConsoleSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("give both tls_cert and tls_key, or neither")
        return self


class TlsSettings(Settings):
    """Whom the robot trusts for HTTPS, in Chromium and in every HTTP client: the system's trust store, plus
    `ca_bundle` (the municipality's own CA, PEM, one or more certificates). Certificate errors are never ignored."""

    ca_bundle: ResolvedPath | None = None  # None: the system's trust store only
    # A portal certificate that expires within this many days is a warning at preflight, in the report and alert.
    expiry_warning_days: int = Field(30, ge=0, le=365)


def check_proxy_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError("the proxy is http://host:port (the scheme in which browsers and HTTP clients speak to it; "
                         "https:// sites still go through it, tunnelled)")
    if parts.username or parts.password:
        raise ValueError("no user in the proxy URL: give proxy.username, and the password through the environment "
                         "or the OS keyring")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("the proxy URL is http://host:port, with nothing after the port")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError("not a valid proxy URL (bad port)") from exc
    if port is None:
        raise ValueError("give the proxy's port (http://host:port): proxies rarely listen on 80")
    return f"http://{parts.netloc}"


def check_no_proxy(value: str) -> str:
    """One entry of `proxy.no_proxy`: a host (name or IP, optionally :port), a .suffix (every host under it) or an
    IP network (CIDR). The browser and the HTTP clients read the same list (`bot.net.goes_direct`)."""
    import ipaddress
    import re

    entry = value.strip().lower()
    if "/" in entry:
        try:
            return str(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an IP network (e.g. 10.0.0.0/8)") from exc
    host, port = entry, None
    if entry.startswith("["):  # [v6] or [v6]:port
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
        if rest and port is None:
            raise ValueError(f"{value!r}: expected [address] or [address]:port")
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    if port is not None and (not port.isdigit() or not 0 < int(port) < 65536):
        raise ValueError(f"{value!r}: bad port")
    try:
        ipaddress.ip_address(host)
        return entry
    except ValueError:
        pass
    if host.startswith(".") and port is not None:
        raise ValueError(f"{value!r}: a .suffix takes no port")
    if not re.fullmatch(r"\.?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*", host):
        raise ValueError(f"{value!r} is not a host, .suffix or IP network")
    return entry


class ProxySettings(Settings):
    """The outbound proxy every request of the robot goes through (the browser, the alerts' webhook), but the
    hosts in `no_proxy`. Its password, when `username` is set, comes from CASEBOT_PROXY_PASSWORD or the OS keyring
    (`keyring set casebot/proxy <username>`), like every password. SMTP (alert e-mail) is not HTTP and never goes
    through it.

    Without a `proxy:` section the robot uses no proxy, and ignores HTTP_PROXY/HTTPS_PROXY in its environment: a
    service's environment is easily inherited by accident, and a night that quietly depends on it breaks when the
    unit file changes. `from_environment: true` takes the proxy (and NO_PROXY) from the environment on purpose."""

    url: Annotated[str, AfterValidator(check_proxy_url)] | None = None
    username: str | None = Field(None, min_length=1)
    password_env: EnvName | None = None
    keyring_service: str | None = Field(None, min_length=1)
    no_proxy: list[Annotated[str, AfterValidator(check_no_proxy)]] = Field(default_factory=list)
    from_environment: bool = False

    @model_validator(mode="after")
    def _url_or_environment(self) -> ProxySettings:
        if self.from_environment == (self.url is not None):
            raise ValueError("give the proxy's url, or from_environment: true (HTTPS_PROXY/HTTP_PROXY), not both")
        return self

    @property
    def name(self) -> str:
        return "proxy"

    @property
    def what(self) -> str:
        return f"the proxy {self.url}" if self.url else "the proxy from the environment"

    @property
    def env_var(self) -> str:
        return self.password_env or "CASEBOT_PROXY_PASSWORD"

    @property
    def service(self) -> str:
        return self.keyring_service or "casebot/proxy"


class InsightsSettings(Settings):
    """The automation rate's caseworker time saved (`casebot insights`, the report's Automatiseringsgrad sheet):
    minutes a caseworker no longer spends per case the robot prepared. Our own estimate: the research
    (shared/domain-research.md) found no published figure for a caseworker's time per monthly application, only the
    robot's own (3-17 min per case with the database look-ups, Arbetsvärlden on Trelleborg; "5-30 seconds")."""

    minutes_saved_full: float = Field(20.0, ge=0, le=600)
    minutes_saved_partial: float = Field(8.0, ge=0, le=600)


class Config(Settings):
    # validate_default: the defaults are relative paths too and must be resolved against the file's folder.
    data_dir: ResolvedPath = Field(Path("data"), validate_default=True)
    log_dir: ResolvedPath = Field(Path("logs"), validate_default=True)
    workers: int = Field(1, ge=1, le=64)
    retries: RetrySettings = RetrySettings()
    timeouts: TimeoutSettings = TimeoutSettings()
    retention: RetentionSettings = RetentionSettings()
    guidelines: ResolvedPath | None = None  # None: the built-in defaults (the sandbox municipality's)
    norms_dir: ResolvedPath | None = None  # an admin's riksnorm tables (<year>.yaml), over the packaged ones
    selectors_dir: ResolvedPath | None = None  # None: the repo's selectors/ folder
    store: StoreSettings = StoreSettings()
    preflight: PreflightSettings = PreflightSettings()
    browser: BrowserSettings = BrowserSettings()
    alerts: AlertSettings = AlertSettings()
    desktop: DesktopSettings | None = None
    insights: InsightsSettings = InsightsSettings()
    proxy: ProxySettings | None = None  # None: no proxy, the environment's HTTP_PROXY ignored
    tls: TlsSettings = TlsSettings()
    console: ConsoleSettings = ConsoleSettings()
    portals: Portals
    source: Path | None = Field(None, exclude=True)  # the file this came from; set by load_config

    @model_validator(mode="before")
    @classmethod
    def _no_source_in_file(cls, data: Any) -> Any:
        if isinstance(data, dict) and "source" in data:
            raise ValueError("'source' is set by the loader, not in the file")
        return data

    @model_validator(mode="after")
    def _desktop_needs_a_display(self) -> Config:
        if self.portals.casesystem.channel == "desktop" and self.desktop is None:
            raise ValueError("portals.casesystem.channel is desktop: say where its client is, e.g. "
                             "desktop: {display: ':0'}")
        return self

    @property
    def store_url(self) -> str:
        return self.store.url or f"sqlite:///{self.data_dir / DEFAULT_DB_NAME}"

    def summary(self) -> dict[str, Any]:
        """What a run record keeps about the configuration: no secrets, no passwords in URLs."""
        return {
            "source": str(self.source) if self.source else None,
            "workers": self.workers,
            "retries": self.retries.model_dump(),
            "timeouts": self.timeouts.model_dump(),
            "guidelines": str(self.guidelines) if self.guidelines else None,
            "norms_dir": str(self.norms_dir) if self.norms_dir else None,
            "store": without_userinfo(self.store_url),
            "portals": {name: {"url": p.url, "username": p.username, "layout": p.layout}
                        for name, p in self.portals.items()},
        }


def without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def load_config(path: Path | str) -> Config:
    """Load and validate the config file. Raises ConfigError naming the file, line and problem."""
    path = Path(path)
    doc = load_yaml(path)
    problems = secret_problems(doc)
    if problems:
        raise ConfigError(problems)
    config = validate(doc, Config, context={"base": path.resolve().parent})
    return config.model_copy(update={"source": path.resolve()})


def write_config(config: Config, path: Path) -> Path:
    """Write a config as the YAML file `load_config` reads back (the demo and tests hand it to the CLI)."""
    import yaml

    data = config.model_dump(mode="json", exclude={"source"}, exclude_none=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
