"""Each console action done in Chromium by an operations user (the preflight by an admin), with its audit row read
back from the store and its effect checked: a held case released, the scheduler paused so a fire skips as
`paused` and resumed, a night started against a small sandbox and finished, a preflight whose findings the drift
page shows."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, write_config
from bot.console import actions
from bot.dev.sandbox import Sandbox, sandbox_config, sandbox_environ
from bot.schedule.load import load_schedules
from bot.schedule.pause import PAUSE_KEY
from bot.schedule.runner import NightScheduler
from bot.store import SqliteStore
from tests.console.conftest import ServedConsole
from tests.console.seed import seed, write_schedules
from tests.sandbox_proc import start_sandbox

pytestmark = pytest.mark.browser


def store_of(config: Config) -> SqliteStore:
    return SqliteStore(Path(config.store_url[len("sqlite:///"):]))


def last_audit(config: Config, action: str) -> Any:
    with store_of(config) as store:
        rows = store.audit_log(20, action=action)
    assert rows, f"no audit row for {action}"
    return rows[0]


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


# -- retry, pause, resume: on a seeded store --------------------------------------------------------------------


@pytest.fixture
def seeded_console(tmp_path: Path, serve_console: Callable[..., ServedConsole]) -> tuple[Any, ServedConsole]:
    seeded = seed(tmp_path)
    return seeded, serve_console(seeded.config, clock=seeded.clock)


def test_retry_releases_a_held_case_for_the_next_night(seeded_console, page) -> None:  # type: ignore[no-untyped-def]
    seeded, console = seeded_console
    held = seeded.item(seeded.run1, "EB-5")
    with store_of(seeded.config) as store:
        assert held in {i.id for i in store.held_items()}
    console.login(page, "drift")
    page.goto(f"{console.url}/cases/{held}")
    page.get_by_test_id("retry").get_by_role("button", name="Retry in the next night").click()
    page.wait_for_url(f"{console.url}/cases/{held}")
    assert "EB-5 released (INTERNAL_ERROR)" in page.get_by_test_id("flash").inner_text()
    with store_of(seeded.config) as store:
        assert held not in {i.id for i in store.held_items()}
    row = last_audit(seeded.config, "retry_case")
    assert (row.who, row.role, row.target, row.result) == ("drift", "operations", "EB-5 2024-12", "ok")
    assert row.detail["when"] == "next" and row.detail["error_code"] == "INTERNAL_ERROR"


def test_retry_of_a_failed_case_that_is_not_held_says_the_next_night_takes_it(  # type: ignore[no-untyped-def]
        seeded_console, page) -> None:
    seeded, console = seeded_console
    failed = seeded.item(seeded.run1, "EB-4")
    console.login(page, "drift")
    page.goto(f"{console.url}/cases/{failed}")
    page.get_by_test_id("retry").get_by_role("button", name="Retry in the next night").click()
    assert "takes it again on its own" in page.get_by_test_id("flash").inner_text()
    row = last_audit(seeded.config, "retry_case")
    assert (row.target, row.result) == ("EB-4 2024-12", "ok")


def test_retry_now_is_refused_while_a_night_is_going_on(seeded_console, page) -> None:  # type: ignore[no-untyped-def]
    seeded, console = seeded_console  # run-2 is unfinished, and its worker (this process) is alive
    held = seeded.item(seeded.run1, "EB-5")
    console.login(page, "drift")
    page.goto(f"{console.url}/cases/{held}")
    page.get_by_test_id("retry").get_by_role("button", name="Retry now (starts a night)").click()
    flash = page.get_by_test_id("flash").inner_text()
    assert "EB-5 released" in flash and "run-2 is going on" in flash
    row = last_audit(seeded.config, "retry_case")
    assert row.result == "refused: night going on" and "pid" not in row.detail


def test_pause_skips_the_schedulers_fires_and_resume_ends_that(  # type: ignore[no-untyped-def]
        seeded_console, page, tmp_path: Path) -> None:
    seeded, console = seeded_console
    console.login(page, "drift")
    page.goto(console.url + "/schedules")
    page.get_by_test_id("pause").locator("input[name=reason]").fill("uppgradering av verksamhetssystemet")
    page.get_by_test_id("pause").get_by_role("button").click()
    page.wait_for_url(console.url + "/schedules")
    assert "paused" in page.get_by_test_id("flash").inner_text()
    assert page.get_by_test_id("paused").is_visible()
    with store_of(seeded.config) as store:
        assert store.control(PAUSE_KEY) is not None
    row = last_audit(seeded.config, "pause_scheduler")
    assert (row.who, row.result, row.detail["reason"]) == ("drift", "ok", "uppgradering av verksamhetssystemet")

    jobs = load_schedules(write_schedules(tmp_path / "schedules"))
    fired = NightScheduler(seeded.config, jobs, console=False).fire(jobs[0])
    assert fired.outcome == "paused" and "drift" in fired.detail and "uppgradering" in fired.detail

    page.get_by_test_id("resume").get_by_role("button").click()
    page.wait_for_url(console.url + "/schedules")
    assert page.get_by_test_id("running").is_visible()
    with store_of(seeded.config) as store:
        assert store.control(PAUSE_KEY) is None
    assert (last_audit(seeded.config, "resume_scheduler").result) == "ok"


# -- start a night and the preflight: against a small sandbox ----------------------------------------------------


@pytest.fixture(scope="module")
def small_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = start_sandbox(tmp_path_factory.mktemp("console-sandbox"), cases=3, seed=7)
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def robot(tmp_path: Path, small_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The robot's config on disk (the console hands it to `casebot run`), the passwords in the environment."""
    small_sandbox.reset_knobs()
    config = sandbox_config(tmp_path / "robot", small_sandbox, workers=1, timeouts={"element_s": 3})
    path = write_config(config, tmp_path / "robot" / "config.yaml")
    for key, value in sandbox_environ().items():
        monkeypatch.setenv(key, value)
    return config.model_copy(update={"source": path})


