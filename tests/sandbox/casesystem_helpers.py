"""Shared by the case-system browser tests: logging in through the UI, reaching the content frame, picking cases.

Tests share one sandbox (session-scoped), so each test takes cases nobody else in this run has touched
(`take_case`) instead of assuming a case's state.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from tests.sandbox_proc import Sandbox

PORTAL = "casesystem"
ROBOT = ("robot", "robot-pass")
CASEWORKER = ("handlaggare1", "hl-pass")
FRAME = "iframe[name=innehall]"

_taken: set[str] = set()


def login(page: Page, box: Sandbox, user: tuple[str, str] = ROBOT, path: str = "/login") -> None:
    """Log in through the login form (labels, not ids: the ids change on every render)."""
    page.goto(box.url(PORTAL, path))
    page.get_by_label("Användarnamn").fill(user[0])
    page.get_by_label("Lösenord").fill(user[1])
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state("domcontentloaded")


def open_in_frame(page: Page, box: Sandbox, path: str) -> FrameLocator:
    """The start page with `path` in the content frame, as a caseworker bookmark would open it."""
    page.goto(box.url(PORTAL, "/?sida=" + path))
    frame = page.frame_locator(FRAME)
    expect(frame.locator("body")).to_be_visible()
    return frame


def admin(box: Sandbox, path: str) -> Any:
    return box.admin_get(PORTAL, path)


def case_state(box: Sandbox, case_id: str) -> dict[str, Any]:
    return admin(box, f"/_admin/cases/{case_id}")


def audit_rows(box: Sandbox, case_id: str) -> list[dict[str, Any]]:
    return admin(box, f"/_admin/audit?case_id={case_id}")


def take_case(box: Sandbox, status: str = "inkommen") -> str:
    """A case in `status` that no other test in this run has used yet."""
    for row in reversed(admin(box, "/_admin/cases")):
        if row["status"] == status and row["case_id"] not in _taken:
            _taken.add(row["case_id"])
            return row["case_id"]
    pytest.skip(f"no unused case in status {status} left in the sandbox")
