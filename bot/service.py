"""`casebot service`: systemd units for the scheduler, a worker and the console, and the environment file's
template, derived from a config. Pure text from a `ServicePlan`; only `verify_units` runs a program.

The three units share one sandbox: a dedicated user, the system read-only but for the config's data and log
folders, private /tmp, no home folders, no new privileges, secrets from one EnvironmentFile. Every setting the
units leave out is named in the unit with why (Chromium and Playwright's Node driver must keep working).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import BaseModel

from bot.config import Config

ENV_FILE = Path("/etc/casebot/casebot.env")
CONSOLE_SECRET_ENV = "CASEBOT_CONSOLE_SECRET"  # bot.console.auth.SECRET_ENV, named here to keep this module light
# Folders systemd hides from the units: ProtectHome= the first, PrivateTmp= the second.
HOME_TREES = ("/home", "/root", "/run/user")
TMP_TREES = ("/tmp", "/var/tmp")
# After SIGTERM a night finishes its current step; a step never outlasts the case's own limit (timeouts.case_s,
# enforced with asyncio.wait_for), then the morning report is written and the browsers closed: this much on top.
STOP_MARGIN_S = 120
RESTART_SEC = 30


@dataclass(frozen=True)
class Unit:
    name: str  # casebot-scheduler.service
    command: str  # the casebot subcommand
    description: str


UNITS = (
    Unit("casebot-scheduler.service", "schedule", "casebot scheduler: fires the nightly runs of schedules/*.yaml"),
    Unit("casebot-worker.service", "worker",
         "casebot worker: works the runs another host's scheduler opened (extra hosts on a PostgreSQL store)"),
    Unit("casebot-console.service", "console", "casebot operations console"),
)


@dataclass(frozen=True)
class ServicePlan:
    """What the units need, read from the config and the machine once."""

    user: str
    group: str
    exec_prefix: tuple[str, ...]  # ("/opt/casebot/bin/casebot",) or (python, "-m", "bot")
    config_file: Path
    writable: tuple[Path, ...]  # ReadWritePaths=: the data and log folders (and a SQLite store's folder)
    readable: tuple[Path, ...]  # what the robot reads: the installation, the config, its other files
    data_dir: Path
    stop_timeout_s: int
    env_file: Path = ENV_FILE
    display: str | None = None  # the desktop client's X display (channel: desktop)
    console_port: int = 8470
    postgres: bool = False

    @property
    def home(self) -> Path:
        """HOME for Chromium (profile, fontconfig cache, crash reports): the system is read-only and the home
        folders hidden, so it lives in the data folder."""
        return self.data_dir / "home"


def is_under(path: PurePosixPath | Path, trees: tuple[str, ...]) -> bool:
    return any(PurePosixPath(path).is_relative_to(tree) for tree in trees)


def writable_paths(config: Config) -> tuple[Path, ...]:
    """The data and log folders, and a SQLite store's folder when it is elsewhere (the database, its journal and
    WAL files are written beside it). Reports go to the data folder's reports/."""
    paths = [config.data_dir, config.log_dir]
    url = config.store_url
    if url.startswith("sqlite:///"):
        paths.append(Path(url[len("sqlite:///"):]).parent)
    unique: list[Path] = []
    for path in paths:
        if path not in unique:
            unique.append(path)
    return tuple(unique)


def _walk(node: object, where: str) -> Iterator[tuple[str, str, object]]:
    """(dotted place, field name, value) for every field in the config's tree of settings."""
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            value = getattr(node, name)
            yield where, name, value
            yield from _walk(value, f"{where}.{name}" if where else name)
        for name, attribute in vars(type(node)).items():
            if isinstance(attribute, property) and name.endswith("env_var"):
                # A secret with a default variable name (portals, SMTP): the name it is looked up under.
                yield where, name, getattr(node, name)
    elif isinstance(node, list | tuple):
        for index, item in enumerate(node):
            yield from _walk(item, f"{where}[{index}]")
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from _walk(item, f"{where}.{key}")


def _needs_login(place: str, config: Config) -> bool:
    """An SMTP relay without a username takes mail without a password."""
    node: object = config
    for part in place.split("."):
        node = getattr(node, part, None)
    return getattr(node, "username", "") is not None


