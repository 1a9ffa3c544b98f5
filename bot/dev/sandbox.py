"""Start and stop the sandbox portals as a child process (`python -m portals`), for the demo, tests and benchmarks.

The robot never imports the sandbox: it only starts it, like any other program, and talks to it over HTTPS,
trusting the test CA the sandbox made at start (`ca_file`), never with verification switched off.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx

from bot.config import PORTAL_NAMES, Config, TlsSettings
from bot.tls import ssl_context


def free_port_base(count: int = len(PORTAL_NAMES)) -> int:
    """A base port with `count` consecutive free ports after it."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count >= 65000:
            continue
        sockets = []
        try:
            for offset in range(count):
                s = socket.socket()
                s.bind(("127.0.0.1", base + offset))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free block of ports on 127.0.0.1")


def ca_file_of(data_dir: Path, ca_dir: Path | None = None) -> Path:
    """Where the sandbox's server writes the CA its portals' certificates are signed by."""
    return (ca_dir if ca_dir is not None else data_dir / "tls") / "ca.pem"


def client_pair_of(data_dir: Path) -> tuple[Path, Path]:
    """Where the sandbox's server writes the robot's client certificate and its key (`portals.tls`)."""
    return data_dir / "tls" / "client.pem", data_dir / "tls" / "client-key.pem"


