"""The console's pages in Chromium, served by uvicorn on a real SQLite store with two nights in it
(tests/console/seed.py): each page shows the store's figures, no page holds an unmasked personnummer, a viewer
sees no action form and no artefact, the live panel follows the night without a reload, and the artefacts of a
failed case are for the operations role only, never for a protected identity."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.store import SqliteStore, Store
from tests.console.conftest import ServedConsole
from tests.console.seed import PNRS, Seeded, seed

pytestmark = pytest.mark.browser

# 10 or 12 digits, with or without a dash or plus before the last four: a personnummer that was not masked.
UNMASKED_PNR = re.compile(r"(?<!\d)(?:\d{2})?\d{6}[-+]?\d{4}(?!\d)")


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    return seed(tmp_path)


@pytest.fixture
def served(seeded: Seeded, serve_console: Callable[..., ServedConsole]) -> ServedConsole:
    # The console's clock is the store's: the running night is an hour old, its live worker heard from just now.
    return serve_console(seeded.config, clock=seeded.clock)


@pytest.fixture
def store(seeded: Seeded) -> Iterator[Store]:
    with SqliteStore(seeded.store_path, clock=seeded.clock) as opened:
        yield opened


def assert_masked(html: str, where: str) -> None:
    found = UNMASKED_PNR.findall(html)
    assert not found, f"{where}: {found}"
    for pnr in PNRS.values():
        assert pnr not in html and pnr.replace("-", "") not in html, where


def action_forms(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [a for a in page.eval_on_selector_all("form[method=post]", "fs => fs.map(f => f.getAttribute('action'))")
            if a != "/logout"]


def cell(page, selector: str) -> str:  # type: ignore[no-untyped-def]
    return page.locator(selector).inner_text().strip()


def test_every_page_shows_the_stores_figures_masked_and_no_action_to_a_viewer(
        page, served: ServedConsole, seeded: Seeded, store: Store) -> None:  # type: ignore[no-untyped-def]
    served.login(page, "lasare")
    pages = ["/", "/workers", "/schedules", "/drift", "/automation", "/audit",
             f"/runs/{seeded.run1}", f"/runs/{seeded.run2}", *(f"/cases/{i}" for i in seeded.items.values())]
    for path in pages:
        response = page.goto(served.url + path)
        assert response is not None and response.status == 200, path
        html = page.content()
        assert_masked(html, path)
        assert action_forms(page) == [], path
        # Every POST form (the logout one) carries the CSRF token.
        assert page.locator("form[method=post]:not(:has(input[name=csrf_token]))").count() == 0, path

    page.goto(served.url + "/")
    for run_id in (seeded.run1, seeded.run2):
        summary = store.run_summary(run_id)
        row = f"tr[data-run='{run_id}']"
        assert cell(page, f"{row} td[data-col=total]") == str(summary.total)
        for outcome in ("auto", "partial", "manual"):
            assert cell(page, f"{row} td[data-col={outcome}]") == str(summary.by_outcome.get(outcome, 0))
        assert cell(page, f"{row} td[data-col=failed]") == str(summary.by_state.get("failed", 0))
        assert cell(page, f"{row} td[data-col=open]") == str(summary.open)
    assert cell(page, f"tr[data-run='{seeded.run1}'] td[data-col=throughput]") == "0.5"
    assert cell(page, f"tr[data-run='{seeded.run1}'] td[data-col=drift]") == "2"

    page.goto(served.url + f"/runs/{seeded.run1}")
    assert cell(page, "tr[data-case='EB-1'] td:nth-child(2)") == "19850312-XXXX"
    assert cell(page, "tr[data-case='EB-1'] td:nth-child(3)") == "Handläggare Ett"
    assert cell(page, "tr[data-case='EB-4'] td:nth-child(4)") == "Fel"

    page.goto(served.url + f"/cases/{seeded.item(seeded.run1, 'EB-4')}")
    assert cell(page, "[data-testid=error-code]") == "SELECTOR_MISSING"
    assert page.locator("[data-testid=runbook] h3").first.inner_text().startswith("SELECTOR_MISSING")
    assert page.locator("[data-testid=runbook] script").count() == 0
    assert page.locator("[data-testid=timeline] tbody tr").count() == 2

    page.goto(served.url + "/workers")
    assert cell(page, f"tr[data-worker='{seeded.dead_worker}'] td[data-col=condition]") == "LOST"
    assert cell(page, f"tr[data-worker='{seeded.live_worker}'] td[data-col=condition]") == "working"
    assert (cell(page, "[data-testid=alive]"), cell(page, "[data-testid=lost]")) == ("1", "1")

    page.goto(served.url + "/schedules")
    skipped = page.locator("[data-testid=skipped-fires]").inner_text()
    assert "not_leader" in skipped and "blackout" in skipped
    assert seeded.run2 in page.locator("[data-testid=fired]").inner_text()
    assert page.locator("[data-testid=next-fires-natt] tbody tr").count() == 5

    page.goto(served.url + "/drift")
    assert page.locator("[data-testid=broken] tbody tr").count() == 1
    assert "casebot record csn search" in page.locator("[data-testid=broken]").inner_text()
    assert page.locator("[data-testid=drifted] tbody tr").count() == 1

    page.goto(served.url + "/automation")
    december = "tr[data-month='2024-12']"
    assert cell(page, f"{december} td[data-col=full]").startswith("2 ")
    assert cell(page, f"{december} td[data-col=failed]").startswith("1 ")
    assert "20" in cell(page, "[data-testid=assumption]")


def test_the_live_panel_updates_without_a_reload(page, served: ServedConsole, seeded: Seeded,  # type: ignore[no-untyped-def]
                                                  store: Store) -> None:
    served.login(page, "lasare")
    page.goto(served.url + "/")
    page.wait_for_function("() => document.querySelectorAll('[data-live-workers] tr').length === 2")
    assert cell(page, "[data-testid=live-run]") == seeded.run2
    assert (cell(page, "[data-testid=live-finished]"), cell(page, "[data-testid=live-total]")) == ("1", "5")
    conditions = page.eval_on_selector_all("[data-live-workers] tr",
                                           "rows => rows.map(r => [r.cells[0].textContent, r.cells[2].textContent])")
    assert sorted(conditions) == sorted([[seeded.live_worker, "working"], [seeded.dead_worker, "LOST"]])
    page.evaluate("() => { window.__notReloaded = true; }")

    item = store.claim_next(seeded.run2, seeded.live_worker, 300)
    assert item is not None and item.case_id == "EB-8"
    page.wait_for_function("() => [...document.querySelectorAll('[data-live-workers] tr')]"
                           ".some(r => r.cells[3].textContent === 'EB-8')", timeout=10_000)
    store.complete(item, "partial", amount=100, pnr=PNRS["EB-8"])
    page.wait_for_function("() => document.querySelector('[data-testid=live-finished]').textContent === '2'",
                           timeout=10_000)
    assert cell(page, "[data-testid=live-partial]") == "1"
    assert page.evaluate("() => window.__notReloaded === true")  # the same document: updated in place


def test_artefacts_for_operations_only_and_never_for_a_protected_identity(
        page, served: ServedConsole, seeded: Seeded) -> None:  # type: ignore[no-untyped-def]
    failed = seeded.item(seeded.run1, "EB-4")
    protected = seeded.item(seeded.run1, "EB-3")
    shot = "EB-4-20241201T003000-casesystem.png"

    served.login(page, "lasare")
    page.goto(served.url + f"/cases/{failed}")
    assert page.locator("[data-testid=artefacts]").count() == 0
    assert page.locator("[data-testid=artefacts-note]").is_visible()
    assert page.request.get(served.url + f"/artefacts/{failed}/{shot}").status == 403
    page.context.clear_cookies()

    served.login(page, "drift")
    page.goto(served.url + f"/cases/{failed}")
    links = page.eval_on_selector_all("[data-artefact]", "as => as.map(a => a.dataset.artefact)")
    assert sorted(links) == ["EB-4-20241201T003000-casesystem-trace.zip", shot, "desktop-EB-4-20241201T003001.png"]
    response = page.request.get(served.url + f"/artefacts/{failed}/{shot}")
    assert response.status == 200 and response.body() == (seeded.artefacts / shot).read_bytes()
    # An operations user may retry the failed case (the form is there), and see the old screenshot's absence.
    assert action_forms(page) == ["/actions/retry"]
    assert page.request.get(served.url + f"/artefacts/{failed}/EB-4-20241101T003000-skv.png").status == 404

    page.goto(served.url + f"/cases/{protected}")
    assert page.locator("[data-testid=artefacts]").count() == 0
    assert "Skyddad identitet" in cell(page, "[data-testid=artefacts-note]")
    protected_shot = "EB-3-20241201T003000-casesystem.png"
    assert (seeded.artefacts / protected_shot).is_file()
    assert page.request.get(served.url + f"/artefacts/{protected}/{protected_shot}").status == 404


def test_each_role_sees_the_action_forms_it_may_use(page, served: ServedConsole,  # type: ignore[no-untyped-def]
                                                      seeded: Seeded) -> None:
    served.login(page, "admin")
    expected_admin = {"/": [], "/schedules": [], "/drift": ["/actions/preflight"],
                      f"/cases/{seeded.item(seeded.run1, 'EB-5')}": []}
    for path, forms in expected_admin.items():
        page.goto(served.url + path)
        assert action_forms(page) == forms, path
    page.context.clear_cookies()
    served.login(page, "drift")
    expected_operations = {"/": ["/actions/start-night"], "/schedules": ["/actions/pause"],
                           "/drift": ["/actions/preflight"], f"/cases/{seeded.item(seeded.run1, 'EB-5')}":
                           ["/actions/retry"], f"/cases/{seeded.item(seeded.run1, 'EB-1')}": []}
    for path, forms in expected_operations.items():
        page.goto(served.url + path)
        assert action_forms(page) == forms, path
        assert page.locator("form[method=post]:not(:has(input[name=csrf_token]))").count() == 0, path