def env_names(config: Config) -> list[tuple[str, str]]:
    """(variable, what it holds) for every secret the config reads from the environment: each portal's password,
    the SMTP password, the webhook and metrics tokens, the proxy's and any other `*_env` setting, and the
    console's session key. The keyring is no alternative under systemd (no login session unlocks it)."""
    found: dict[str, str] = {}
    for place, name, value in _walk(config, ""):
        if not isinstance(value, str) or name == "source":
            continue
        if name.endswith("env_var") and place.endswith(".client_certificate"):
            found.setdefault(value, f"{place}: the key's passphrase (leave it empty for a key that is not encrypted)")
        elif name.endswith("env_var"):
            if _needs_login(place, config):
                found.setdefault(value, f"{place}: {name.removesuffix('env_var').strip('_') or 'password'}")
        elif name.endswith("_env") and not place.endswith(".client_certificate"):
            found.setdefault(value, f"{place}: {name.removesuffix('_env').replace('_', ' ')}")
    proxy = getattr(config, "proxy", None)
    if getattr(proxy, "from_environment", False):
        # Not secrets, but a service has no login shell to inherit them from: this file is where they are set.
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"):
            found.setdefault(name, "proxy: from_environment (the URL, or the hosts that bypass it)")
    found.setdefault(CONSOLE_SECRET_ENV, "console: the session-signing key (any long random string)")
    return list(found.items())


def env_template(config: Config, env_file: Path = ENV_FILE) -> str:
    """The EnvironmentFile with every name and no value: an operator fills it in. An empty variable counts as
    unset, so a forgotten one stops the robot at start naming it, not at 01:00."""
    lines = [f"# {env_file}: the robot's secrets, readable by its user alone (mode 0600).",
             f"# Generated from {config.source or 'the config'}; fill in every value, no quotes needed.", ""]
    for name, what in env_names(config):
        lines += [f"# {what}", f"{name}="]
    return "\n".join(lines) + "\n"


def _project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def readable_paths(config: Config, exec_prefix: tuple[str, ...]) -> tuple[Path, ...]:
    """Files and folders the robot reads: its installation (the interpreter's prefix, the package and the repo's
    selectors and schedules beside it), the config and every path it names but the writable folders."""
    paths = [*_installation(Path(exec_prefix[0])), _project_root()]
    if config.source is not None:
        paths.append(config.source)
    writable = writable_paths(config)
    for _place, name, value in _walk(config, ""):
        if isinstance(value, Path) and name != "source" and value not in writable:
            paths.append(value)
    unique: list[Path] = []
    for path in paths:
        if path not in unique:
            unique.append(path)
    return tuple(unique)


def _prefix(program: Path) -> Path:
    return program.parent.parent if program.parent.name == "bin" else program.parent


def _installation(program: Path) -> list[Path]:
    """The folders a program needs: its own prefix (a venv) and, for a script, its interpreter's, which a venv
    links to elsewhere (the system's, or pyenv's)."""
    found = [_prefix(program)]
    interpreter = program
    try:
        with program.open("rb") as handle:
            first = handle.readline(512)
        if first.startswith(b"#!"):
            interpreter = Path(first[2:].split()[0].decode())
    except (OSError, IndexError, UnicodeDecodeError):
        pass
    for candidate in (interpreter, interpreter.resolve()):
        if _prefix(candidate) not in found:
            found.append(_prefix(candidate))
    return found


def default_exec(python: str | None = None) -> tuple[str, ...]:
    """`--python PATH`: PATH -m bot. Else the `casebot` script installed beside this interpreter (a venv's
    bin/), else this interpreter with -m bot. Never a shell shim (pyenv's): it needs the login's environment."""
    if python:
        return (python, "-m", "bot")
    script = Path(sys.executable).parent / "casebot"
    if script.is_file():
        return (str(script),)
    return (sys.executable, "-m", "bot")


def plan_for(config: Config, *, user: str = "casebot", group: str | None = None, python: str | None = None,
             exec_prefix: tuple[str, ...] | None = None, env_file: Path = ENV_FILE) -> ServicePlan:
    prefix = exec_prefix or default_exec(python)
    display = config.desktop.display if config.desktop is not None else None
    if config.source is None:
        raise ValueError("the config has no file: the units name it in ExecStart")
    return ServicePlan(user=user, group=group or user, exec_prefix=prefix, config_file=config.source,
                       writable=writable_paths(config), readable=readable_paths(config, prefix),
                       data_dir=config.data_dir, stop_timeout_s=int(config.timeouts.case_s) + STOP_MARGIN_S,
                       env_file=env_file, display=display, console_port=config.console.port,
                       postgres=config.store_url.startswith(("postgresql:", "postgres:")))


def _value(text: str | Path) -> str:
    """One word of a unit file: % escaped (systemd's specifiers), quoted when it holds a space."""
    word = str(text).replace("%", "%%")
    return shlex.quote(word) if any(c.isspace() or c in "\"'\\" for c in word) else word


def _paths(paths: tuple[Path, ...] | list[Path]) -> str:
    return " ".join(_value(p) for p in paths)


