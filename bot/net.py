"""The robot's way out to the portals: the outbound proxy (`proxy:` in the config) for the browser and for every
HTTP client, from one place so no client forgets it.

- `resolve_proxy`: the settings and the password (environment or OS keyring, masked in every log) → a `Proxy`.
- `chromium_proxy`: what Playwright's `launch(proxy=…)` takes. `http_client` / `async_http_client`: httpx clients
  routed the same way. Both follow one no-proxy list, matched by `goes_direct`.
- `check_proxy`: the preflight: can the proxy be reached, does it take the robot's login, will it carry a request
  to each portal. `proxy_problem`: Chromium's proxy errors (net::ERR_PROXY_…) in words.

SMTP (alert e-mail) is not HTTP: it never goes through this proxy, only to the relay named in `alerts.email`.
Authentication to the proxy is Basic for the HTTP clients and the preflight (httpx has no other); the browser also
answers Digest, NTLM and Negotiate challenges with the same user and password.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import os
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from loguru import logger
from playwright.async_api import ProxySettings as PlaywrightProxy

from bot.config import ProxySettings, check_no_proxy, check_proxy_url
from bot.credentials import find_password
from bot.errors import ErrorCode, SystemException
from bot.masking import register_secret

DEFAULT_PORTS = {"http": 80, "https": 443}
# Chromium's "subtract the implicit rules": without it Chromium never proxies localhost and 127.0.0.0/8, whatever
# the list says. First in the list: Chromium lets a later rule override an earlier one, so a loopback host the
# operator names in no_proxy still goes direct.
CHROMIUM_PROXY_LOOPBACK = "<-loopback>"
PROBE_TIMEOUT_S = 10.0

Verify = ssl.SSLContext | bool


@dataclass(frozen=True)
class Proxy:
    """A proxy ready to use: where it is, the login (if any) and the hosts that go direct."""

    url: str  # http://host:port, no credentials in it
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    no_proxy: tuple[str, ...] = ()
    # Where the password is set, for messages: never the password itself.
    password_hint: str = ""

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    def login_header(self) -> str | None:
        if self.username is None:
            return None
        token = base64.b64encode(f"{self.username}:{self.password or ''}".encode()).decode()
        return f"Basic {token}"


# -- settings → Proxy ----------------------------------------------------------------------------------------------
def resolve_proxy(settings: ProxySettings | None, environ: Mapping[str, str] | None = None) -> Proxy | None:
    """The proxy to use, or None for none. Raises CREDENTIALS_MISSING when a username is set and no password is
    found, CONFIG_INVALID when `from_environment` finds an unusable HTTPS_PROXY/HTTP_PROXY."""
    if settings is None:
        return None  # HTTP_PROXY & co. in the environment are ignored on purpose (see ProxySettings)
    env = os.environ if environ is None else environ
    url, username, password = settings.url, settings.username, None
    no_proxy = list(settings.no_proxy)
    if settings.from_environment:
        found = _from_environment(env)
        if found is None:
            logger.info("proxy: from_environment, and the environment names none: every request goes direct")
            return None
        url, env_user, password = found
        username = username or env_user
        no_proxy += _environment_no_proxy(env)
    assert url is not None
    hint = f"the environment variable {settings.env_var} or the OS keyring ({settings.service} {username})"
    if username is not None and password is None:
        password = _password(settings, username, env)
    register_secret(password)
    return Proxy(url, username, password, tuple(dict.fromkeys(no_proxy)), hint)


def _password(settings: ProxySettings, username: str, env: Mapping[str, str]) -> str:
    named = settings.model_copy(update={"username": username})
    password, where = find_password(named, env)
    if password is None:
        raise SystemException(ErrorCode.CREDENTIALS_MISSING, where, step="credentials", retryable=False)
    logger.debug("proxy: password from {}", where)
    return password


def _from_environment(env: Mapping[str, str]) -> tuple[str, str | None, str | None] | None:
    """(url without credentials, user, password) from HTTPS_PROXY or HTTP_PROXY (either case), or None."""
    raw = next((env[k] for k in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy") if env.get(k)), None)
    if raw is None:
        return None
    parts = urlsplit(raw if "://" in raw else f"http://{raw}")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    register_secret(password)
    bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    try:
        return check_proxy_url(bare), user, password
    except ValueError as exc:
        raise SystemException(ErrorCode.CONFIG_INVALID, f"proxy.from_environment: HTTPS_PROXY/HTTP_PROXY: {exc}",
                              step="credentials") from None


def _environment_no_proxy(env: Mapping[str, str]) -> list[str]:
    entries = []
    for raw in (env.get("NO_PROXY") or env.get("no_proxy") or "").split(","):
        text = raw.strip()
        text = text[1:] if text.startswith("*.") else text  # curl's *.example means .example
        if not text:
            continue
        try:
            entries.append(check_no_proxy(text))
        except ValueError as exc:
            logger.warning("NO_PROXY: {} is left out: {}", text, exc)
    return entries


# -- the no-proxy list ----------------------------------------------------------------------------------------------
def _entry_host_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else None
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return host, int(port)
    return entry, None


def _same_host(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


def goes_direct(url: str, no_proxy: Sequence[str]) -> bool:
    """Whether a request to `url` bypasses the proxy: its host is an entry (with the entry's port, if it names one),
    ends with a .suffix entry, or is an IP address in a network entry. Names are not resolved: an IP network
    matches URLs that give an IP address (as in Chromium)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    for entry in no_proxy:
        if "/" in entry:
            if ip is not None and ip in ipaddress.ip_network(entry):
                return True
        elif entry.startswith("."):
            if host.endswith(entry):
                return True
        else:
            entry_host, entry_port = _entry_host_port(entry)
            if _same_host(entry_host, host) and entry_port in (None, port):
                return True
    return False


def chromium_bypass(no_proxy: Sequence[str]) -> str:
    """The no-proxy list as Chromium's bypass rules, for Playwright's `proxy.bypass` (comma-separated)."""
    rules = [CHROMIUM_PROXY_LOOPBACK]
    for entry in no_proxy:
        if entry.startswith("."):
            rules.append(f"*{entry}")  # Chromium's pattern for every host under the suffix
        elif ":" in entry and "/" not in entry and not entry.startswith("["):
            host, port = _entry_host_port(entry) if entry.count(":") == 1 else (entry, None)
            bracketed = f"[{host}]" if ":" in host else host
            rules.append(bracketed if port is None else f"{bracketed}:{port}")
        else:
            rules.append(entry)
    return ",".join(rules)


# -- the browser ----------------------------------------------------------------------------------------------------
def chromium_proxy(proxy: Proxy | None) -> PlaywrightProxy | None:
    """What Playwright's `chromium.launch(proxy=…)` takes, or None for no proxy."""
    if proxy is None:
        return None
    settings: PlaywrightProxy = {"server": proxy.url, "bypass": chromium_bypass(proxy.no_proxy)}
    if proxy.username is not None:
        settings["username"] = proxy.username
        settings["password"] = proxy.password or ""
    return settings


# Chromium's proxy errors (net/base/net_error_list.h), in words for an operator.
CHROMIUM_PROXY_ERRORS = {
    "ERR_PROXY_CONNECTION_FAILED": "the proxy cannot be reached (nothing answers at its address and port)",
    "ERR_TUNNEL_CONNECTION_FAILED": "the proxy would not open a tunnel to the portal (a refused login, HTTP 407, "
                                    "or the proxy itself cannot reach the portal or is not allowed to)",
    "ERR_PROXY_AUTH_UNSUPPORTED": "the proxy asks for a login scheme the browser does not support",
    "ERR_PROXY_AUTH_REQUESTED": "the proxy asks for a login and none was given (proxy.username)",
    "ERR_INVALID_AUTH_CREDENTIALS": "the proxy refused the user name or password",
    "ERR_NO_SUPPORTED_PROXIES": "no proxy in the configuration is usable",
    "ERR_PROXY_CERTIFICATE_INVALID": "the proxy's own certificate is not valid",
    "ERR_MANDATORY_PROXY_CONFIGURATION_FAILED": "the proxy configuration could not be applied",
}


def proxy_problem(message: str) -> str | None:
    """Chromium's proxy failure in `message` (a page load's error) in words, or None when it is not one."""
    for name, words in CHROMIUM_PROXY_ERRORS.items():
        if f"net::{name}" in message:
            return f"{words} (net::{name})"
    return None


# -- HTTP clients ---------------------------------------------------------------------------------------------------
def _httpx_proxy(proxy: Proxy) -> httpx.Proxy:
    auth = (proxy.username, proxy.password or "") if proxy.username is not None else None
    return httpx.Proxy(proxy.url, auth=auth)


class _Routes(httpx.BaseTransport):
    """Each request through the proxy, or direct when the no-proxy list says so. httpx's own `mounts` patterns
    cannot say "an IP network"; one matcher (`goes_direct`) also keeps the clients agreeing with the browser."""

    def __init__(self, proxy: Proxy, verify: Verify) -> None:
        self._no_proxy = proxy.no_proxy
        self._via = httpx.HTTPTransport(verify=verify, proxy=_httpx_proxy(proxy), trust_env=False)
        self._direct = httpx.HTTPTransport(verify=verify, trust_env=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        chosen = self._direct if goes_direct(str(request.url), self._no_proxy) else self._via
        return chosen.handle_request(request)

    def close(self) -> None:
        self._via.close()
        self._direct.close()


class _AsyncRoutes(httpx.AsyncBaseTransport):
    """`_Routes` for an `httpx.AsyncClient`."""

    def __init__(self, proxy: Proxy, verify: Verify) -> None:
        self._no_proxy = proxy.no_proxy
        self._via = httpx.AsyncHTTPTransport(verify=verify, proxy=_httpx_proxy(proxy), trust_env=False)
        self._direct = httpx.AsyncHTTPTransport(verify=verify, trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        chosen = self._direct if goes_direct(str(request.url), self._no_proxy) else self._via
        return await chosen.handle_async_request(request)

    async def aclose(self) -> None:
        await self._via.aclose()
        await self._direct.aclose()


def http_transport(proxy: Proxy | None, *, verify: Verify = True) -> httpx.BaseTransport:
    """A transport through `proxy` (None: direct). Always an explicit one: httpx would otherwise read HTTP_PROXY
    from the environment, which the robot ignores unless told (`proxy: {from_environment: true}`)."""
    if proxy is None:
        return httpx.HTTPTransport(verify=verify, trust_env=False)
    return _Routes(proxy, verify)


def async_http_transport(proxy: Proxy | None, *, verify: Verify = True) -> httpx.AsyncBaseTransport:
    if proxy is None:
        return httpx.AsyncHTTPTransport(verify=verify, trust_env=False)
    return _AsyncRoutes(proxy, verify)


def http_client(proxy: Proxy | None, *, verify: Verify = True, **kwargs: Any) -> httpx.Client:
    """The robot's httpx client: through the proxy (or not, per the no-proxy list). `verify`: the TLS trust."""
    return httpx.Client(transport=http_transport(proxy, verify=verify), trust_env=False, **kwargs)


def async_http_client(proxy: Proxy | None, *, verify: Verify = True, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=async_http_transport(proxy, verify=verify), trust_env=False, **kwargs)


# -- preflight ------------------------------------------------------------------------------------------------------
async def probe_proxy(proxy: Proxy, target: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """What is wrong with reaching `target` (a portal's URL) through the proxy, in words; None when nothing is.

    One request the way the browser sends it: CONNECT host:port for https (the proxy answers for itself: a tunnel
    or not), an absolute-URL HEAD for http (only a 407 is the proxy's; any other status is the portal's own answer,
    which the screen check judges). The password is never in the words."""
    parts = urlsplit(target)
    authority = f"{parts.hostname}:{parts.port or DEFAULT_PORTS.get(parts.scheme, 80)}"
    if ":" in (parts.hostname or ""):
        authority = f"[{parts.hostname}]:{parts.port or DEFAULT_PORTS.get(parts.scheme, 80)}"
    tunnel = parts.scheme == "https"

    async def ask(login: bool) -> tuple[int, str, list[str]]:
        lines = ([f"CONNECT {authority} HTTP/1.1"] if tunnel else [f"HEAD {parts.scheme}://{authority}/ HTTP/1.1",
                                                                    "Connection: close"])
        lines.append(f"Host: {authority}")
        header = proxy.login_header() if login else None
        if header is not None:
            lines.append(f"Proxy-Authorization: {header}")
        return await asyncio.wait_for(_exchange(proxy, "\r\n".join(lines) + "\r\n\r\n"), timeout_s)

    try:
        status, reason, challenges = await ask(login=True)
        # Some proxies (tinyproxy) refuse a wrong password with 401, not 407. To a CONNECT only the proxy answers;
        # to a HEAD the portal may: the 401 is the proxy's when, asked without a login, the proxy wants one.
        if status == 401 and not tunnel and proxy.username is not None:
            bare_status, _, bare_challenges = await ask(login=False)
            status, challenges = (407, bare_challenges) if bare_status == 407 else (status, challenges)
    except TimeoutError:
        return f"the proxy {proxy.url} did not answer within {timeout_s:.0f} s"
    except OSError as exc:
        return f"cannot reach the proxy {proxy.url}: {exc.strerror or type(exc).__name__}"
    except ValueError as exc:
        return f"the proxy {proxy.url} did not answer as an HTTP proxy ({exc})"
    if status == 407 or (tunnel and status == 401):
        return _refused_login(proxy, status, challenges)
    if tunnel and not 200 <= status < 300:
        return f"the proxy {proxy.url} would not open a tunnel to {authority}: HTTP {status} {reason}".rstrip()
    return None


def _refused_login(proxy: Proxy, status: int, challenges: list[str]) -> str | None:
    schemes = [c.split()[0] for c in challenges if c.strip()]
    if proxy.username is not None and schemes and not any(s.lower() == "basic" for s in schemes):
        # NTLM/Negotiate: the browser answers it, this check cannot tell a wrong password from the scheme.
        logger.warning("the proxy {} asks for {} logins, which the preflight cannot check (Basic only); the "
                       "browser answers them, the alerts' webhook cannot", proxy.url, ", ".join(schemes))
        return None
    if proxy.username is None:
        return (f"the proxy {proxy.url} asks for a login (HTTP {status}): set proxy.username in the config and its "
                "password in CASEBOT_PROXY_PASSWORD or the OS keyring")
    return (f"the proxy {proxy.url} refused user '{proxy.username}' (HTTP {status}): check the password in "
            f"{proxy.password_hint}, and that the account is not locked")


async def _exchange(proxy: Proxy, request: str) -> tuple[int, str, list[str]]:
    """Send one request to the proxy and read its answer's status line and Proxy-Authenticate headers."""
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    try:
        writer.write(request.encode("latin-1"))
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        raise ValueError("it closed the connection without an answer") from exc
    except asyncio.LimitOverrunError as exc:
        raise ValueError("its answer's header is too long") from exc
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return parse_answer(head)


def parse_answer(head: bytes) -> tuple[int, str, list[str]]:
    """A proxy's answer header: (status, reason, its login challenges). ValueError when it is not HTTP."""
    first, *headers = head.decode("latin-1").split("\r\n")
    version, _, rest = first.partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/") or not code.isdigit():
        raise ValueError(f"status line {first[:60]!r}")
    challenges = [h.split(":", 1)[1].strip() for h in headers
                  if h.lower().startswith(("proxy-authenticate:", "www-authenticate:"))]
    return int(code), reason.strip(), challenges


class TunnelRefused(OSError):
    """The proxy would not open a tunnel (its words in the message, never the password)."""


def connect(proxy: Proxy | None, host: str, port: int, *, timeout_s: float = PROBE_TIMEOUT_S) -> socket.socket:
    """A TCP connection to host:port the way the robot's requests go: through a CONNECT tunnel of the proxy, or
    direct (no proxy, or the host in no_proxy). For a handshake of the robot's own, such as the certificate check,
    which behind a proxy has no direct route. Raises OSError (TunnelRefused when the proxy says no)."""
    if proxy is None or goes_direct(f"https://{_authority(host, port)}", proxy.no_proxy):
        return socket.create_connection((host, port), timeout=timeout_s)
    sock = socket.create_connection((proxy.host, proxy.port), timeout=timeout_s)
    try:
        lines = [f"CONNECT {_authority(host, port)} HTTP/1.1", f"Host: {_authority(host, port)}"]
        login = proxy.login_header()
        if login is not None:
            lines.append(f"Proxy-Authorization: {login}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head = b""
        while not head.endswith(b"\r\n\r\n"):  # a byte at a time: what follows the header is the tunnel's
            byte = sock.recv(1)
            if not byte or len(head) > 16_384:
                raise TunnelRefused(f"the proxy {proxy.url} closed the connection without opening a tunnel")
            head += byte
        try:
            status, reason, _ = parse_answer(head)
        except ValueError as exc:
            raise TunnelRefused(f"the proxy {proxy.url} did not answer as an HTTP proxy ({exc})") from None
        if not 200 <= status < 300:
            raise TunnelRefused(f"the proxy {proxy.url} would not open a tunnel to {_authority(host, port)}: "
                                f"HTTP {status} {reason}".rstrip())
    except BaseException:
        sock.close()
        raise
    return sock


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def check_proxy(proxy: Proxy | None, urls: Sequence[str], *,
                      timeout_s: float = PROBE_TIMEOUT_S) -> SystemException | None:
    """The preflight: PROXY_FAILED naming the proxy and what is wrong, or None. The proxy itself (unreachable, a
    refused login) stops at the first portal; a portal it will not carry is named with the others."""
    if proxy is None:
        return None
    through = [url for url in dict.fromkeys(urls) if not goes_direct(url, proxy.no_proxy)]
    problems = await asyncio.gather(*(probe_proxy(proxy, url, timeout_s=timeout_s) for url in through))
    found = list(dict.fromkeys(p for p in problems if p is not None))
    if not found:
        if through:
            logger.info("proxy {}: carries the robot to {} portal address(es)", proxy.url, len(through))
        return None
    return SystemException(ErrorCode.PROXY_FAILED, "; ".join(found), step="preflight")
