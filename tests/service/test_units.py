"""`casebot service`: the units pass `systemd-analyze verify` (present on this machine, so it must be clean), carry
the hardening, make exactly the config's folders writable, and their environment file names every secret of the
config and no value; Chromium starts under the units' sandbox (emulated: no systemd as PID 1 here)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config
from bot.paths import PROJECT_ROOT
from bot.service import (
    CONSOLE_SECRET_ENV,
    env_names,
    env_template,
    plan_for,
    readable_paths,
    units,
    verify_units,
    write_units,
)
from tests.service.confine import parse_unit, run_confined, words

UNIT_NAMES = ("casebot-scheduler.service", "casebot-worker.service", "casebot-console.service")
HARDENING = {
    "NoNewPrivileges": "yes", "PrivateTmp": "yes", "ProtectSystem": "strict", "ProtectKernelTunables": "yes",
    "ProtectControlGroups": "yes", "RestrictSUIDSGID": "yes", "LockPersonality": "yes", "Restart": "on-failure",
    "StandardOutput": "journal", "KillSignal": "SIGTERM", "KillMode": "mixed", "UMask": "0027",
    "EnvironmentFile": "/etc/casebot/casebot.env",
}
NOBODY = 65534


def _config(folder: Path, *, extra: str = "", data: Path | None = None, logs: Path | None = None) -> Path:
    data = data or folder / "data"
    logs = logs or folder / "logs"
    path = folder / "robot.yaml"
    path.write_text(f"""\
data_dir: {data}
log_dir: {logs}
timeouts: {{case_s: 600}}
alerts:
  email: {{host: smtp.kommun.example, port: 587, starttls: true, sender: casebot@kommun.example,
          to: [drift@kommun.example], username: casebot}}
  webhook: {{url: "https://chat.kommun.example/hooks/rpa", token_env: CASEBOT_WEBHOOK_TOKEN}}
