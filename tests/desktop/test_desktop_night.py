"""Issue 10's "done when": under Xvfb, nights whose calculation screen and park go through the desktop client.

- v1: a night with `channel: desktop` fills, reads back (clipboard) and parks every case through the client's
  pixels and keyboard, with the same oracle check as the web channel, and nothing saved through the web form.
- v2: in test_desktop_rerecord.py (its own file, so the two long nights run in parallel test processes).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_config, sandbox_environ
from bot.dev.virtual_screen import client, xvfb
from bot.note import NOTE_MARKER_PREFIX
from bot.paths import SELECTORS_DIR
from bot.run.entry import run_once
from tests.sandbox_proc import start_sandbox

CASES = 6
HANDED = ("klar_for_signering", "manuell")


def robot_audit(box: Sandbox) -> list[dict[str, object]]:
    rows = box.admin_get("casesystem", "/_admin/audit")
    assert isinstance(rows, list)
    return [r for r in rows if r["username"] == "robot"]


def night(tmp_path: Path, box: Sandbox, display: str, selectors_dir: Path, name: str):  # type: ignore[no-untyped-def]
    config = sandbox_config(tmp_path / name, box, desktop_display=display, workers=2,
                            selectors_dir=str(selectors_dir))
    return asyncio.run(run_once(config, environ={**os.environ, **sandbox_environ()}, console=False))


def copy_of_selectors(tmp_path: Path) -> Path:
    target = tmp_path / "selectors"
    shutil.copytree(SELECTORS_DIR, target)
    return target


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_a_night_through_the_desktop_client_fills_reads_back_and_parks(tmp_path: Path) -> None:
    box = start_sandbox(tmp_path / "sandbox", cases=CASES, seed=53)
    try:
        with xvfb() as display, client(box, display, tmp_path, "v1"):
            done = night(tmp_path, box, display, copy_of_selectors(tmp_path), "robot")
        assert done.exit_code == 0, done.result.stopped_by
        summary = done.result.summary
        assert summary.total == CASES and summary.open == 0 and not summary.by_state.get("failed")
        assert differences_from_oracle(box) == {}
        through_client = box.admin_get("casesystem", "/_admin/skrivbord")
        assert isinstance(through_client, dict)
        retried = {i.case_id: i.last_error_message for i in done.items if i.attempts > 1}
        assert not retried, retried
        filled = [i for i in done.items if i.outcome in ("auto", "partial")]
        assert filled and through_client["saves"] == len(filled) and through_client["parks"] == len(filled)
        audit = robot_audit(box)
        notes = Counter(a["case_id"] for a in audit if a["field"] == "journal" and NOTE_MARKER_PREFIX in str(a["new"]))
        handed = Counter(a["case_id"] for a in audit if a["field"] == "status" and a["new"] in HANDED)
        assert len(handed) == CASES and set(handed.values()) == {1} and notes == handed
    finally:
        box.stop()


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_an_admin_records_a_screen_by_pointing_and_the_robot_logs_in_with_it(tmp_path: Path) -> None:
    from bot.desktop.anchors import load_desktop
    from bot.desktop.display import Display
    from bot.desktop.driver import DesktopCaseSystem
    from bot.desktop.record import BUTTON_INSET, record_by_pointing
    from bot.drivers.base import PortalAccount

    box = start_sandbox(tmp_path / "sandbox", cases=1, seed=61)
    selectors = copy_of_selectors(tmp_path) / "casesystem"
    try:
        with xvfb() as display, client(box, display, tmp_path, "v1") as on_screen:
            widgets = on_screen.geometry.wait("login")

            def corners(name: str, inset: int = 0) -> list[tuple[int, int]]:
                x, y, w, h = widgets[name]
                return [(x + inset, y + inset), (x + w - 1 - inset, y + h - 1 - inset)]

            # Where the admin's hand goes for each prompt: label corners, field corners, the button's face.
            hand = iter([*corners("label:username"), *corners("field:username"), *corners("label:password"),
                         *corners("field:password"), *corners("button:login", BUTTON_INSET)])
            screen = Display(display)
            prompts: list[str] = []

            def admin(prompt: str) -> None:
                prompts.append(prompt)
                if not prompt.startswith("Show"):
                    screen.move(*next(hand))

            (selectors / "images" / "login" / "username.png").unlink()  # what the admin records is what is used
            recorded = record_by_pointing(screen, admin, selectors, "v1", "admin", ["login"])
            assert prompts[0] == "Show the client's login screen on the screen, then press Enter"
            assert len(prompts) == 1 + 10 and next(hand, None) is None
            assert set(recorded.screens["login"].elements) == {"username", "password", "login"}
            assert recorded.screens["search"] == load_desktop(SELECTORS_DIR / "casesystem").screens["search"]  # kept
            robot = DesktopCaseSystem(screen, load_desktop(selectors), selectors, PortalAccount("robot", "robot-pass"))
            robot.login()  # typed into the fields found by the new anchors; the case-number screen follows
            assert on_screen.geometry.wait("search")
    finally:
        box.stop()
