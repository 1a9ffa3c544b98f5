"""Run a command the way systemd would start a unit's ExecStart, as near as a machine without systemd as PID 1
allows: a private mount namespace with the system read-only (ProtectSystem=strict), the unit's ReadWritePaths,
BindPaths and BindReadOnlyPaths, a private /tmp and /var/tmp (PrivateTmp), empty home folders (ProtectHome=tmpfs;
`yes` hides them the same way for a program that does not look there), /proc/sys and the cgroup tree read-only
(ProtectKernelTunables, ProtectControlGroups), an unprivileged user with no capabilities and no_new_privs
(NoNewPrivileges), and only the unit's Environment=. Needs root and unshare(1), setpriv(1)."""

from __future__ import annotations

import shlex
import subprocess
import tempfile
from pathlib import Path

UnitSettings = dict[str, list[str]]


def parse_unit(text: str) -> dict[str, UnitSettings]:
    """Sections of key → every value given (systemd allows a key many times, which configparser refuses)."""
    sections: dict[str, UnitSettings] = {}
    current: UnitSettings | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"a setting outside a section: {line}"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def words(service: UnitSettings, key: str) -> list[str]:
    return [word for value in service.get(key, []) for word in shlex.split(value)]


def confined_script(service: UnitSettings, argv: list[str], uid: int, gid: int, extra_env: dict[str, str],
                    hold: Path) -> str:
    """The shell script that sets the namespace up from the unit's settings, then execs `argv` as uid:gid."""
    binds = [(p, False) for p in words(service, "BindPaths")] + \
            [(p, True) for p in words(service, "BindReadOnlyPaths") if not p.startswith("-")]
    lines = ["set -e"]
    for index, (path, _ro) in enumerate(binds):  # held outside what the tmpfs mounts below cover
        quoted = shlex.quote(path)
        lines += [f"if [ -d {quoted} ]; then mkdir -p {hold}/{index}; else touch {hold}/{index}; fi",
                  f"mount --bind {quoted} {hold}/{index}"]
    lines += ["mount -o remount,bind,ro /"]  # ProtectSystem=strict
    lines += [f"mount -t tmpfs -o mode=1777 tmpfs {tree}" for tree in ("/tmp", "/var/tmp")]
    home = service["ProtectHome"][-1]
    assert home in ("yes", "tmpfs"), home
    lines += [f"mount -t tmpfs -o mode=755 tmpfs {tree}" for tree in ("/home", "/root")]
    for index, (path, ro) in enumerate(binds):
        quoted = shlex.quote(path)
        lines += [f"if [ -d {hold}/{index} ]; then mkdir -p {quoted}; else mkdir -p $(dirname {quoted}); "
                  f"touch {quoted}; fi", f"mount --bind {hold}/{index} {quoted}"]
        if ro:
            lines.append(f"mount -o remount,bind,ro {quoted}")
    for path in words(service, "ReadWritePaths"):
        # A fresh bind of a folder the read-only remount covered is writable again, as systemd does it.
        if path not in [p for p, _ in binds]:
            lines.append(f"mount --bind {shlex.quote(path)} {shlex.quote(path)}")
    lines += ["mount --bind /proc/sys /proc/sys", "mount -o remount,bind,ro /proc/sys",
              "mount -o remount,bind,ro /sys/fs/cgroup"]
    env = dict(word.split("=", 1) for word in words(service, "Environment"))
    env.update(extra_env)
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    lines.append(f"cd {shlex.quote(service['WorkingDirectory'][-1])}")
    for pre in service.get("ExecStartPre", []):
        lines.append(f"setpriv --reuid={uid} --regid={gid} --clear-groups --no-new-privs --inh-caps=-all "
                     f"--bounding-set=-all {pre}")
    lines.append(f"exec setpriv --reuid={uid} --regid={gid} --clear-groups --no-new-privs --inh-caps=-all "
                 f"--bounding-set=-all env -i {' '.join(shlex.quote(f'{k}={v}') for k, v in env.items())} "
                 f"{' '.join(shlex.quote(a) for a in argv)}")
    return "\n".join(lines) + "\n"


def run_confined(service: UnitSettings, argv: list[str], *, uid: int, gid: int, extra_env: dict[str, str],
                 timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="t4-hold-", dir="/dev/shm") as hold:
        script = confined_script(service, argv, uid, gid, extra_env, Path(hold))
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],  # noqa: S603,S607
                              capture_output=True, text=True, timeout=timeout_s, check=False)