console: {{metrics_token_env: CASEBOT_METRICS_TOKEN}}
portals:
  casesystem: {{url: "http://127.0.0.1:8100", username: robot}}
  skv: {{url: "http://127.0.0.1:8101", username: kommun, password_env: KOMMUN_SKV_SECRET}}
  fk: {{url: "http://127.0.0.1:8102", username: kommun}}
  af: {{url: "http://127.0.0.1:8103", username: kommun}}
  csn: {{url: "http://127.0.0.1:8104", username: kommun}}
{extra}""", encoding="utf-8")
    return path


def _service(text: str) -> dict[str, list[str]]:
    return parse_unit(text)["Service"]


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["service", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_units_pass_systemd_analyze_verify_and_its_security_review(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert shutil.which("systemd-analyze"), "this machine has systemd-analyze: the units must be verified with it"
    code, _out, err = _cli(capsys, "--config", str(_config(tmp_path)), "--out", str(tmp_path / "units"))
    assert code == 0, err
    files = [tmp_path / "units" / name for name in UNIT_NAMES]
    verdict = verify_units(files)
    assert verdict is not None and verdict.ok, verdict
    for path in files:
        review = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(path)],  # noqa: S603,S607
                                capture_output=True, text=True, check=False)
        level = re.search(r"Overall exposure level for \S+: ([\d.]+)", review.stdout + review.stderr)
        assert level is not None, review.stdout + review.stderr
        assert float(level.group(1)) < 4.0, f"{path.name}: exposure {level.group(1)} (systemd calls < 4 OK)"


def test_the_verifier_fails_on_a_line_systemd_would_ignore(tmp_path: Path) -> None:
    """An ignored line is a hole in the sandbox: a warning must fail the check, not only an error."""
    plan = plan_for(load_config(_config(tmp_path)))
    texts = units(plan)
    texts["casebot-scheduler.service"] = texts["casebot-scheduler.service"].replace(
        "ProtectSystem=strict", "ProtectSystem=stricter")
    verdict = verify_units(write_units(texts, tmp_path / "units"))
    assert verdict is not None and not verdict.ok
    assert "ProtectSystem" in verdict.output or "protect system" in verdict.output


def test_each_unit_runs_its_command_as_the_dedicated_user_with_the_hardening(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path))
    texts = units(plan_for(config, user="robot", python="/opt/casebot/bin/python"))
    assert sorted(texts) == sorted(UNIT_NAMES)
    for name, command in zip(UNIT_NAMES, ("schedule", "worker", "console"), strict=True):
        service = _service(texts[name])
        assert service["User"] == ["robot"] and service["Group"] == ["robot"]
        assert shlex.split(service["ExecStart"][0]) == ["/opt/casebot/bin/python", "-m", "bot", command, "--config",
                                                        str(config.source)]
        for key, value in HARDENING.items():
            assert service.get(key) == [value], (name, key, service.get(key))
        assert service["ProtectHome"][0] in ("yes", "tmpfs")
        assert service["WorkingDirectory"] == [str(config.data_dir)]
        # A step is bounded by the case's limit (600 s here); the stop waits for it and the report.
        assert int(service["TimeoutStopSec"][0]) >= 600 + 60
        assert 5 <= int(service["RestartSec"][0]) <= 120
        env = dict(w.split("=", 1) for w in words(service, "Environment"))
        assert Path(env["HOME"]).is_relative_to(config.data_dir)  # Chromium's writable HOME
        # W+X memory is what V8 runs on: the setting must stay out, and the unit must say why.
        assert "MemoryDenyWriteExecute" not in service
        assert re.search(r"^#\s*MemoryDenyWriteExecute: V8", texts[name], re.M)


def test_read_write_paths_are_exactly_the_configs_folders(tmp_path: Path) -> None:
    data, logs = tmp_path / "var" / "robot", tmp_path / "log" / "robot"
    service = _service(units(plan_for(load_config(_config(tmp_path, data=data, logs=logs))))[UNIT_NAMES[0]])
    assert words(service, "ReadWritePaths") == [str(data), str(logs)]
    # A SQLite store outside the data folder writes its journal beside it: that folder is writable too.
    elsewhere = tmp_path / "db"
    config = load_config(_config(tmp_path, data=data, logs=logs, extra=f"store: {{url: 'sqlite:///{elsewhere}/x.db'}}\n"))
    assert words(_service(units(plan_for(config))[UNIT_NAMES[0]]), "ReadWritePaths") == [str(data), str(logs),
                                                                                           str(elsewhere)]


def test_the_console_may_bind_a_low_port_and_nothing_else_gets_a_capability(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, extra="store: {url: 'postgresql://db.kommun.example/casebot'}\n"))
    config = config.model_copy(update={"console": config.console.model_copy(update={"port": 443})})
    texts = units(plan_for(config))
    assert _service(texts["casebot-console.service"])["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"]
    for name in UNIT_NAMES[:2]:
        assert _service(texts[name])["CapabilityBoundingSet"] == [""]
    assert "postgresql.service" in parse_unit(texts[UNIT_NAMES[1]])["Unit"]["After"][0]


def test_the_env_template_names_every_secret_of_the_config_and_no_value(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEBOT_CASESYSTEM_PASSWORD", "hemligt-lösen-42")
    config = load_config(_config(tmp_path))
    text = env_template(config)
    assignments = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Z_][A-Z0-9_]*=", line) for line in assignments), assignments
    names = {line[:-1] for line in assignments}
    passwords = {portal.env_var for _name, portal in config.portals.items()}
    assert passwords == {"CASEBOT_CASESYSTEM_PASSWORD", "KOMMUN_SKV_SECRET", "CASEBOT_FK_PASSWORD",
                         "CASEBOT_AF_PASSWORD", "CASEBOT_CSN_PASSWORD"}
    assert names == passwords | {"CASEBOT_SMTP_PASSWORD", "CASEBOT_WEBHOOK_TOKEN", "CASEBOT_METRICS_TOKEN",
                                 CONSOLE_SECRET_ENV}
    assert "hemligt" not in text
    # A proxy with a user: its password; a proxy taken from the environment: the variables it is taken from.
    with_proxy = tmp_path / "p"
    with_proxy.mkdir()
    path = _config(with_proxy, extra="proxy: {url: 'http://proxy.kommun.example:3128', username: casebot}\n")
    assert "CASEBOT_PROXY_PASSWORD" in dict(env_names(load_config(path)))
    path = _config(with_proxy, extra="proxy: {from_environment: true}\n")
    assert {"HTTPS_PROXY", "NO_PROXY"} <= set(dict(env_names(load_config(path))))
    assert "CASEBOT_PROXY_PASSWORD" not in dict(env_names(load_config(path)))
    # A portal's client certificate: its key's passphrase, under the portal's default name or the admin's.
    with_cert = tmp_path / "c"
    with_cert.mkdir()
    path = _config(with_cert)
    path.write_text(path.read_text().replace(
        'fk: {url: "http://127.0.0.1:8102", username: kommun}',
        'fk: {url: "https://fk.kommun.example", username: kommun,\n'
        '       client_certificate: {cert: /etc/casebot/fk.pem, key: /etc/casebot/fk-key.pem}}').replace(
        'af: {url: "http://127.0.0.1:8103", username: kommun}',
        'af: {url: "https://af.kommun.example", username: kommun,\n'
        '       client_certificate: {cert: /etc/casebot/af.pem, key: /etc/casebot/af-key.pem, '
        'passphrase_env: AF_KEY_PASS}}'), encoding="utf-8")
    names = dict(env_names(load_config(path)))
    assert names["CASEBOT_FK_CERT_PASSPHRASE"] == ("portals.fk.client_certificate: the key's passphrase (leave it "
                                                   "empty for a key that is not encrypted)")
    assert "AF_KEY_PASS" in names
    # The unit may read the certificate and key where the config says they are.
    assert {"/etc/casebot/fk.pem", "/etc/casebot/fk-key.pem"} <= {str(p) for p in readable_paths(
        load_config(path), (sys.prefix,))}
    # A relay without a login has no password to hold.
    no_login = (tmp_path / "b")
    no_login.mkdir()
    path = _config(no_login)
    path.write_text(path.read_text().replace(", username: casebot}", "}"), encoding="utf-8")
    assert "CASEBOT_SMTP_PASSWORD" not in dict(env_names(load_config(path)))


def test_out_writes_the_units_readable_and_says_how_to_install_the_env_file(tmp_path: Path,
                                                                             capsys: pytest.CaptureFixture[str]
                                                                             ) -> None:
    config_path = _config(tmp_path)
    code, out, err = _cli(capsys, "--config", str(config_path), "--out", str(tmp_path / "units"))
    assert code == 0, err
    plan = plan_for(load_config(config_path))
    for name, text in units(plan).items():
        path = tmp_path / "units" / name
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & stat.S_IRUSR and not mode & (stat.S_IWGRP | stat.S_IWOTH), oct(mode)
        assert path.read_text(encoding="utf-8") == text
    assert "install -m 0600 -o casebot -g casebot /dev/stdin /etc/casebot/casebot.env" in out
    # The data folder is under /tmp here: the warning says PrivateTmp would hide it and how it is kept.
    assert f"{config_path.parent / 'data'} is under /tmp" in err
    code, template, _ = _cli(capsys, "--config", str(config_path), "--env-template")
    assert code == 0 and template == env_template(load_config(config_path))


def test_without_systemd_analyze_the_units_are_printed_and_said_unverified(tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture[str],
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, out, err = _cli(capsys, "--config", str(_config(tmp_path)))
    assert code == 0
    assert "systemd-analyze is not on this machine" in err
    for name in UNIT_NAMES:
        assert f"# ==> {name} <==" in out
    assert "CASEBOT_CASESYSTEM_PASSWORD=" in out


PROBE = """\
import asyncio, os, pathlib
from bot.browser.launch import running_chromium