def warnings(plan: ServicePlan) -> list[str]:
    """What works but should not stay so: paths in folders the sandbox hides (kept visible by bind mounts)."""
    said: list[str] = []
    for path in plan.readable + plan.writable:
        if is_under(path, HOME_TREES):
            said.append(f"{path} is in a home folder: ProtectHome=yes would hide it, so the units use "
                        "ProtectHome=tmpfs and bind it back; install casebot under /opt and keep its files under "
                        "/etc/casebot and /var/lib/casebot for ProtectHome=yes")
        elif is_under(path, TMP_TREES):
            said.append(f"{path} is under /tmp: PrivateTmp=yes gives the units their own /tmp, so it is bound back "
                        "in; /tmp is cleaned at boot, keep the robot's files under /var/lib/casebot")
    return said


def _sandbox(plan: ServicePlan, unit: Unit) -> list[str]:
    hidden_home = [p for p in plan.readable + plan.writable if is_under(p, HOME_TREES)]
    lines = [
        "# The system read-only but for the robot's own folders; a private /tmp (Playwright's browser profiles go "
        "there).",
        "ProtectSystem=strict",
        f"ReadWritePaths={_paths(plan.writable)}",
        "PrivateTmp=yes",
    ]
    if hidden_home:
        lines += ["# casebot or its files are in a home folder (see `casebot service`'s warning): every home "
                  "folder is an empty",
                  "# tmpfs but these, bound back in. Installed under /opt, this is ProtectHome=yes.",
                  "ProtectHome=tmpfs"]
    else:
        lines.append("ProtectHome=yes")
    bind_rw = [p for p in plan.writable if is_under(p, HOME_TREES + TMP_TREES)]
    bind_ro = [p for p in plan.readable if is_under(p, HOME_TREES + TMP_TREES) and p.exists()]
    if bind_rw:
        lines.append(f"BindPaths={_paths(bind_rw)}")
    if bind_ro:
        lines.append(f"BindReadOnlyPaths={_paths(bind_ro)}")
    if plan.display is not None and plan.display.startswith(":"):
        lines += ["# The desktop client's X server: its socket is in the host's /tmp, which PrivateTmp hides. "
                  "Put XAUTHORITY= in the environment file if the server wants a cookie.",
                  f"Environment=DISPLAY={_value(plan.display)}",
                  "BindReadOnlyPaths=-/tmp/.X11-unix"]
    low_port = unit.command == "console" and plan.console_port < 1024
    lines += [
        "NoNewPrivileges=yes",
        "# No capabilities at all" + (", but binding the console's port below 1024." if low_port else "."),
        f"CapabilityBoundingSet={'CAP_NET_BIND_SERVICE' if low_port else ''}",
        f"AmbientCapabilities={'CAP_NET_BIND_SERVICE' if low_port else ''}",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "ProtectProc=invisible",
        "# Chromium runs with --disable-gpu and --disable-dev-shm-usage: no device nodes needed (/dev/shm stays).",
        "PrivateDevices=yes",
        "RestrictSUIDSGID=yes",
        "RestrictRealtime=yes",
        "LockPersonality=yes",
        "SystemCallArchitectures=native",
        "# Netlink: Chromium watches the network's state through it.",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        "# Reports, logs and the store: the robot's user writes them, its group (operations) may read them.",
        "UMask=0027",
        "# Left out on purpose:",
        "#  MemoryDenyWriteExecute: V8's JIT (Chromium's renderers, Playwright's Node driver) maps memory W+X.",
        "#  SystemCallFilter: Chromium and Node use a wide, version-dependent set of system calls; a missing one "
        "kills a",
        "#   renderer with SIGSYS in the middle of a night, which reads as a portal fault.",
        "#  RestrictNamespaces, PrivateUsers: Chromium's own sandbox is built on user namespaces; the robot starts it "
        "with",
        "#   --no-sandbox today, and turning that sandbox on must not be what breaks the night.",
        "#  ProcSubset=pid: Chromium and V8 read /proc/meminfo, /proc/cpuinfo and /proc/self/... to size themselves.",
        "#  IPAddressDeny: the portals, the store, SMTP and the proxy are wherever the municipality has them.",
    ]
    return lines


