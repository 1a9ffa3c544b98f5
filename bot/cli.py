"""The `casebot` command."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import CasebotError

if TYPE_CHECKING:
    from bot.calc.norms import NormTables
    from bot.config import Config
    from bot.store import Store
from bot.paths import default_home

Command = Callable[[argparse.Namespace], int]


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Seed and serve the sandbox portals in the foreground (what admins train on)."""
    data = Path(args.data or default_home() / "sandbox")
    argv = [sys.executable, "-m", "portals", "up", "--reseed", "--data", str(data), "--cases", str(args.cases),
            "--seed", str(args.seed), "--port-base", str(args.port_base)]
    if args.period:
        argv += ["--period", args.period]
    try:
        return subprocess.call(argv, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    except KeyboardInterrupt:
        return 0


def _print_failure(exc: CasebotError) -> int:
    print(f"casebot: {exc}", file=sys.stderr)
    return 2


def _config_for(args: argparse.Namespace) -> Config:
    """The config file, with `--workers` when given (run and worker take it)."""
    from bot.config import load_config

    config = load_config(args.config)
    return config.model_copy(update={"workers": args.workers}) if args.workers else config


def cmd_run(args: argparse.Namespace) -> int:
    """One nightly run with a config file: continue an unfinished run, else start one; then the morning report."""
    import asyncio

    from bot.alerts import notify
    from bot.run.entry import run_once, summary_lines

    try:
        config = _config_for(args)
        night = asyncio.run(run_once(config, limit=args.limit))
    except CasebotError as exc:
        return _print_failure(exc)
    print("\n".join(summary_lines(night)))
    notify(night, config.alerts, proxy=config.proxy, tls=config.tls)
    return night.exit_code


def cmd_worker(args: argparse.Namespace) -> int:
    """A robot process that works the runs another process opened (shared store: PostgreSQL across hosts)."""
    import asyncio

    from bot.run.serve import serve_workers

    try:
        outcome = asyncio.run(serve_workers(_config_for(args), idle_exit_s=args.idle_exit))
    except CasebotError as exc:
        return _print_failure(exc)
    if outcome.stopped_by is not None:
        print(f"casebot: worker stopped: {outcome.stopped_by}", file=sys.stderr)
    return outcome.exit_code


def cmd_demo(args: argparse.Namespace) -> int:
    """The sandbox with synthetic cases, one nightly run against it, the morning report, and a check of every case
    against the sandbox's independent oracle."""
    from bot.dev.demo import run_demo

    try:
        return run_demo(Path(args.home or default_home() / "demo"), cases=args.cases, seed=args.seed,
                        workers=args.workers, keep=args.keep, period=args.period)
    except CasebotError as exc:
        return _print_failure(exc)


def cmd_check_selectors(args: argparse.Namespace) -> int:
    """Check every https portal's certificate (and the robot's client certificate for it), then walk every screen
    read-only and resolve every selector: ok / healed / broken. Exit 1 when anything is broken or a portal could
    not be walked, 2 when nothing could be checked (a password missing, a certificate refused), so a scheduler or a
    script can act on it."""
    import asyncio

    from bot.clientcert import load_client_certificates
    from bot.config import PORTAL_NAMES, load_config
    from bot.credentials import resolve_all
    from bot.net import resolve_proxy
    from bot.paths import SELECTORS_DIR
    from bot.selectors.load import load_all
    from bot.upkeep.check import format_checks
    from bot.upkeep.preflight import certificate_failure, check_certificates, check_selectors, format_certificates

    portals = [args.portal] if args.portal else list(PORTAL_NAMES)
    try:
        config = load_config(args.config)
        selectors = load_all(config.selectors_dir or SELECTORS_DIR)
        passwords = resolve_all(config, only=portals)
        # The certificates first, as the night's preflight does: a refused one would fail every screen anyway.
        clients = load_client_certificates(config)
        checks = check_certificates(config, portals, proxy=resolve_proxy(config.proxy), clients=clients)
        if checks:
            print(format_certificates(checks, config.tls.expiry_warning_days))
        refused = certificate_failure(checks)
        if refused is not None:
            return _print_failure(refused)
        results = asyncio.run(check_selectors(config, passwords, selectors, portals, headless=not args.headed,
                                              clients=clients))
    except CasebotError as exc:
        return _print_failure(exc)
    print(format_checks(results, all_rows=not args.problems))
    return 1 if any(r.failed for r in results) else 0


def cmd_record_desktop(args: argparse.Namespace) -> int:
    """Re-record the desktop client's anchors: an admin pointing at each element (Enter after each), or the
    client's own description of its widgets (`--geometry-file`, the sandbox client's); saved beside the selectors."""
    import getpass

    from bot.config import load_config
    from bot.credentials import resolve_all
    from bot.desktop.display import Display, DisplayUnavailable
    from bot.desktop.record import ORDER, ClientGeometry, RecordingRefused, record_by_pointing, record_client
    from bot.drivers.base import PortalAccount
    from bot.paths import SELECTORS_DIR

    try:
        config = load_config(args.config)
        folder = (config.selectors_dir or SELECTORS_DIR) / args.portal
        display = Display(args.display or (config.desktop.display if config.desktop else None))
        layout = args.layout or "v1"
        by = args.by or getpass.getuser()
        if args.geometry_file:
            if not args.case:
                print("casebot record: --geometry-file walks the client through a test case: name it with --case",
                      file=sys.stderr)
                return 2
            password = resolve_all(config, only=[args.portal])[args.portal]
            account = PortalAccount(config.portals[args.portal].username, password)
            selectors = record_client(display, ClientGeometry(Path(args.geometry_file)), account, args.case, folder,
                                      layout, by)
        else:
            unknown = sorted(set(args.screens) - set(ORDER))
            if unknown:
                print(f"casebot record: no desktop screen {', '.join(unknown)}; the screens: {', '.join(ORDER)}",
                      file=sys.stderr)
                return 2
            selectors = record_by_pointing(display, lambda prompt: input(prompt + " "), folder, layout, by,
                                           args.screens or ORDER)
    except (DisplayUnavailable, RecordingRefused, TimeoutError) as exc:
        from bot.upkeep.record import RecordingError

        print(f"casebot record: {RecordingError(str(exc))}", file=sys.stderr)
        return 2
    except CasebotError as exc:
        return _print_failure(exc)
    print(f"{folder / 'desktop.yaml'}: saved, layout {selectors.layout}, "
          f"{sum(len(s.elements) for s in selectors.screens.values())} anchors in {len(selectors.screens)} screens")
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    """Re-record a portal's screens by clicking (or from a script), show the diff, save when confirmed."""
    import asyncio

    if args.channel == "desktop":
        return cmd_record_desktop(args)
    import getpass

    from bot.config import load_config
    from bot.credentials import resolve_all
    from bot.paths import RECORDINGS_DIR, SELECTORS_DIR
    from bot.upkeep.record import finish, load_script
    from bot.upkeep.recording import record_in_browser

    def confirm(diff: str) -> bool:
        print(diff or "(no change)")
        if args.yes:
            return True
        if not sys.stdin.isatty():
            print("not saved: run again with --yes to save without asking")
            return False
        return input("Spara ändringarna? [j/N] ").strip().lower() in ("j", "ja", "y", "yes")

    try:
        config = load_config(args.config)
        folder = config.selectors_dir or SELECTORS_DIR
        script = load_script(Path(args.script)) if args.script else None
        password = resolve_all(config, only=[args.portal])[args.portal]
        headless = not os.environ.get("DISPLAY")
        if script is None and headless:
            print("casebot record: clicking needs a display (DISPLAY is not set); use --script for a "
                  "non-interactive recording", file=sys.stderr)
            return 2
        recorder = asyncio.run(record_in_browser(config, args.portal, args.screens, password,
                                                 folder / f"{args.portal}.yaml", script=script, headless=headless,
                                                 say=print, layout=args.layout))
        result = finish(recorder, folder / f"{args.portal}.yaml", Path(args.recordings or RECORDINGS_DIR),
                        by=args.by or getpass.getuser(), layout=args.layout, confirm=confirm,
                        mode="script" if script else "interactive")
    except CasebotError as exc:
        return _print_failure(exc)
    print(f"recording: {result.recording_path}")
    made = "made" if result.saved and not result.old_text else "saved"
    print(f"{result.path}: {made if result.saved else 'not changed'} ({len(result.changed)} element(s) recorded)")
    for line in result.warnings():
        print(f"! {line}")
    return 0 if not (result.saved and result.missing) else 1


def cmd_schedule(args: argparse.Namespace) -> int:
    """The scheduler: fires the nights in `schedules/*.yaml` until SIGTERM/SIGINT; `--list` shows what it would do."""
    from bot.config import load_config
    from bot.credentials import resolve_all
    from bot.paths import SCHEDULES_DIR
    from bot.schedule.load import load_schedules
    from bot.schedule.runner import NightScheduler

    if args.pause is not None or args.resume:
        return _pause_or_resume(args)
    try:
        config = load_config(args.config)
        jobs = load_schedules(Path(args.schedules or SCHEDULES_DIR))
        scheduler = NightScheduler(config, jobs)
        if args.list:
            for scheduled, (name, times) in zip(jobs, scheduler.next_fire_times(args.count), strict=True):
                job = scheduled.job
                print(f"{name}  cron '{job.cron}' ({job.timezone}), window until "
                      f"{job.window.until.isoformat('minutes') if job.window else '-'}, "
                      f"{len(scheduled.blackout)} blackout date(s), from {scheduled.source}")
                for fire in times:
                    print(f"  {fire:%a %Y-%m-%d %H:%M:%S %Z}")
            return 0
        resolve_all(config)  # missing passwords fail now, at start, not at 01:00
    except CasebotError as exc:
        return _print_failure(exc)
    return scheduler.serve()


def _pause_or_resume(args: argparse.Namespace) -> int:
    """`casebot schedule --pause REASON` / `--resume`: the maintenance-window switch every scheduler on the store
    obeys at its next fire; written to the console's audit log with the OS user as who."""
    import getpass

    from bot.schedule.pause import describe_pause, pause_scheduler, resume_scheduler, scheduler_paused

    who = getpass.getuser()
    reason = (args.pause or "").strip()
    if args.pause is not None and not reason:
        print("casebot: say why the scheduler is paused: --pause REASON (e.g. the maintenance window)",
              file=sys.stderr)
        return 2
    try:
        _config, store = _config_and_store(args)
    except CasebotError as exc:
        return _print_failure(exc)
    with store:
        if args.pause is not None:
            state = pause_scheduler(store, by=who, reason=reason)
            store.record_audit(who, "cli", "pause_scheduler", target="scheduler", detail={"reason": state["reason"]})
            print(f"scheduler {describe_pause(state)}; every fire is skipped until `casebot schedule --resume`")
            return 0
        if scheduler_paused(store) is None:
            store.record_audit(who, "cli", "resume_scheduler", target="scheduler", result="refused: not paused")
            print("casebot: the scheduler is not paused", file=sys.stderr)
            return 1
        was = resume_scheduler(store, by=who)
        store.record_audit(who, "cli", "resume_scheduler", target="scheduler", detail={"was": was})
        print(f"scheduler resumed (it was {describe_pause(was or {})}); the next fire runs the night")
        return 0


def _config_and_store(args: argparse.Namespace) -> tuple[Config, Store]:
    from bot.config import load_config
    from bot.store import open_store

    config = load_config(args.config)
    return config, open_store(config.store_url)


def cmd_status(args: argparse.Namespace) -> int:
    """Recent runs and their outcomes; the failing cases of the latest (or the given) run with their codes."""
    from datetime import UTC, datetime, timedelta

    from bot.errors import runbook_for
    from bot.schedule.pause import describe_pause, scheduler_paused
    from bot.schedule.requests import live_scheduler
    from bot.status import worker_lines

    try:
        config, store = _config_and_store(args)
    except CasebotError as exc:
        return _print_failure(exc)
    with store:
        # Dead and stopped robots' workers leave the store after the retention (a run start does the same).
        store.forget_workers(datetime.now(UTC) - timedelta(days=config.retention.workers_days))
        runs = store.list_runs(args.runs)
        if not runs:
            print("no runs yet")
            return 0
        print(f"{'RUN':<22} {'STARTED':<17} {'STATUS':<9} {'CASES':>5} {'AUTO':>5} {'PART':>5} {'MAN':>5} "
              f"{'FAILED':>6} {'OPEN':>5}")
        for run in runs:
            s = store.run_summary(run.id)
            print(f"{run.id:<22} {run.started.astimezone():%Y-%m-%d %H:%M} {run.status:<9} {s.total:>5} "
                  f"{s.by_outcome.get('auto', 0):>5} {s.by_outcome.get('partial', 0):>5} "
                  f"{s.by_outcome.get('manual', 0):>5} {s.by_state.get('failed', 0):>6} {s.open:>5}")
        chosen = args.run or runs[0].id
        failed = store.items(chosen, "failed")
        print(f"\nfailing cases in run {chosen}: {len(failed)}")
        for item in failed:
            code = item.last_error_code or "?"
            runbook = runbook_for(code) or "runbooks/README.md"
            print(f"  {item.case_id}  {code}  step {item.step or '-'}  {runbook}\n    {item.last_error_message or ''}")
        stops = [e for e in store.events(chosen) if e.level == "CRITICAL"]
        for event in stops:
            print(f"  STOPPED: {event.message}")
        schedule_codes = ("SCHEDULE_SKIPPED", "SCHEDULE_MISSED", "SCHEDULE_FIRED", "SCHEDULE_PAUSED",
                          "SCHEDULE_RESUMED")
        latest = store.events(codes=schedule_codes, newest_first=True, limit=5)
        for event in reversed(latest):
            print(f"schedule: {event.at.astimezone():%Y-%m-%d %H:%M} {event.message}")
        paused = scheduler_paused(store)
        if paused is not None:
            print(f"scheduler: PAUSED, {describe_pause(paused)} (casebot schedule --resume)")
        heard = live_scheduler(store)
        print(f"scheduler: running on {heard.get('owner', '?')}, last heard from at {heard.get('at', '?')}"
              if heard is not None else "scheduler: none heard from in the last 30 s (no scheduled night starts "
                                        "until `casebot schedule` runs)")
        held = store.held_items()
        if held:
            print(f"\nheld for an operator (not taken until released with `casebot retry CASE`): {len(held)}")
            for item in held:
                print(f"  {item.case_id} {item.period}  {item.last_error_code}  run {item.run_id}  "
                      f"crashes {item.crashes}  {runbook_for(item.last_error_code or '') or ''}")
        in_progress = [i for r in runs if r.status == "running" for i in store.items(r.id, "in_progress")]
        print("\n".join(worker_lines(store.workers(), in_progress, datetime.now(UTC), config.store.lease_s)))
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    """Release a case held for an operator (INTERNAL_ERROR, CASE_QUARANTINED) once its cause is dealt with: the
    open run takes it again, or the next night does."""
    import getpass

    try:
        _, store = _config_and_store(args)
    except CasebotError as exc:
        return _print_failure(exc)
    with store:
        item = store.release_held(args.case, period=args.period, by=args.by or getpass.getuser())
    if item is None:
        print(f"casebot: {args.case} is not held (see `casebot status`)", file=sys.stderr)
        return 1
    when = "in the open run " + item.run_id if item.state == "new" else "by the next night"
    print(f"{item.case_id} {item.period}: released ({item.last_error_code}); it will be taken {when}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild a run's morning report from the state store."""
    from bot.report import RunNotFound, build_morning_report

    try:
        config, store = _config_and_store(args)
    except CasebotError as exc:
        return _print_failure(exc)
    with store:
        target = Path(args.out) if args.out else config.data_dir / "reports" / f"morning-{args.run}.xlsx"
        try:
            print(build_morning_report(store, args.run, target, insights=config.insights))
        except RunNotFound:
            print(f"casebot: no run {args.run} in {config.store_url} (see casebot status)", file=sys.stderr)
            return 2
    return 0


def cmd_insights(args: argparse.Namespace) -> int:
    """The automation rate per application month: the shares prepared fully, partially and left manual, what held
    cases back, and the caseworker time saved (with its assumption)."""
    import json
    from datetime import date

    from bot.insights import rate_from_store, rate_lines

    if args.months < 1:
        print("casebot: --months must be at least 1", file=sys.stderr)
        return 2
    try:
        config, store = _config_and_store(args)
    except CasebotError as exc:
        return _print_failure(exc)
    with store:
        rate = rate_from_store(store, args.months, args.until or date.today(), config.insights)
    if args.json:
        print(json.dumps(rate.as_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(rate_lines(rate)))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.dev.bench import RESULTS_DIR, judge_results, process_cells, run_bench, scaling_cells

    if args.targets:
        try:
            lines, written = judge_results(args.targets, Path(args.out) if args.out else RESULTS_DIR, args.write)
        except (OSError, ValueError) as exc:
            print(f"casebot: cannot read the results: {exc}", file=sys.stderr)
            return 2
        print("\n".join(lines) + (f"\nwritten: {written}" if written else ""))
        return 0
    if args.demo:
        cells, name = [], args.name or f"demo-{args.cases}c-{args.workers}w"
    elif args.scaling:
        cells, name = scaling_cells(args.cases), args.name or f"scaling-{args.cases}c"
    elif args.desktop:
        cells = [(args.cases, args.workers, args.latency)]
        name = args.name or f"desktop-{args.cases}c-{args.workers}w"
    elif args.processes:
        cells, name = process_cells(args.cases, args.latency), args.name or f"processes-{args.cases}c-{args.latency}ms"
    else:
        cells = [(args.cases, args.workers, args.latency)]
        name = args.name or f"robot-{args.cases}c-{args.workers}w-{args.latency}ms"
    report, json_path, md_path = run_bench(cells, name, seed=args.seed, floor=args.floor, selenium=args.selenium,
                                           processes=args.processes, desktop=args.desktop,
                                           results_dir=Path(args.out) if args.out else RESULTS_DIR,
                                           pages_per_agency=args.pages_per_agency,
                                           recycle_after_cases=args.recycle_after_cases,
                                           demo=(args.cases, args.workers) if args.demo else None)
    print(md_path.read_text(encoding="utf-8"))
    print(f"results: {json_path}, {md_path}")
    return 0 if all(c.failed == 0 and c.oracle_differences == 0 for c in report.cells) else 1


def _norm_tables(args: argparse.Namespace) -> NormTables | None:
    """The packaged tables, and the admin's (the config's norms_dir) when a config is given; None (said on stderr)
    when a config or a table cannot be read."""
    from bot.calc.norms import load_norms
    from bot.config import load_config

    try:
        extra = load_config(args.config).norms_dir if args.config else None
        return load_norms(extra=extra) if extra else load_norms()
    except (CasebotError, ValueError) as exc:
        print(f"casebot: {exc}", file=sys.stderr)
        return None


def cmd_norms_list(args: argparse.Namespace) -> int:
    """Every riksnorm year the robot can calculate: how sure its figures are, which are missing, the sources."""
    from bot.calc.norms import status_of

    tables = _norm_tables(args)
    if tables is None:
        return 2
    for table in tables.tables():
        given = len(table.figures) - len(table.missing_keys)
        print(f"{table.year}  {status_of(table):<14} {given:>2} of {len(table.figures)} figures  {table.path}")
        if table.missing_keys:
            print(f"      missing: {', '.join(table.missing_keys)}")
        for source in table.sources:
            print(f"      source: {source.title} <{source.url}>")
    return 0


def cmd_norms_check(args: argparse.Namespace) -> int:
    """Validate a new year's table before the robot uses it; exit 1 on any error."""
    from bot.calc.norm_check import check_norm_file

    tables = _norm_tables(args)
    if tables is None:
        return 2
    result = check_norm_file(Path(args.file), tables)
    for line in result.errors:
        print(f"error: {line}")
    for line in result.warnings:
        print(f"warning: {line}")
    print(result.summary())
    return 0 if result.ok else 1


def cmd_guidelines_check(args: argparse.Namespace) -> int:
    """Validate a municipality's guidelines file and show which rent caps apply to which months."""
    from bot.calc.errors import GuidelinesError
    from bot.calc.guidelines import load_guidelines

    try:
        guidelines = load_guidelines(Path(args.file))
    except GuidelinesError as exc:
        for line in str(exc).splitlines():
            print(f"error: {line}")
        print(f"{args.file}: NOT USABLE")
        return 1
    print(f"{args.file}: OK: {guidelines.municipality}")
    for caps in guidelines.rent_caps:
        print(f"  rent caps {caps.validity}: {caps.name} ({len(caps.rows)} rows)")
    years = sorted(guidelines.prisbasbelopp.amounts)
    print(f"  prisbasbelopp for {', '.join(str(y) for y in years)}")
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    """The operations console: a web app on the state store, on 127.0.0.1 unless told otherwise (and then only
    with TLS or an explicit --public-without-tls)."""
    from bot.config import load_config
    from bot.console.app import serve
    from bot.console.security import bind_refusal

    try:
        config = load_config(args.config)
    except CasebotError as exc:
        return _print_failure(exc)
    if bool(args.tls_cert) != bool(args.tls_key):
        print("casebot: give both --tls-cert and --tls-key", file=sys.stderr)
        return 2
    updates: dict[str, object] = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if args.tls_cert:
        updates.update(tls_cert=Path(args.tls_cert).resolve(), tls_key=Path(args.tls_key).resolve())
    settings = config.console.model_copy(update=updates)
    refusal = bind_refusal(settings.host, settings.tls_cert is not None, args.public_without_tls)
    if refusal is not None:
        print(f"casebot: {refusal}", file=sys.stderr)
        return 2
    serve(config, settings)
    return 0


def cmd_console_user(args: argparse.Namespace) -> int:
    """Console accounts: add, list, remove, set-role, disable, enable. Each change goes into the audit log under the
    OS user."""
    import getpass

    from bot.console import auth

    try:
        _, store = _config_and_store(args)
    except CasebotError as exc:
        return _print_failure(exc)
    by = getpass.getuser()
    with store:
        if args.user_command == "list":
            for user in store.console_users():
                print(f"{user.name:<24} {user.role:<11} {'disabled' if user.disabled else 'active':<9} "
                      f"since {user.created.astimezone():%Y-%m-%d}")
            return 0
        if args.user_command == "remove":
            if not auth.remove_user(store, args.name, by):
                print(f"casebot: no console user {args.name}", file=sys.stderr)
                return 1
            print(f"{args.name}: removed")
            return 0
        if args.user_command in ("disable", "enable"):
            if auth.set_disabled(store, args.name, args.user_command == "disable", by) is None:
                print(f"casebot: no console user {args.name}", file=sys.stderr)
                return 1
            print(f"{args.name}: {args.user_command}d")
            return 0
        if args.user_command == "set-role":
            if auth.set_role(store, args.name, args.role, by) is None:
                print(f"casebot: no console user {args.name}", file=sys.stderr)
                return 1
            print(f"{args.name}: role {args.role}")
            return 0
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"password for {args.name}: ")
            if getpass.getpass("again: ") != password:
                print("casebot: the passwords differ", file=sys.stderr)
                return 2
        problem = auth.check_new_password(password)
        if problem is not None:
            print(f"casebot: password: {problem}", file=sys.stderr)
            return 2
        auth.add_user(store, args.name, args.role, password, by)
    print(f"{args.name}: {args.role}")
    return 0


def cmd_service(args: argparse.Namespace) -> int:
    """systemd units for the scheduler, a worker and the console, checked with `systemd-analyze verify` where the
    machine has it: printed, or written to --out; `--env-template` prints the environment file to fill in."""
    import tempfile

    from bot import service
    from bot.config import load_config

    try:
        config = load_config(args.config)
    except CasebotError as exc:
        return _print_failure(exc)
    if args.env_template:
        print(service.env_template(config), end="")
        return 0
    plan = service.plan_for(config, user=args.user, python=args.python)
    texts = service.units(plan)
    for line in service.warnings(plan):
        print(f"casebot service: warning: {line}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="casebot-units-") as scratch:
        verdict = service.verify_units(service.write_units(texts, Path(scratch)))
    if verdict is None:
        print("casebot service: systemd-analyze is not on this machine: the units are not verified",
              file=sys.stderr)
    elif not verdict.ok:
        print(f"casebot service: systemd-analyze verify complains, nothing written:\n{verdict.output}",
              file=sys.stderr)
        return 1
    steps = service.install_lines(plan, args.config)
    if args.out:
        for path in service.write_units(texts, Path(args.out)):
            print(f"{path}: written")
        print("\nthen, as root:\n  " + "\n  ".join(s for s in steps if "--out" not in s))
        return 0
    for name, text in texts.items():
        print(f"# ==> {name} <==\n{text}")
    print(f"# ==> {plan.env_file} (names only: fill in the values) <==\n{service.env_template(config, plan.env_file)}")
    print("# To install, as root:\n" + "\n".join(f"#   {s}" for s in steps))
    return 0


def _month_arg(value: str) -> str:
    import re

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise argparse.ArgumentTypeError(f"not a month YYYY-MM: {value!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="casebot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sandbox", help="start the sandbox portals on 127.0.0.1 with synthetic cases")
    p.add_argument("--cases", type=int, default=50)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--period", help="application month, YYYY-MM (default: the current month)")
    p.add_argument("--port-base", type=int, default=8100)
    p.add_argument("--data", help="sandbox data folder (default: $CASEBOT_HOME/sandbox)")
    p.set_defaults(func=cmd_sandbox)

    p = sub.add_parser("demo", help="sandbox + synthetic cases + one nightly run + the morning report")
    p.add_argument("--cases", type=int, default=50)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--home", help="where the demo keeps its files (default: $CASEBOT_HOME/demo, i.e. ./var/demo)")
    p.add_argument("--keep", action="store_true", help="keep the sandbox running afterwards (Ctrl-C stops it)")
    p.add_argument("--period", help="the applications' month, YYYY-MM (default: the current month)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("run", help="one nightly run (continues an unfinished one) and its morning report")
    p.add_argument("--config", required=True, help="the robot's YAML config file")
    p.add_argument("--limit", type=int, help="take at most this many new cases (a trial run)")
    p.add_argument("--workers", type=int, help="override the config's number of workers")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("worker", help="work the runs other robot processes open (several hosts: a PostgreSQL store)")
    p.add_argument("--config", required=True, help="the robot's YAML config file")
    p.add_argument("--workers", type=int, help="override the config's number of workers in this process")
    p.add_argument("--idle-exit", type=float, metavar="SECONDS",
                   help="exit once no run has had work for this long (default: serve until SIGTERM)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("check-selectors", help="visit every screen read-only and check every selector")
    p.add_argument("--config", required=True, help="the robot's YAML config file")
    p.add_argument("--portal", choices=("casesystem", "skv", "fk", "af", "csn"), help="only this portal")
    p.add_argument("--problems", action="store_true", help="list only healed and broken elements")
    p.add_argument("--headed", action="store_true", help="show the browser (needs a display)")
    p.set_defaults(func=cmd_check_selectors)

    p = sub.add_parser("record", help="record a portal's selectors by clicking its screens: re-record a changed "
                                      "screen, add screens and elements, or make a new portal's file from nothing")
    p.add_argument("portal", choices=("casesystem", "skv", "fk", "af", "csn"))
    p.add_argument("screens", nargs="*", help="the screens to record (default: all)")
    p.add_argument("--config", required=True, help="the robot's YAML config file")
    p.add_argument("--script", help="a YAML file of what to click, instead of clicking by hand")
    p.add_argument("--yes", action="store_true", help="save the selector file without asking")
    p.add_argument("--layout", help="the portal's layout version these are recorded against, e.g. v2")
    p.add_argument("--by", help="who records (default: the login name)")
    p.add_argument("--recordings", help="where recordings go (default: the repo's recordings/)")
    p.add_argument("--channel", choices=("web", "desktop"), default="web",
                   help="desktop: the case system's desktop client, by anchor images (selectors/<portal>/)")
    p.add_argument("--display", help="with --channel desktop: the X display (default: the config's desktop.display)")
    p.add_argument("--case", help="with --geometry-file: a test case the walk may save and park")
    p.add_argument("--geometry-file", help="with --channel desktop: where the client describes its widgets "
                                           "(the sandbox client's --geometry-file) instead of pointing by hand")
    p.set_defaults(func=cmd_record)

    p = sub.add_parser("schedule", help="fire the nightly runs of schedules/*.yaml until SIGTERM")
    p.add_argument("--config", required=True, help="the robot's YAML config file")
    p.add_argument("--schedules", help="the folder of schedule files (default: the repo's schedules/)")
    p.add_argument("--list", action="store_true", help="show each job's next fire times and exit")
    p.add_argument("--count", type=int, default=3, help="with --list: how many fire times per job")
    switch = p.add_mutually_exclusive_group()
    switch.add_argument("--pause", metavar="REASON",
                        help="pause every scheduler on the store (a maintenance window): fires are skipped, and why")
    switch.add_argument("--resume", action="store_true", help="end the pause: the next fire runs the night")
    p.set_defaults(func=cmd_schedule)

    p = sub.add_parser("status", help="recent runs, their outcomes, the failing cases, and the workers")
    p.add_argument("--config", required=True, help="the robot's YAML config file")
    p.add_argument("--runs", type=int, default=10, help="how many recent runs")
    p.add_argument("--run", help="show the failing cases of this run (default: the latest)")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("bench", help="measure whole nights against a fresh sandbox (figures to bench/results/)")
    p.add_argument("--cases", type=int, default=50)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--latency", type=int, default=0, help="ms added to every agency request")
    p.add_argument("--scaling", action="store_true",
                   help="the scaling table: workers 1, 2, 4, 8 at latency 0 and 300 ms (--cases each)")
    p.add_argument("--processes", action="store_true",
                   help="1, 2 and 4 robot processes (casebot run + casebot worker) sharing one PostgreSQL database "
                        "(a scratch database on $CASEBOT_BENCH_PG, default postgresql://postgres@127.0.0.1:5432)")
    p.add_argument("--desktop", action="store_true",
                   help="the night on the web channel and again with the case system's desktop client (Xvfb)")
    p.add_argument("--name", help="the results' name (default: robot-<cases>c-<workers>w-<latency>ms or scaling)")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--floor", action="store_true", help="also time the plain-HTTP floor on the same cases")
    p.add_argument("--selenium", action="store_true",
                   help="also time the Selenium peer (needs `pip install selenium` and Debian's chromium-driver)")
    p.add_argument("--out", help="results folder (default: the repo's bench/results/)")
    p.add_argument("--pages-per-agency", type=int, help="the robot's browser.pages_per_agency (default: the config's)")
    p.add_argument("--recycle-after-cases", type=int,
                   help="the robot's browser.recycle_after_cases (default: the config's)")
    p.add_argument("--demo", action="store_true",
                   help="time `casebot demo` (--cases, --workers; its own seed) in a fresh folder instead of a night")
    p.add_argument("--targets", nargs="+", metavar="FILE",
                   help="judge issue 20's targets from saved results (.json files or glob patterns), no new night")
    p.add_argument("--write", action="store_true",
                   help="with --targets: also write the table to <results folder>/<date>-targets.md")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("retry", help="release a case held for an operator (INTERNAL_ERROR, CASE_QUARANTINED)")
    p.add_argument("case", help="the case id, e.g. EB-2026-00017")
    p.add_argument("--config", required=True, help="the robot's YAML config file")
    p.add_argument("--period", help="the application month, when the case has several")
    p.add_argument("--by", help="who releases it (default: the login name), kept in the store")
    p.set_defaults(func=cmd_retry)

    p = sub.add_parser("norms", help="the riksnorm tables: list them, check a new year's table")
    norms = p.add_subparsers(dest="norms_command", required=True)
    q = norms.add_parser("list", help="years, how sure each is (official / municipal copy / partial), missing "
                                      "figures, sources")
    q.add_argument("--config", help="also the tables in the config's norms_dir")
    q.set_defaults(func=cmd_norms_list)
    q = norms.add_parser("check", help="validate a new year's table (structure, sources, published totals and "
                                       "uplift) before it is used")
    q.add_argument("file", help="the table, e.g. 2027.yaml")
    q.add_argument("--config", help="compare with the tables in the config's norms_dir too")
    q.set_defaults(func=cmd_norms_check)

    p = sub.add_parser("guidelines", help="the municipality's local guidelines")
    guide = p.add_subparsers(dest="guidelines_command", required=True)
    q = guide.add_parser("check", help="validate a guidelines file and show the rent caps in force by month")
    q.add_argument("file")
    q.set_defaults(func=cmd_guidelines_check)

    p = sub.add_parser("insights", help="the automation rate per month: shares prepared fully, partially, left "
                                        "manual; what held cases back; caseworker time saved")
    p.add_argument("--config", required=True, help="the robot's YAML config file")
    p.add_argument("--months", type=int, default=6, help="how many application months, up to --until (default 6)")
    p.add_argument("--until", type=_month_arg, help="the last application month shown, YYYY-MM (default: this "
                                                     "month)")
    p.add_argument("--json", action="store_true", help="the same figures as JSON")
    p.set_defaults(func=cmd_insights)

    p = sub.add_parser("report", help="rebuild a run's morning report (.xlsx)")
    p.add_argument("--config", required=True, help="the robot's YAML config file")
    p.add_argument("--run", required=True, help="the run id (see casebot status)")
    p.add_argument("--out", help="where to write it (default: data/reports/morning-<run>.xlsx)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("console", help="the operations console: nights, workers, schedules, drift, actions, "
                                       "/metrics (a web app, 127.0.0.1:8470 by default)")
    p.add_argument("--config", required=True, help="the robot's YAML config file")
    p.add_argument("--host", help="address to listen on (default: the config's console.host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: the config's console.port, 8470)")
    p.add_argument("--tls-cert", help="TLS certificate (PEM): needed to listen on a non-loopback address")
    p.add_argument("--tls-key", help="TLS private key (PEM)")
    p.add_argument("--public-without-tls", action="store_true",
                   help="listen on a non-loopback address without TLS (only when something else encrypts it)")
    p.set_defaults(func=cmd_console)

    p = sub.add_parser("console-user", help="the operations console's accounts (roles operations, admin, viewer)")
    users = p.add_subparsers(dest="user_command", required=True)
    q = users.add_parser("add", help="add an account (or replace its password and role)")
    q.add_argument("name")
    q.add_argument("--role", required=True, choices=("operations", "admin", "viewer"))
    q.add_argument("--password-stdin", action="store_true", help="read the password from stdin, not the terminal")
    q.add_argument("--config", required=True, help="the robot's YAML config file")
    q = users.add_parser("list", help="the accounts and their roles")
    q.add_argument("--config", required=True, help="the robot's YAML config file")
    q = users.add_parser("remove", help="remove an account")
    q.add_argument("name")
    q.add_argument("--config", required=True, help="the robot's YAML config file")
    for verb, what in (("disable", "refuse an account's logins and end its sessions, keeping it"),
                       ("enable", "let a disabled account log in again")):
        q = users.add_parser(verb, help=what)
        q.add_argument("name")
        q.add_argument("--config", required=True, help="the robot's YAML config file")
    q = users.add_parser("set-role", help="change an account's role")
    q.add_argument("name")
    q.add_argument("--role", required=True, choices=("operations", "admin", "viewer"))
    q.add_argument("--config", required=True, help="the robot's YAML config file")
    p.set_defaults(func=cmd_console_user)

    p = sub.add_parser("service", help="systemd units for the scheduler, a worker and the console, and the "
                                       "environment file's template")
    p.add_argument("--config", required=True, help="the robot's YAML config file (as the service will read it)")
    p.add_argument("--user", default="casebot", help="the dedicated user (and group) the units run as")
    p.add_argument("--out", help="write the units into this folder (e.g. /etc/systemd/system) instead of printing")
    p.add_argument("--python", help="run `PYTHON -m bot` (default: the casebot installed beside this interpreter)")
    p.add_argument("--env-template", action="store_true",
                   help="print only the environment file's template: every variable the config needs, no values")
    p.set_defaults(func=cmd_service)
    return parser


def main(argv: list[str] | None = None) -> int:
    from bot.browser.launch import BrowserNotInstalled

    args = build_parser().parse_args(argv)
    func: Command = args.func
    try:
        return func(args)
    except BrowserNotInstalled as exc:  # before install.sh: one line that says what to do, not a traceback
        print(f"casebot: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
