"""The case system's legacy login behaviour in a real browser: changing ids, idle expiry, lockout,
the driftmeddelande and CSRF."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.sandbox.casesystem_helpers import (
    FRAME,
    PORTAL,
    ROBOT,
    login,
    open_in_frame,
    take_case,
)
from tests.sandbox_proc import Sandbox, https_post

pytestmark = pytest.mark.browser


def test_ids_change_between_renders_but_labels_find_the_fields(fresh_sandbox: Sandbox, page: Page) -> None:
    case_id = take_case(fresh_sandbox)
    login(page, fresh_sandbox)
    frame = open_in_frame(page, fresh_sandbox, f"/arende/{case_id}/berakning")
    first = frame.get_by_label("Hyra/boendekostnad")
    first_id = first.get_attribute("id")
    assert first.get_attribute("name") == "boende"

    frame = open_in_frame(page, fresh_sandbox, f"/arende/{case_id}/berakning")
    second_id = frame.get_by_label("Hyra/boendekostnad").get_attribute("id")
    assert first_id and second_id and first_id != second_id
    assert frame.locator("input[name=boende]").get_attribute("id") == second_id


def test_idle_session_expires_and_the_login_page_says_so(fresh_sandbox: Sandbox, page: Page) -> None:
    login(page, fresh_sandbox)
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("heading", name="Inkorg – inkomna e-ansökningar")).to_be_visible()
    fresh_sandbox.set_knobs(PORTAL, session_ttl_s=1)
    time.sleep(1.6)
    # A click inside the content frame: the expired session's login page takes over the whole window.
    frame.get_by_role("button", name="Filtrera").click()
    expect(page).to_have_url(re.compile(r"/login\?"))
    expect(page.get_by_role("alert")).to_contain_text("Din session har gått ut")
    fresh_sandbox.set_knobs(PORTAL, session_ttl_s=1800)
    page.get_by_label("Användarnamn").fill(ROBOT[0])
    page.get_by_label("Lösenord").fill(ROBOT[1])
    page.get_by_role("button", name="Logga in").click()
    # Back to the framed start page, with the screen the frame showed before.
    expect(page.frame_locator(FRAME).get_by_role("button", name="Filtrera")).to_be_visible()


def test_lockout_after_five_failures_until_unlocked(fresh_sandbox: Sandbox, page: Page) -> None:
    user = "handlaggare3"
    for _ in range(5):
        login(page, fresh_sandbox, (user, "fel-losen"))
        expect(page.get_by_role("alert")).to_contain_text("Fel användarnamn eller lösenord")
    login(page, fresh_sandbox, (user, "hl-pass"))
    expect(page.get_by_role("alert")).to_contain_text("Kontot är låst")
    assert "/login" in page.url
    https_post(fresh_sandbox.url(PORTAL, "/_admin/unlock"), timeout=10).raise_for_status()
    login(page, fresh_sandbox, (user, "hl-pass"))
    expect(page.frame_locator(FRAME).get_by_role("button", name="Filtrera")).to_be_visible()


def test_driftmeddelande_must_be_acknowledged(fresh_sandbox: Sandbox, page: Page) -> None:
    fresh_sandbox.set_knobs(PORTAL, system_message_rate=1.0)
    login(page, fresh_sandbox)
    expect(page.get_by_role("heading", name="Driftmeddelande")).to_be_visible()
    page.goto(fresh_sandbox.url(PORTAL, "/inkorg"))  # going around it does not work
    expect(page.get_by_role("heading", name="Driftmeddelande")).to_be_visible()
    page.get_by_role("button", name="Jag har läst meddelandet").click()
    expect(page.get_by_role("heading", name="Inkorg – inkomna e-ansökningar")).to_be_visible()


def test_form_without_csrf_token_is_refused(fresh_sandbox: Sandbox, page: Page) -> None:
    case_id = take_case(fresh_sandbox)
    login(page, fresh_sandbox)
    page.goto(fresh_sandbox.url(PORTAL, f"/arende/{case_id}/berakning"))
    page.get_by_label("Hyra/boendekostnad").fill("5 000")
    page.locator("form input[name=csrf]").evaluate("el => el.remove()")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Spara").click()
    assert answer.value.status == 403
    expect(page.get_by_role("alert")).to_contain_text("säkerhetsnyckel")
    assert fresh_sandbox.admin_get(PORTAL, f"/_admin/cases/{case_id}")["calc"]["boende"] is None
    # A forged token is no better than none.
    # Posted by the page itself (its session cookie, and the browser's trust of the sandbox CA; Playwright's own
    # request API would go from its Node driver, which knows nothing of that CA).
    status = page.evaluate("""async (url) => (await fetch(url, {method: "POST", redirect: "manual",
        body: new URLSearchParams({csrf: "forged", version: "1"})})).status""",
                           fresh_sandbox.url(PORTAL, f"/arende/{case_id}/parkera"))
    assert status == 403