def unit_text(plan: ServicePlan, unit: Unit) -> str:
    argv: list[str | Path] = [*plan.exec_prefix, unit.command, "--config", plan.config_file]
    exec_start = " ".join(_value(word) for word in argv)
    after = "network-online.target" + (" postgresql.service" if plan.postgres else "")
    mkdir = shutil.which("mkdir") or "/bin/mkdir"
    lines = [
        f"# Made by `casebot service --config {plan.config_file}`: make it again after changing the config's "
        "folders or",
        "# moving casebot, rather than editing it (`systemctl daemon-reload` after).",
        "[Unit]",
        f"Description={unit.description}",
        "Wants=network-online.target",
        f"After={after}",
        "# A robot that fails at start five times in ten minutes (a missing password, a broken config) stays "
        "down,",
        "# shown failed by `systemctl status`, instead of restarting forever.",
        "StartLimitIntervalSec=600",
        "StartLimitBurst=5",
        "",
        "[Service]",
        "Type=exec",
        f"User={_value(plan.user)}",
        f"Group={_value(plan.group)}",
        f"EnvironmentFile={_value(plan.env_file)}",
        f"WorkingDirectory={_value(plan.data_dir)}",
        "# Chromium writes its profile, fontconfig cache and crash reports under HOME: the data folder's, since the "
        "rest",
        "# of the system is read-only and the home folders hidden.",
        f"Environment=HOME={_value(plan.home)} XDG_CONFIG_HOME={_value(plan.home / '.config')} "
        f"XDG_CACHE_HOME={_value(plan.home / '.cache')}",
        "# Each line reaches the journal as it is written.",
        "Environment=PYTHONUNBUFFERED=1",
        f"ExecStartPre={mkdir} -p {_value(plan.home)}",
        *(["# The store is SQLite: a worker on this host only; extra hosts need a PostgreSQL store (store.url)."]
          if unit.command == "worker" and not plan.postgres else []),
        f"ExecStart={exec_start}",
        "StandardOutput=journal",
        "StandardError=journal",
        f"SyslogIdentifier={unit.name.removesuffix('.service')}",
        "Restart=on-failure",
        f"RestartSec={RESTART_SEC}",
        "# SIGTERM to the robot alone: it finishes the case's current step (checkpointed), writes the morning "
        "report",
        "# and closes its browsers. Sent to the whole group, Chromium and Playwright's driver would die under the "
        "step.",
        "# What is left when it exits, or after TimeoutStopSec, is killed.",
        "KillMode=mixed",
        "KillSignal=SIGTERM",
    ]
    if unit.command == "console":
        lines += ["# \"Start a night\" asks the running scheduler, and the night runs in casebot-scheduler.service.",
                  "# Only with no scheduler running does the console start it in this unit, where stopping the",
                  "# console kills it (its cases continue from their last checkpoint in the next run)."]
    lines += [
        f"# timeouts.case_s ({plan.stop_timeout_s - STOP_MARGIN_S} s) bounds a step; {STOP_MARGIN_S} s more for "
        "the report and the browsers.",
        f"TimeoutStopSec={plan.stop_timeout_s}",
        "",
        *_sandbox(plan, unit),
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(lines) + "\n"


def units(plan: ServicePlan) -> dict[str, str]:
    return {unit.name: unit_text(plan, unit) for unit in UNITS}


def install_lines(plan: ServicePlan, config_arg: str) -> list[str]:
    """The commands that put the units in place, for an operator (as root)."""
    env_dir = plan.env_file.parent
    config = shlex.quote(config_arg)
    return [
        f"useradd --system --user-group --home-dir {shlex.quote(str(plan.home))} --shell /usr/sbin/nologin "
        f"{shlex.quote(plan.user)}",
        f"install -d -m 0750 -o {plan.user} -g {plan.group} {' '.join(shlex.quote(str(p)) for p in plan.writable)} "
        f"{shlex.quote(str(plan.home))}",
        f"install -d -m 0750 -o root -g {plan.group} {shlex.quote(str(env_dir))}",
        f"casebot service --config {config} --env-template | install -m 0600 -o {plan.user} -g {plan.group} "
        f"/dev/stdin {shlex.quote(str(plan.env_file))}",
        f"editor {shlex.quote(str(plan.env_file))}   # fill in every value",
        f"casebot service --config {config} --out /etc/systemd/system",
        "systemctl daemon-reload",
        "systemctl enable --now casebot-scheduler.service   # and casebot-console.service; "
        "casebot-worker.service on extra hosts",
    ]


@dataclass(frozen=True)
class Verdict:
    ok: bool
    output: str  # what systemd-analyze said (empty when the units are clean)


def verify_units(files: list[Path], analyzer: str | None = None) -> Verdict | None:
    """`systemd-analyze verify` on the unit files; None when the machine has no systemd-analyze. A warning counts
    as a failure: systemd ignores a line it cannot parse, and an ignored hardening line is a hole."""
    program = analyzer or shutil.which("systemd-analyze")
    if program is None:
        return None
    done = subprocess.run([program, "verify", "--man=no", *map(str, files)],  # noqa: S603 - no shell
                          capture_output=True, text=True, check=False)
    output = (done.stdout + done.stderr).strip()
    return Verdict(done.returncode == 0 and not output, output)


def write_units(texts: dict[str, str], folder: Path) -> list[Path]:
    """Write the units, mode 0644 whatever the umask: systemd and `systemctl cat` read them, and they hold no
    secret (those are in the environment file)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in texts.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o644)
        written.append(path)
    return written