def writable(path):
    try:
        (pathlib.Path(path) / ".t4-probe").write_text("x")
    except OSError:
        return False
    (pathlib.Path(path) / ".t4-probe").unlink()
    return True

async def main():
    async with running_chromium() as chromium:
        page = await chromium.browser.new_page()
        await page.set_content("<title>inne</title>")
        print("title", await page.title())
    print("uid", os.getuid())
    print("no_new_privs", [l.split()[1] for l in open("/proc/self/status") if l.startswith("NoNewPrivs")][0])
    for path in (os.environ["T4_DATA"], os.environ["T4_LOGS"], "/etc", os.environ["T4_PROJECT"], "/usr"):
        print("writable", path, writable(path))
    print("homes", sorted(os.listdir("/home")))

asyncio.run(main())
"""


def test_chromium_starts_under_the_units_sandbox(tmp_path: Path) -> None:
    """The scheduler unit's sandbox, emulated (see confine.py): Chromium and Playwright's driver start as an
    unprivileged user with the system read-only, a private /tmp and HOME in the data folder."""
    config_path = _config(tmp_path)
    config = load_config(config_path)
    for folder in (config.data_dir, config.log_dir):
        folder.mkdir(parents=True)
        os.chown(folder, NOBODY, NOBODY)
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    plan = plan_for(config, user="nobody", group="nogroup", python=sys.executable)
    service = _service(units(plan)["casebot-scheduler.service"])
    # The probe is read like the config: bound in read-only, as the unit binds files it reads from under /tmp.
    service["BindReadOnlyPaths"] = [*service.get("BindReadOnlyPaths", []), str(probe)]
    # This checkout, not whatever editable install site-packages points at.
    done = run_confined(service, [sys.executable, str(probe)], uid=NOBODY, gid=NOBODY,
                        extra_env={"PYTHONPATH": str(PROJECT_ROOT), "T4_DATA": str(config.data_dir),
                                   "T4_LOGS": str(config.log_dir), "T4_PROJECT": str(PROJECT_ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "title inne" in lines
    assert f"uid {NOBODY}" in lines and "no_new_privs 1" in lines
    assert f"writable {config.data_dir} True" in lines and f"writable {config.log_dir} True" in lines
    for path in ("/etc", str(PROJECT_ROOT), "/usr"):
        assert f"writable {path} False" in lines
    assert "homes []" in lines
    assert (config.data_dir / "home").is_dir()  # ExecStartPre made Chromium's HOME
    # The unit's own ExecStart starts in the same sandbox: the scheduler reads its config and schedules.
    listed = run_confined(service, [*words(service, "ExecStart"), "--list", "--count", "1"], uid=NOBODY, gid=NOBODY,
                          extra_env={"PYTHONPATH": str(PROJECT_ROOT)})
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert re.search(r"cron '.+' \(Europe/Stockholm\)", listed.stdout), listed.stdout


def test_a_night_runs_under_the_scheduler_units_sandbox(tmp_path: Path) -> None:
    """The unit's ExecStart with `run` for `schedule` (the scheduler fires the same code at 01:00): a whole night
    against the HTTPS sandbox, as an unprivileged user in the unit's sandbox, its CA bundle bound in read-only."""
    from openpyxl import load_workbook

    from bot.config import write_config
    from bot.dev.sandbox import sandbox_config, sandbox_environ, start_sandbox
    from bot.store import open_store

    box = start_sandbox(tmp_path / "sandbox", cases=2, seed=5)
    try:
        home = tmp_path / "robot"
        home.mkdir()
        config = load_config(write_config(sandbox_config(home, box), home / "config.yaml"))
        for folder in (config.data_dir, config.log_dir):
            folder.mkdir(parents=True)
            os.chown(folder, NOBODY, NOBODY)
        plan = plan_for(config, user="nobody", group="nogroup", python=sys.executable)
        service = _service(units(plan)["casebot-scheduler.service"])
        argv = ["run" if word == "schedule" else word for word in words(service, "ExecStart")]
        done = run_confined(service, argv, uid=NOBODY, gid=NOBODY, timeout_s=300,
                            extra_env={"PYTHONPATH": str(PROJECT_ROOT), **sandbox_environ()})
    finally:
        box.stop()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with open_store(config.store_url) as store:
        run = store.list_runs(1)[0]
        assert run.status == "finished"
        assert store.run_summary(run.id).total == 2
    report = config.data_dir / "reports" / f"morning-{run.id}.xlsx"
    assert load_workbook(report).sheetnames
    assert report.stat().st_uid == NOBODY