def test_start_night_runs_a_night_the_live_panel_follows(  # type: ignore[no-untyped-def]
        robot: Config, serve_console: Callable[..., ServedConsole], page) -> None:
    console = serve_console(robot)
    console.login(page, "drift")
    page.goto(console.url + "/")
    assert page.get_by_test_id("live-idle").is_visible()
    page.get_by_test_id("start-night").get_by_role("button").click()
    page.wait_for_url(console.url + "/")
    assert "A night was started" in page.get_by_test_id("flash").inner_text()
    started = last_audit(robot, "start_night")
    assert (started.who, started.result) == ("drift", "ok") and started.detail["pid"] > 0

    page.get_by_test_id("start-night").get_by_role("button").click()  # a second click while it runs
    assert "Not started" in page.get_by_test_id("flash").inner_text()
    assert last_audit(robot, "start_night").result == "refused: night going on"

    # The live panel fills in without a reload once the night has opened its run.
    page.get_by_test_id("live-total").filter(has_text="3").wait_for(timeout=60_000)

    def finished() -> Any:
        with store_of(robot) as store:
            runs = store.list_runs(1)
            return runs and runs[0].status != "running" and runs[0]

    run = wait_for(finished, 240, "the night to finish")
    with store_of(robot) as store:
        summary = store.run_summary(run.id)
    assert summary.total == 3 and summary.open == 0
    wait_for(lambda: (actions.reap_children(), not actions._children)[1], 60, "the night's process to exit")
    page.goto(console.url + "/")
    assert run.id in page.content()


def test_preflight_from_the_console_shows_on_the_drift_page(  # type: ignore[no-untyped-def]
        robot: Config, small_sandbox: Sandbox, serve_console: Callable[..., ServedConsole], page) -> None:
    console = serve_console(robot)
    small_sandbox.set_knobs("csn", layout="v2")  # csn's result page changed: its download button is gone
    try:
        console.login(page, "admin")
        page.goto(console.url + "/drift")
        page.get_by_test_id("preflight").get_by_role("button").click()
        page.wait_for_url(console.url + "/drift")
        assert "preflight has started" in page.get_by_test_id("flash").inner_text()
        with store_of(robot) as store:
            wait_for(lambda: store.audit_log(5, action="run_preflight"), 240, "the preflight's audit row")
        row = last_audit(robot, "run_preflight")
        assert (row.who, row.role, row.result) == ("admin", "admin", "ok")
        assert row.detail["broken"] >= 1
    finally:
        small_sandbox.reset_knobs()
    page.goto(console.url + "/drift")
    broken = page.get_by_test_id("broken").inner_text()
    assert "csn" in broken and "download" in broken
    assert "started from the console" in page.get_by_test_id("preflight-source").inner_text()
