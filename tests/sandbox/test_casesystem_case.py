"""Working a case in the legacy case system through a real browser: inbox, calculation form, journal,
parking behind a confirm dialog, manual handling, signing rights, optimistic locking and layout v2."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.sandbox.casesystem_helpers import (
    CASEWORKER,
    FRAME,
    PORTAL,
    admin,
    audit_rows,
    case_state,
    login,
    open_in_frame,
    take_case,
)
from tests.sandbox_proc import Sandbox, https_post

pytestmark = pytest.mark.browser

PAGE_SIZE = 20


def hits(n: int) -> str:
    return f"{n} {'ärende' if n == 1 else 'ärenden'} – sida 1"


def test_inbox_pages_and_filters_by_status(fresh_sandbox: Sandbox, page: Page) -> None:
    cases = admin(fresh_sandbox, "/_admin/cases")
    login(page, fresh_sandbox)
    frame = page.frame_locator(FRAME)
    table_rows = frame.get_by_test_id("inkorg-tabell").locator("tbody tr")
    pages = -(-len(cases) // PAGE_SIZE)
    expect(frame.get_by_text(f"{len(cases)} ärenden – sida 1 av {pages}")).to_be_visible()
    expect(table_rows).to_have_count(min(PAGE_SIZE, len(cases)))
    if pages > 1:
        frame.get_by_role("link", name="Nästa »").click()
        expect(frame.get_by_text(f"sida 2 av {pages}")).to_be_visible()
        expect(table_rows).to_have_count(min(PAGE_SIZE, len(cases) - PAGE_SIZE))
        expect(frame.get_by_role("link", name=cases[PAGE_SIZE]["case_id"], exact=True)).to_be_visible()

    inkommen = [c for c in cases if c["status"] == "inkommen"]
    frame.get_by_label("Status", exact=True).select_option("inkommen")
    frame.get_by_role("button", name="Filtrera").click()
    expect(frame.get_by_text(hits(len(inkommen)))).to_be_visible()
    expect(table_rows.filter(has_text="Under behandling")).to_have_count(0)
    frame.get_by_label("Status", exact=True).select_option("beslutad")
    frame.get_by_role("button", name="Filtrera").click()
    decided = [c for c in admin(fresh_sandbox, "/_admin/cases") if c["status"] == "beslutad"]
    expect(frame.get_by_text(hits(len(decided)))).to_be_visible()
    # Search by personnummer as printed (with a hyphen); a case link opens the case in the same frame.
    pnr = case_state(fresh_sandbox, cases[0]["case_id"])["applicant_pnr"]
    frame.get_by_label("Status", exact=True).select_option("")
    frame.get_by_label("Ärende/personnummer").fill(f"{pnr[:8]}-{pnr[8:]}")
    frame.get_by_role("button", name="Filtrera").click()
    expect(frame.get_by_text("1 ärende – sida 1 av 1")).to_be_visible()
    frame.get_by_role("link", name=cases[0]["case_id"], exact=True).click()
    expect(frame.get_by_role("heading", name=f"Ärende {cases[0]['case_id']}")).to_be_visible()


def test_save_accepts_swedish_amounts_computes_totals_and_audits(fresh_sandbox: Sandbox, page: Page) -> None:
    case_id = take_case(fresh_sandbox)
    before = case_state(fresh_sandbox, case_id)
    login(page, fresh_sandbox)
    frame = open_in_frame(page, fresh_sandbox, f"/arende/{case_id}/berakning")
    frame.get_by_label("Personliga kostnader (riksnorm)").fill("4 000 kr")
    frame.get_by_label("Gemensamma hushållskostnader").fill("1710")
    frame.get_by_label("Hyra/boendekostnad").fill("12 345")
    frame.get_by_label("Lön efter skatt").fill("20000")
    frame.get_by_role("button", name="Spara").click()

    expect(frame.get_by_text("Beräkningen är sparad.")).to_be_visible()
    expect(frame.get_by_label("Hyra/boendekostnad")).to_have_value("12 345")
    expect(frame.get_by_label("Summa norm")).to_have_text("5 710 kr")
    expect(frame.get_by_label("Summa skäliga kostnader")).to_have_text("12 345 kr")
    expect(frame.get_by_label("Summa inkomster")).to_have_text("20 000 kr")
    expect(frame.get_by_label("Att betala ut")).to_have_text("0 kr")  # 18 055 − 20 000 is floored at 0
    expect(frame.get_by_test_id("arende-status")).to_have_text("Under behandling")

    after = case_state(fresh_sandbox, case_id)
    assert after["version"] == before["version"] + 1
    assert after["status"] == "under_behandling"
    assert after["calc"]["boende"] == 12345 and after["calc"]["hushallsel"] is None
    assert after["calc"]["att_betala"] == 0 and after["calc"]["summa_norm"] == 5710
    changes = {(r["field"], r["old"], r["new"], r["username"]) for r in audit_rows(fresh_sandbox, case_id)}
    assert {("boende", None, "12345", "robot"), ("norm_personliga", None, "4000", "robot"),
            ("status", "inkommen", "under_behandling", "robot")} <= changes

    # A journal note is kept, shown and audited too.
    frame.get_by_role("link", name="Journal").click()
    frame.get_by_label("Ny anteckning").fill("Beräkning förberedd av roboten.")
    frame.get_by_role("button", name="Spara anteckning").click()
    expect(frame.get_by_role("cell", name="Beräkning förberedd av roboten.")).to_be_visible()
    assert case_state(fresh_sandbox, case_id)["journal"][-1]["text"] == "Beräkning förberedd av roboten."
    assert any(r["field"] == "journal" for r in audit_rows(fresh_sandbox, case_id))


def test_invalid_amounts_are_refused_per_field_and_nothing_is_saved(fresh_sandbox: Sandbox, page: Page) -> None:
    case_id = take_case(fresh_sandbox)
    before, audit_before = case_state(fresh_sandbox, case_id), audit_rows(fresh_sandbox, case_id)
    login(page, fresh_sandbox)
    frame = open_in_frame(page, fresh_sandbox, f"/arende/{case_id}/berakning")
    frame.get_by_label("Hyra/boendekostnad").fill("abc")
    frame.get_by_label("Lön efter skatt").fill("1 234,50")
    frame.get_by_label("Hushållsel").fill("450")  # valid, but must not be saved alone
    frame.get_by_role("button", name="Spara").click()

    expect(frame.get_by_role("alert")).to_contain_text("2 fält har fel")
    boende, lon = frame.get_by_label("Hyra/boendekostnad"), frame.get_by_label("Lön efter skatt")
    expect(boende).to_have_attribute("aria-invalid", "true")
    expect(boende).to_have_accessible_description(re.compile("'abc' är inte ett belopp i hela kronor"))
    expect(lon).to_have_accessible_description(re.compile("Öre kan inte anges"))
    expect(lon).to_have_value("1 234,50")  # what was typed stays for correction
    after = case_state(fresh_sandbox, case_id)
    assert after["version"] == before["version"] and after["status"] == before["status"]
    assert after["calc"] == before["calc"]
    assert audit_rows(fresh_sandbox, case_id) == audit_before


def test_switching_tab_with_unsaved_changes_asks_first(fresh_sandbox: Sandbox, page: Page) -> None:
    case_id = take_case(fresh_sandbox)
    login(page, fresh_sandbox)
    frame = open_in_frame(page, fresh_sandbox, f"/arende/{case_id}/berakning")
    frame.get_by_label("Hemförsäkring").fill("150")
    messages: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    frame.get_by_role("link", name="Journal").click()
    expect(frame.get_by_label("Hemförsäkring")).to_have_value("150")  # stayed on the tab
    assert messages and "osparade ändringar" in messages[0]

    page.once("dialog", lambda dialog: dialog.accept())
    frame.get_by_role("link", name="Journal").click()
    expect(frame.get_by_label("Ny anteckning")).to_be_visible()
    assert case_state(fresh_sandbox, case_id)["calc"]["hemforsakring"] is None


def test_park_behind_confirm_then_locked_and_robot_cannot_sign(fresh_sandbox: Sandbox, page: Page) -> None:
    case_id = take_case(fresh_sandbox)
    caseworker = case_state(fresh_sandbox, case_id)["caseworker"]
    login(page, fresh_sandbox)
    frame = open_in_frame(page, fresh_sandbox, f"/arende/{case_id}/beslut")

    # Without anyone accepting the confirm dialog (Playwright dismisses it), nothing happens.
    frame.get_by_role("button", name="Parkera för signering").click()
    expect(frame.get_by_test_id("arende-status")).to_have_text("Inkommen")
    assert case_state(fresh_sandbox, case_id)["status"] == "inkommen"

    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    frame.get_by_label("Behöver kompletteras").check()
    frame.get_by_role("button", name="Parkera för signering").click()
    expect(frame.get_by_test_id("arende-status")).to_have_text("Klar för signering")
    assert dialogs and caseworker in dialogs[0]
    state = case_state(fresh_sandbox, case_id)
    assert (state["status"], state["assigned_to"], state["needs_completion"]) == (
        "klar_for_signering", caseworker, True)

    # The calculation is read-only now.
    frame.get_by_role("link", name="Beräkning").click()
    expect(frame.get_by_label("Hyra/boendekostnad")).not_to_be_editable()
    expect(frame.get_by_role("button", name="Spara")).to_have_count(0)

    # Parking again is refused with a message the robot recognises, and changes nothing.
    frame.get_by_role("link", name="Beslut").click()
    frame.get_by_role("button", name="Parkera för signering").click()
    expect(frame.get_by_role("alert")).to_have_text("Ärendet är redan parkerat för signering.")
    assert case_state(fresh_sandbox, case_id)["version"] == state["version"]

    # The robot's service account may not sign: 403, and the attempt is in the audit trail.
    with page.expect_response(lambda r: r.url.endswith("/signera")) as answer:
        frame.get_by_role("button", name="Signera beslut").click()
    assert answer.value.status == 403
    expect(frame.get_by_role("alert")).to_contain_text("saknar behörighet att signera")
    assert case_state(fresh_sandbox, case_id)["status"] == "klar_for_signering"
    denied = [r for r in audit_rows(fresh_sandbox, case_id) if r["field"] == "signering"]
    assert denied and denied[-1]["username"] == "robot" and denied[-1]["new"].startswith("nekad")


def test_caseworker_signs_and_manual_handling_needs_a_reason(fresh_sandbox: Sandbox, page: Page) -> None:
    signed, manual = take_case(fresh_sandbox), take_case(fresh_sandbox)
    login(page, fresh_sandbox, CASEWORKER)
    page.on("dialog", lambda dialog: dialog.accept())
    frame = open_in_frame(page, fresh_sandbox, f"/arende/{signed}/beslut")
    frame.get_by_role("button", name="Parkera för signering").click()
    expect(frame.get_by_test_id("arende-status")).to_have_text("Klar för signering")
    frame.get_by_role("button", name="Signera beslut").click()
    expect(frame.get_by_test_id("arende-status")).to_have_text("Beslutad")
    assert case_state(fresh_sandbox, signed)["status"] == "beslutad"

    frame = open_in_frame(page, fresh_sandbox, f"/arende/{manual}/beslut")
    frame.get_by_role("button", name="Sätt till manuell handläggning").click()
    expect(frame.get_by_role("alert")).to_have_text("Ange en orsak till manuell handläggning.")
    frame.get_by_label("Orsak", exact=True).fill("Hushållet stämmer inte med folkbokföringen")
    frame.get_by_role("button", name="Sätt till manuell handläggning").click()
    expect(frame.get_by_test_id("arende-status")).to_have_text("Manuell handläggning")
    state = case_state(fresh_sandbox, manual)
    assert state["status"] == "manuell"
    assert state["manual_reason"] == "Hushållet stämmer inte med folkbokföringen"
    frame.get_by_role("link", name="Beräkning").click()
    expect(frame.get_by_label("Hyra/boendekostnad")).not_to_be_editable()


def test_stale_version_is_a_conflict_and_saves_nothing(fresh_sandbox: Sandbox, page: Page) -> None:
    case_id = take_case(fresh_sandbox)
    audit_before = audit_rows(fresh_sandbox, case_id)
    login(page, fresh_sandbox)
    frame = open_in_frame(page, fresh_sandbox, f"/arende/{case_id}/berakning")
    frame.get_by_label("Hyra/boendekostnad").fill("6 000")
    touched = https_post(fresh_sandbox.url(PORTAL, f"/_admin/cases/{case_id}/touch"), timeout=10)
    touched.raise_for_status()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        frame.get_by_role("button", name="Spara").click()
    assert answer.value.status == 409
    expect(frame.get_by_role("alert")).to_contain_text("Ärendet har ändrats av en annan användare")
    state = case_state(fresh_sandbox, case_id)
    assert state["calc"]["boende"] is None and state["version"] == touched.json()["version"]
    rows = audit_rows(fresh_sandbox, case_id)[len(audit_before):]
    assert [(r["username"], r["field"]) for r in rows] == [("handlaggare1", "version")]
    # The reloaded form carries the new version, so the caseworker's second try goes through.
    frame.get_by_label("Hyra/boendekostnad").fill("6 000")
    frame.get_by_role("button", name="Spara").click()
    expect(frame.get_by_text("Beräkningen är sparad.")).to_be_visible()
    assert case_state(fresh_sandbox, case_id)["calc"]["boende"] == 6000


def test_layout_v2_renames_and_moves_fields_and_breaks_the_park_button(fresh_sandbox: Sandbox, page: Page) -> None:
    case_id = take_case(fresh_sandbox)
    fresh_sandbox.set_knobs(PORTAL, layout="v2")
    login(page, fresh_sandbox)
    frame = open_in_frame(page, fresh_sandbox, f"/arende/{case_id}/berakning")
    expect(frame.get_by_role("link", name="Ekonomisk beräkning")).to_be_visible()
    expect(frame.get_by_label("Boendekostnad", exact=True)).to_have_attribute("name", "boende")
    expect(frame.get_by_label("El (hushåll)")).to_have_attribute("name", "hushallsel")
    expect(frame.get_by_label("Hyra/boendekostnad")).to_have_count(0)
    expect(frame.get_by_label("Hushållsel", exact=True)).to_have_count(0)
    # Incomes come before costs now.
    names = frame.locator("form input:not([type=hidden])").evaluate_all("els => els.map(e => e.name)")
    assert names.index("lon") < names.index("boende")
    frame.locator("input[name=boende]").fill("5 000")  # the name= contract still holds
    frame.get_by_role("button", name="Spara beräkning").click()
    expect(frame.get_by_label("Kostnader totalt")).to_have_text("5 000 kr")

    frame.get_by_role("link", name="Beslut och attest").click()
    expect(frame.get_by_role("link", name="Skicka för attest")).to_be_visible()
    content = page.frame(name="innehall").content()  # type: ignore[union-attr]
    assert "Parkera för signering" not in content and 'data-testid="parkera"' not in content
    expect(frame.get_by_role("button", name="Parkera för signering")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())
    frame.get_by_role("link", name="Skicka för attest").click()
    expect(frame.get_by_test_id("arende-status")).to_have_attribute("data-status", "klar_for_signering")
    assert case_state(fresh_sandbox, case_id)["status"] == "klar_for_signering"