@dataclass
class Sandbox:
    data_dir: Path
    port_base: int
    process: subprocess.Popen[bytes] | None = None
    urls: dict[str, str] = field(default_factory=dict)
    ca_dir: Path | None = None  # a CA folder shared with other sandboxes; None: the data folder's own
    # Portals serving a bad certificate on purpose (portal -> kind): their admin routes cannot be reached either.
    certificates: dict[str, str] = field(default_factory=dict)
    # Portals that require a client certificate (mutual TLS): the robot's, and the admin calls', is `client_pair`.
    client_auth: tuple[str, ...] = ()

    @property
    def ca_file(self) -> Path:
        """The test CA to trust: the robot's `tls.ca_bundle` for this sandbox."""
        return ca_file_of(self.data_dir, self.ca_dir)

    @property
    def tls(self) -> TlsSettings:
        return TlsSettings(ca_bundle=self.ca_file)

    @property
    def client_pair(self) -> tuple[Path, Path]:
        """The robot's client certificate and key the sandbox made (key passphrase: `CLIENT_PASSPHRASE`)."""
        return client_pair_of(self.data_dir)

    def client_certificate(self) -> dict[str, str]:
        """The robot's `portals.<name>.client_certificate` for a portal of `client_auth`."""
        cert, key = self.client_pair
        return {"cert": str(cert), "key": str(key)}

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        context = ssl_context(self.tls)
        if self.client_auth:  # presented only to the portals that ask for one
            cert, key = self.client_pair
            context.load_cert_chain(str(cert), str(key), password=CLIENT_PASSPHRASE)
        return context

    def http_client(self, **options: Any) -> httpx.Client:
        """An HTTP client that verifies the portals' certificates against the sandbox's CA."""
        return httpx.Client(verify=self.ssl_context, **{"timeout": 10, **options})

    def async_http_client(self, **options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(verify=self.ssl_context, **{"timeout": 10, **options})

    @property
    def well_served(self) -> tuple[str, ...]:
        """The portals serving the good certificate."""
        return tuple(p for p in PORTAL_NAMES if p not in self.certificates)

    def url(self, portal: str, path: str = "") -> str:
        return self.urls[portal] + path

    def get(self, portal: str, path: str, **options: Any) -> httpx.Response:
        with self.http_client() as client:
            return client.get(self.url(portal, path), **options)

    def post(self, portal: str, path: str, **options: Any) -> httpx.Response:
        with self.http_client() as client:
            return client.post(self.url(portal, path), **options)

    def set_knobs(self, portal: str, **knobs: object) -> dict[str, object]:
        response = self.post(portal, "/_admin/knobs", json=knobs)
        response.raise_for_status()
        return response.json()

    def reset_knobs(self) -> None:
        defaults = {"latency_ms": 0, "error_rate": 0.0, "maintenance": False, "session_ttl_s": 1800,
                    "layout": "v1", "system_message_rate": 0.0, "caseworker_editing": ""}
        with self.http_client() as client:  # one connection pool: ten calls, not ten handshakes
            for portal in self.well_served:
                client.post(self.url(portal, "/_admin/knobs"), json=defaults).raise_for_status()
                client.post(self.url(portal, "/_admin/unlock")).raise_for_status()

    def admin_get(self, portal: str, path: str) -> Any:
        """The JSON an admin route answers."""
        response = self.get(portal, path)
        response.raise_for_status()
        return response.json()

    def make_hostile(self, case_id: str, kind: str) -> None:
        """Rewrite a new case with hostile data of `kind` (see `portals.hostile.KINDS`)."""
        response = self.post("casesystem", f"/_admin/cases/{case_id}/hostile", json={"kind": kind})
        if response.status_code != 200:
            raise ValueError(response.json().get("error", response.text))

    def reference(self) -> dict[str, str | None]:
        """The seed's reference case and test person, as the robot's `preflight` settings."""
        meta = self.admin_get("casesystem", "/_admin/meta")
        assert isinstance(meta, dict)
        return {"reference_case": meta.get("reference_case"), "reference_pnr": meta.get("reference_pnr")}

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _answers(sandbox: Sandbox, portal: str) -> bool:
    """The portal's health check, over HTTPS verified against the sandbox's CA; for a portal serving a bad
    certificate on purpose (which no verifying client accepts), that it listens."""
    if portal in sandbox.certificates:
        return _listening(sandbox.port_base + PORTAL_NAMES.index(portal))
    if not sandbox.ca_file.exists() or (sandbox.client_auth and not all(p.exists() for p in sandbox.client_pair)):
        return False  # the server writes them before it listens
    try:
        return sandbox.get(portal, "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def start_sandbox(data_dir: Path, cases: int = 30, seed: int = 7, period: str | None = None,
                  timeout_s: float = 60.0, port_base: int | None = None, *, ca_dir: Path | None = None,
                  certificates: dict[str, str] | None = None, client_auth: Sequence[str] = (),
                  _attempt: int = 1) -> Sandbox:
    """Seed `data_dir` afresh and serve it over HTTPS; returns once every portal answers its health check.
    `period`: the application month (default: the current month, as a municipality would see it today).
    `ca_dir`: a test CA folder shared between sandboxes (made there if missing; default: a new CA in the data
    folder). `certificates`: portal -> a bad certificate it serves instead ("expired", "wrong_host",
    "untrusted", "expiring"), for tests of what the robot does then. `client_auth`: portals that require the
    client certificate the sandbox makes for the robot (mutual TLS)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if ca_dir is None:  # the server makes a new CA: wait for that one, not an earlier sandbox's
        ca_file_of(data_dir).unlink(missing_ok=True)
    for made in client_pair_of(data_dir):  # and its new client certificate
        made.unlink(missing_ok=True)
    base = port_base if port_base is not None else free_port_base()
    bad = dict(certificates or {})
    log = open(data_dir / "sandbox.log", "wb")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(
        [sys.executable, "-m", "portals", "up", "--reseed", "--data", str(data_dir), "--cases", str(cases),
         "--seed", str(seed), *(["--period", period] if period else []), "--port-base", str(base), "--quiet",
         *(["--ca-dir", str(ca_dir)] if ca_dir is not None else []),
         *(arg for portal, kind in bad.items() for arg in ("--certificate", f"{portal}={kind}")),
         *(arg for portal in client_auth for arg in ("--client-auth", portal))],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    sandbox = Sandbox(data_dir, base, process,
                      {name: f"https://127.0.0.1:{base + i}" for i, name in enumerate(PORTAL_NAMES)}, ca_dir, bad,
                      tuple(client_auth))
    try:
        _wait_until_up(sandbox, data_dir, timeout_s)
    except _AddressTaken:
        if port_base is None and _attempt < 3:
            # Another process took one of the free ports between the pick and the bind: pick again.
            return start_sandbox(data_dir, cases, seed, period, timeout_s, None, ca_dir=ca_dir,
                                 certificates=certificates, client_auth=client_auth, _attempt=_attempt + 1)
        raise
    except BaseException:
        sandbox.stop()  # never leave a half-started sandbox serving behind an error
        raise
    return sandbox


class _AddressTaken(RuntimeError):
    pass


def _wait_until_up(sandbox: Sandbox, data_dir: Path, timeout_s: float) -> None:
    process = sandbox.process
    assert process is not None
    deadline = time.monotonic() + timeout_s
    pending = set(PORTAL_NAMES)
    while pending:
        if process.poll() is not None:
            output = (data_dir / "sandbox.log").read_text()[-3000:]
            if "address already in use" in output:
                raise _AddressTaken(f"sandbox exited with {process.returncode}: {output}")
            raise RuntimeError(f"sandbox exited with {process.returncode}: {output}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"sandbox not up after {timeout_s}s: {(data_dir / 'sandbox.log').read_text()[-3000:]}")
        for name in list(pending):
            if _answers(sandbox, name):
                pending.discard(name)
        time.sleep(0.1)


# The sandbox's published training accounts (docs/contract.md): synthetic, valid only against the sandbox. The demo
# hands them to the robot through the environment, the same way a real deployment hands over real passwords.
SANDBOX_USERS = {"casesystem": "robot", "skv": "kommun", "fk": "kommun", "af": "kommun", "csn": "kommun"}
SANDBOX_PASSWORDS = {"casesystem": "robot-pass", "skv": "skv-pass", "fk": "fk-pass", "af": "af-pass",
                     "csn": "csn-pass"}
CLIENT_PASSPHRASE = "klient-pass"  # of the client certificate's key the sandbox makes for the robot


def sandbox_config(home: Path, sandbox: Sandbox | int = 8100, *, desktop_display: str | None = None,
                   **overrides: Any) -> Config:
    """A robot config for the local sandbox, for the demo and tests: its URLs and training accounts, and, given a
    running sandbox rather than a port base, its reference case for the preflight check and its test CA as the
    one to trust (`tls.ca_bundle`)."""
    port_base = sandbox if isinstance(sandbox, int) else sandbox.port_base
    if not isinstance(sandbox, int):
        overrides.setdefault("preflight", sandbox.reference())
        overrides.setdefault("tls", {"ca_bundle": str(sandbox.ca_file)})
    portals: dict[str, dict[str, Any]] = {
        name: {"url": f"https://127.0.0.1:{port_base + i}", "username": SANDBOX_USERS[name]}
        for i, name in enumerate(PORTAL_NAMES)}
    if not isinstance(sandbox, int):
        for name in sandbox.client_auth:
            portals[name]["client_certificate"] = sandbox.client_certificate()
    if desktop_display is not None:  # the case system's calculation screen and park through its desktop client
        portals["casesystem"]["channel"] = "desktop"
        overrides.setdefault("desktop", {"display": desktop_display})
    data = {"data_dir": "data", "log_dir": "logs", "portals": portals, **overrides}
    return Config.model_validate(data, context={"base": home.resolve()}).model_copy(
        update={"source": home.resolve() / "config.yaml"})


def sandbox_environ(sandbox: Sandbox | None = None) -> dict[str, str]:
    """The training accounts' passwords, and for the portals of `sandbox` that require a client certificate, the
    passphrase of the key the sandbox made for the robot."""
    return {**{f"CASEBOT_{name.upper()}_PASSWORD": password for name, password in SANDBOX_PASSWORDS.items()},
            **{f"CASEBOT_{name.upper()}_CERT_PASSPHRASE": CLIENT_PASSPHRASE
               for name in (sandbox.client_auth if sandbox is not None else ())}}


# What the sandbox's case system shows for each outcome once the robot is done.
STATUS_FOR_OUTCOME = {"auto": "klar_for_signering", "partial": "klar_for_signering", "manual": "manuell"}


def wrong_statuses(sandbox: Sandbox, case_ids: list[str]) -> dict[str, str]:
    """Cases whose status in the case system is not the one the oracle's outcome means (parked for signing, or
    manual handling): for tests that judge how a case was handed over, not its figures."""
    expected = {e["case_id"]: e for e in sandbox.admin_get("casesystem", "/_admin/expected")}
    wrong = {}
    for case_id in case_ids:
        case = sandbox.admin_get("casesystem", f"/_admin/cases/{case_id}")
        if case["status"] != STATUS_FOR_OUTCOME[expected[case_id]["outcome"]]:
            wrong[case_id] = case["status"]
    return wrong


NOTE_MARKER = "casebot-ref:"
NOTE_CODE = re.compile(r"\[([A-Z][A-Z_]+)\]")


def _reason_differences(case: dict[str, Any], exp: dict[str, Any]) -> list[str]:
    """The reasons (warnings included) in the robot's journal note against the oracle's, as sets of codes, for the
    cases the robot prepares (auto, partial). A manual case is judged by its status: once one reason hands it to a
    person, what else could be worked out is not the robot's to finish (an unknown income type stops the
    calculation, and with it the comparison with last month)."""
    notes = [e.get("text", "") for e in case.get("journal", []) if NOTE_MARKER in e.get("text", "")]
    if not notes or exp["outcome"] == "manual":
        return []
    written = set(NOTE_CODE.findall(notes[-1]))
    expected = set(json.loads(exp["reasons"]) if isinstance(exp["reasons"], str) else exp["reasons"])
    if written == expected:
        return []
    return [f"reasons {sorted(written)}, expected {sorted(expected)}"]


def differences_from_oracle(sandbox: Sandbox, case_ids: list[str] | None = None) -> dict[str, list[str]]:
    """Per case, how the case system's state differs from the sandbox oracle's expectation (computed with no
    code of the robot's): status, needs-completion flag, every expected field value, every field to leave empty,
    and the reason codes (warnings included) the robot's journal note gives.
    An empty dict means the robot did exactly what an independent hand calculation says."""
    expected = {row["case_id"]: row for row in sandbox.admin_get("casesystem", "/_admin/expected")}
    wanted = case_ids if case_ids is not None else sorted(expected)
    found: dict[str, list[str]] = {}
    with sandbox.http_client() as client:
        for case_id in wanted:
            exp = expected[case_id]
            case = client.get(sandbox.url("casesystem", f"/_admin/cases/{case_id}")).json()
            problems = []
            if case["status"] != STATUS_FOR_OUTCOME[exp["outcome"]]:
                problems.append(f"status {case['status']!r}, expected {STATUS_FOR_OUTCOME[exp['outcome']]!r} "
                                f"({exp['outcome']})")
            if exp["outcome"] != "manual" and bool(case["needs_completion"]) != (exp["outcome"] == "partial"):
                problems.append(f"needs_completion {case['needs_completion']!r} for a {exp['outcome']} case")
            for key, value in exp["fields"].items():
                if case["calc"].get(key) != value:
                    problems.append(f"{key} = {case['calc'].get(key)!r}, expected {value!r}")
            for key in exp["empty_fields"]:
                if case["calc"].get(key) is not None:
                    problems.append(f"{key} = {case['calc'][key]!r}, expected empty")
            problems += _reason_differences(case, exp)
            if problems:
                found[case_id] = problems
    return found
