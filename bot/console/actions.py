"""The console's actions: retry a case, start a night, pause and resume the scheduler, run the preflight.

Each action is a plain function on the store and the config that returns an `ActionResult` (the audit row's
result, target and detail, and the flash for the user); the routes at the bottom add the form, CSRF, role and
audit plumbing around them. Nothing here shows or stores a personnummer: targets are case ids and run ids.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from loguru import logger
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.config import Config
from bot.console.web import audit, client_address, console_state, flash_redirect, local_path
from bot.store import Store


@dataclass(frozen=True)
class ActionResult:
    result: str  # "ok", "refused: …", "failed: …" (the audit log's result)
    flash: str  # what the user is told
    target: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.result == "ok"


# -- start a night ----------------------------------------------------------------------------------------------


def night_going_on(store: Store, config: Config, now: datetime) -> str | None:
    """Why a night may not be started now, or None. A run lock held on this host (the scheduler's night, or one
    the console started), or an unfinished run in the store with a live worker (another host's night)."""
    from bot.schedule.runner import host_run_lock

    with host_run_lock(config.data_dir) as free:
        if not free:
            return "a night is already going on on this host (its run lock is held)"
    run = store.latest_unfinished_run()
    if run is not None:
        alive = [w for w in store.workers() if w.run_id == run.id and w.alive(now, config.store.lease_s)]
        if alive:
            return f"run {run.id} is going on ({len(alive)} live worker(s))"
    return None


def spawn_night(config: Config, now: datetime) -> tuple[int, Path]:
    """`casebot run --config FILE` as a detached process (the console's environment carries the portal passwords),
    its output to the log folder. The child inherits the host's run lock, taken here, so the scheduler and a
    second click see the night as going on until the child exits. Returns (pid, output file)."""
    from bot.schedule.runner import LOCK_NAME

    if config.source is None:
        raise ValueError("the console's config has no file to hand to `casebot run`")
    config.log_dir.mkdir(parents=True, exist_ok=True)
    out = config.log_dir / f"console-night-{now:%Y%m%d-%H%M%S}.out"
    config.data_dir.mkdir(parents=True, exist_ok=True)
    lock_fd = os.open(config.data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RuntimeError("a night is already going on on this host (its run lock is held)") from exc
        with open(out, "ab") as sink:
            child = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
                [sys.executable, "-m", "bot", "run", "--config", str(config.source)],
                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
                pass_fds=(lock_fd,), env={**os.environ, "PYTHONUNBUFFERED": "1"})
        os.ftruncate(lock_fd, 0)
        os.write(lock_fd, f"{child.pid}\n".encode())
    finally:
        os.close(lock_fd)  # the child's copy keeps the lock until it exits
    _children.append(child)
    return child.pid, out


_children: list[subprocess.Popen[bytes]] = []


def reap_children() -> None:
    """Collect nights that have ended, so they do not linger as zombies under a long-running console."""
    for child in list(_children):
        if child.poll() is not None:
            _children.remove(child)


def start_night(store: Store, config: Config, now: datetime, who: str = "?") -> ActionResult:
    """A night now: asked of the running scheduler, so that it runs in the scheduler's process and service and
    survives a restart of the console (`bot.schedule.requests`); started by the console itself when no scheduler
    is running."""
    from bot.schedule.pause import describe_pause, scheduler_paused
    from bot.schedule.requests import live_scheduler, night_request, request_night

    reap_children()
    why = night_going_on(store, config, now)
    if why is not None:
        return ActionResult("refused: night going on", f"Not started: {why}.")
    scheduler = live_scheduler(store, now)
    if scheduler is not None:
        paused = scheduler_paused(store)
        if paused is not None:
            return ActionResult("refused: paused", f"Not started: the scheduler is {describe_pause(paused)}. "
                                                   "Resume it first.")
        waiting = night_request(store)
        if waiting is not None:
            return ActionResult("refused: already requested", f"Not started: {waiting.get('by', '?')} asked for a "
                                f"night at {waiting.get('at', '?')}, and the scheduler is about to start it.")
        request_night(store, who, now)
        return ActionResult("ok", f"The scheduler ({scheduler.get('owner', '?')}) was asked to start a night: it "
                                  "runs in the scheduler's service and shows here once it has opened its run.",
                            detail={"requested_of": scheduler.get("owner", "?")})
    try:
        pid, out = spawn_night(config, now)
    except (OSError, ValueError, RuntimeError) as exc:
        return ActionResult(f"failed: {exc}", f"The night could not be started: {exc}")
    logger.info("console: started a night, pid {}, output {}", pid, out)
    return ActionResult("ok", f"A night was started (process {pid}); it shows here once it has opened its run.",
                        detail={"pid": pid, "output": out.name})


# -- retry a case -------------------------------------------------------------------------------------------------


def retry_case(store: Store, config: Config, now: datetime, item_id: int, when: str, who: str) -> ActionResult:
    """Release a held case (INTERNAL_ERROR, CASE_QUARANTINED) for the next night, or now (and start a night). A
    failed case that is not held needs no release: the next night takes it from the inbox on its own."""
    if when not in ("next", "now"):
        return ActionResult("refused: bad request", "Choose when: the next night or now.")
    item = store.get_item(item_id)
    if item is None:
        return ActionResult("refused: no such case", f"There is no work item {item_id}.", target=str(item_id))
    target = f"{item.case_id} {item.period}"
    held = any(h.id == item.id for h in store.held_items())
    detail: dict[str, Any] = {"item_id": item.id, "run_id": item.run_id, "when": when,
                              "error_code": item.last_error_code}
    if held:
        released = store.release_held(item.case_id, period=item.period, by=who)
        if released is None:
            return ActionResult("failed: not held any more", f"{item.case_id} was no longer held.", target, detail)
        message = (f"{item.case_id} released ({item.last_error_code}): the open run {released.run_id} takes it"
                   if released.state == "new" else f"{item.case_id} released ({item.last_error_code}): the next "
                                                   "night takes it")
    elif item.state == "failed":
        message = (f"{item.case_id} is not held ({item.last_error_code}): the next night takes it again on its "
                   "own")
    else:
        return ActionResult("refused: not failed", f"{item.case_id} has not failed ({item.state}): nothing to retry.",
                            target, detail)
    if when == "now":
        night = start_night(store, config, now, who)
        detail.update(night.detail)
        if not night.ok:
            return ActionResult(night.result, f"{message}; but {night.flash[0].lower()}{night.flash[1:]}", target,
                                detail)
        message += (f"; a night was started now (process {night.detail['pid']})" if "pid" in night.detail
                    else f"; the scheduler ({night.detail['requested_of']}) was asked to start a night now")
    return ActionResult("ok", message + ".", target, detail)


# -- pause and resume the scheduler ------------------------------------------------------------------------------


def pause_scheduler(store: Store, who: str, reason: str) -> ActionResult:
    from bot.schedule import pause

    reason = reason.strip()[:300]
    if not reason:
        return ActionResult("refused: no reason", "Say why the scheduler is paused (e.g. the maintenance window).")
    if pause.scheduler_paused(store) is not None:
        return ActionResult("refused: already paused", "The scheduler is already paused.")
    pause.pause_scheduler(store, by=who, reason=reason)
    return ActionResult("ok", "The scheduler is paused: its fires are skipped until it is resumed.",
                        target="scheduler", detail={"reason": reason})


def resume_scheduler(store: Store, who: str) -> ActionResult:
    from bot.schedule import pause

    if pause.scheduler_paused(store) is None:
        return ActionResult("refused: not paused", "The scheduler is not paused.")
    pause.resume_scheduler(store, by=who)
    return ActionResult("ok", "The scheduler is running again: its next fire runs the night.", target="scheduler")


# -- the preflight --------------------------------------------------------------------------------------------------


def run_checks(config: Config) -> list[Any]:
    """`casebot check-selectors` for every portal: read-only, a browser of its own."""
    import asyncio

    from bot.config import PORTAL_NAMES
    from bot.credentials import resolve_all
    from bot.paths import SELECTORS_DIR
    from bot.selectors.load import load_all
    from bot.upkeep.preflight import check_selectors

    selectors = load_all(config.selectors_dir or SELECTORS_DIR)
    passwords = resolve_all(config)
    return asyncio.run(check_selectors(config, passwords, selectors, list(PORTAL_NAMES)))


def preflight_counts(results: list[Any]) -> dict[str, int]:
    return {"healed": sum(len(r.having("healed")) for r in results),
            "broken": sum(len(r.having("broken")) for r in results),
            "portals_not_walked": sum(1 for r in results if r.error is not None)}


def preflight_outcome(store: Store, config: Config, checks: Callable[[Config], list[Any]] = run_checks
                      ) -> ActionResult:
    """Walk the screens and record drift and broken selectors as run-less events, so /drift shows them."""
    from bot.errors import CasebotError
    from bot.upkeep.preflight import record_preflight

    try:
        results = checks(config)
    except CasebotError as exc:
        return ActionResult(f"failed: {exc}", f"The preflight failed: {exc}")
    record_preflight(store, None, results)  # type: ignore[arg-type]  # run-less: the console's own check
    counts = preflight_counts(results)
    return ActionResult("ok", f"Preflight done: {counts['healed']} drifted, {counts['broken']} broken.",
                        target="preflight", detail=counts)


def start_preflight(background: dict[str, threading.Thread], work: Callable[[], None]) -> bool:
    """Run `work` in a thread unless a preflight is already running. False: one is."""
    running = background.get("preflight")
    if running is not None and running.is_alive():
        return False

    def body() -> None:
        try:
            work()
        finally:
            background.pop("preflight", None)

    thread = threading.Thread(target=body, name="console-preflight", daemon=True)
    background["preflight"] = thread
    thread.start()
    return True


# -- the routes --------------------------------------------------------------------------------------------------


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


async def _finish(request: Request, action: str, outcome: ActionResult, default_back: str) -> Response:
    user = request.state.user
    await run_in_threadpool(audit, request, user.name, user.role, action, outcome.result, target=outcome.target,
                            detail=outcome.detail)
    form = await _form(request)
    return flash_redirect(request, local_path(form.get("next"), default_back), outcome.flash)


async def retry_route(request: Request) -> Response:
    state = console_state(request)
    form = await _form(request)
    try:
        item_id = int(form.get("item_id", ""))
    except ValueError:
        return await _finish(request, "retry_case", ActionResult("refused: bad request", "No case given."), "/")
    outcome = await run_in_threadpool(retry_case, state.store(), state.config, state.clock(), item_id,
                                      form.get("when", "next"), request.state.user.name)
    return await _finish(request, "retry_case", outcome, f"/cases/{item_id}")


async def start_night_route(request: Request) -> Response:
    state = console_state(request)
    outcome = await run_in_threadpool(start_night, state.store(), state.config, state.clock(),
                                      request.state.user.name)
    return await _finish(request, "start_night", outcome, "/")


async def pause_route(request: Request) -> Response:
    form = await _form(request)
    outcome = await run_in_threadpool(pause_scheduler, console_state(request).store(), request.state.user.name,
                                      form.get("reason", ""))
    return await _finish(request, "pause_scheduler", outcome, "/schedules")


async def resume_route(request: Request) -> Response:
    outcome = await run_in_threadpool(resume_scheduler, console_state(request).store(), request.state.user.name)
    return await _finish(request, "resume_scheduler", outcome, "/schedules")


async def preflight_route(request: Request) -> Response:
    state = console_state(request)
    user = request.state.user
    started = state.clock()
    address = client_address(request)

    def work() -> None:
        try:
            outcome = preflight_outcome(state.store(), state.config)
        except Exception as exc:  # noqa: BLE001 - a crash in the thread must still reach the audit log
            logger.exception("console: the preflight failed")
            outcome = ActionResult(f"failed: {type(exc).__name__}: {exc}", "")
        state.store().record_audit(user.name, user.role, "run_preflight", target="preflight",
                                   detail={**outcome.detail, "started": started.isoformat(), "address": address},
                                   result=outcome.result)

    if not start_preflight(state.background, work):
        return await _finish(request, "run_preflight",
                             ActionResult("refused: already running", "A preflight is already running."), "/drift")
    # The audit row is written when the check ends, with its counts (a walk of every screen takes a minute).
    return flash_redirect(request, "/drift", "The preflight has started: this page shows its results when it is "
                                             "done (reload in a minute); the audit log gets its counts.")


ACTION_ROUTES: list[tuple[str, str, Callable[[Request], Any]]] = [
    ("/actions/retry", "retry_case", retry_route),
    ("/actions/start-night", "start_night", start_night_route),
    ("/actions/pause", "pause_scheduler", pause_route),
    ("/actions/resume", "resume_scheduler", resume_route),
    ("/actions/preflight", "run_preflight", preflight_route),
]
