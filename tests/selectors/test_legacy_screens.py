"""An older module's screens on a real page: data tables whose header is their first row of plain cells, value
cells labelled by the cell beside them, all of it inside layout tables; and controls that save in place, whose
outcome the selector file declares (`bot.drivers.base.Driver.submit`)."""

from __future__ import annotations

import pytest

from bot.browser.worker import WorkerBrowser
from bot.drivers.base import Driver, OutcomeUnknown, PortalAccount
from bot.errors import ErrorCode, SystemException
from bot.selectors.candidates import candidates, fingerprint_of
from bot.selectors.model import Anchor, Element, Outcome, SelectorFile, Strategy
from bot.selectors.page_js import DESCRIBE_JS, RECORDS_JS
from bot.selectors.resolve import resolve

# The whole page is a layout table, as such modules are; the inbox is a table in one of its cells.
LEGACY = """
<table width="100%"><tr><td><b>Inkorg</b></td></tr><tr><td>
  <table>
    <tr><td>Status:</td><td>Inkommen</td></tr>
    <tr><td>Period:</td><td>2026-12</td></tr>
  </table>
  <table border="1">
    <tr><td><b>Ärende</b></td><td><b>Personnummer</b></td><td><b>Status</b></td></tr>
    <tr><td>EB-2026-00001</td><td>19900101-0000</td><td>Inkommen</td></tr>
    <tr><td>EB-2026-00002</td><td>19800101-0000</td><td>Inkommen</td></tr>
  </table>
</td></tr></table>
"""


def one(strategy: Strategy) -> Element:
    return Element(strategies=[strategy])


async def test_a_table_without_thead_is_read_by_its_first_row_and_found_by_a_header_only_it_has(
        worker: WorkerBrowser) -> None:
    page = await worker.page("test")
    await page.set_content(LEGACY)
    table = page.locator("table[border]")
    desc = await table.evaluate(DESCRIBE_JS)
    assert desc["headers"] == ["Ärende", "Personnummer", "Status"]
    proposed = candidates(desc)
    assert proposed[0] == Strategy(anchor=Anchor(text="Ärende", relation="header"))
    found = await resolve(page, "inbox", "table", one(proposed[0]), timeout_s=0.2, fingerprint=False)
    assert await found.locator.evaluate("el => el.hasAttribute('border')")  # not the layout table around it
    read = await found.locator.evaluate(RECORDS_JS)
    assert read["keys"] == ["Ärende", "Personnummer", "Status"]
    assert [r["Ärende"] for r in read["records"]] == ["EB-2026-00001", "EB-2026-00002"]
    # A click on a header cell names the column by its text (the recorder's column pick).
    key = await page.locator("table[border] td", has_text="Personnummer").evaluate(DESCRIBE_JS)
    assert key["key"] == "Personnummer"
    value = await page.locator("table[border] td", has_text="EB-2026-00002").evaluate(DESCRIBE_JS)
    assert value["key"] == "Ärende"


async def test_a_value_cell_is_proposed_by_the_label_cell_beside_it_never_by_its_own_text(
        worker: WorkerBrowser) -> None:
    page = await worker.page("test")
    await page.set_content(LEGACY)
    cell = page.locator("td:text-is('Inkommen')").first
    desc = await cell.evaluate(DESCRIBE_JS)
    proposed = candidates(desc)
    assert proposed[0] == Strategy(anchor=Anchor(text="Status:", target=("td",)))
    assert all("Inkommen" not in s.describe() for s in proposed)  # the value is data, not a selector
    found = await resolve(page, "case", "status", one(proposed[0]), timeout_s=0.2, fingerprint=False)
    assert await found.locator.inner_text() == "Inkommen"
    # A label holding figures is data too ("2026-12" beside a cell): never proposed as an anchor.
    period = await page.locator("td:text-is('2026-12')").evaluate(DESCRIBE_JS)
    assert candidates(period)[0] == Strategy(anchor=Anchor(text="Period:", target=("td",)))
    assert desc["beside"]["left"] == "Status:"
    # The cell above a value cell is another value (data): never an anchor, never a fingerprint trait.
    assert period["beside"].get("above") == "Inkommen"
    assert all(s.anchor is None or s.anchor.relation == "left" for s in candidates(period))
    assert fingerprint_of(period).beside == {"left": "Period:"}


# A form that saves in place: the message cell is always there, emptied when a save starts, then filled.
IN_PLACE = """
<table>
  <tr><td>Hyra</td><td><input name="f_{n}"></td></tr>
  <tr><td>Meddelande:</td><td id="m">Sparat 10:00:00.</td></tr>
</table>
<input type="button" value="Spara" onclick="spara()">
<input type="button" value="Tyst" onclick="">
<script>
  let saves = 0;
  function spara() {
    const m = document.getElementById("m");
    m.textContent = "";
    saves += 1;
    const v = document.querySelector("input[name^=f_]").value;
    setTimeout(() => { m.textContent = v === "x" ? "Beräkningen sparades inte: fel i fältet Hyra."
                                                 : "Sparat 10:00:0" + saves + "."; }, 150);
  }
</script>
"""


def _driver(page, outcome: Outcome | None) -> Driver:  # type: ignore[no-untyped-def]
    selectors = SelectorFile(portal="gamla", layout="v3", screens={"calc_form": {"elements": {
        "boende": {"strategies": [{"anchor": {"text": "Hyra"}}]},
        "message": {"strategies": [{"anchor": {"text": "Meddelande:", "target": ["td"]}}]},
        "save": {"strategies": [{"role": "button", "name": "Spara"}],
                 "outcome": outcome.model_dump(exclude_defaults=True) if outcome else None},
        "silent": {"strategies": [{"role": "button", "name": "Tyst"}],
                   "outcome": outcome.model_dump(exclude_defaults=True) if outcome else None},
    }}})
    return Driver(portal="gamla", base_url="http://127.0.0.1:9", page=page, selectors=selectors,
                  account=PortalAccount("robot", "x"), timeout_s=1.0, case_id="EB-1", step="fill")


async def test_a_save_in_place_waits_for_its_declared_outcome_and_tells_a_refusal_from_a_save(
        worker: WorkerBrowser) -> None:
    page = await worker.page("test")
    await page.set_content(IN_PLACE.replace("{n}", "1"))
    driver = _driver(page, Outcome(changes="message", ok_text="Sparat"))
    await (await driver.el("calc_form", "boende")).fill("5 200")
    answer = await driver.submit("calc_form", "save", "save calculation EB-1")
    # The text before the click said "Sparat" too: only a changed, non-empty text counts as the answer.
    assert answer.message == "Sparat 10:00:01." and not answer.refused and answer.status == 200
    await (await driver.el("calc_form", "boende")).fill("x")
    refused = await driver.submit("calc_form", "save", "save calculation EB-1")
    assert refused.refused and refused.status == 422 and "sparades inte" in (refused.message or "")


async def test_a_write_that_gets_no_answer_is_outcome_unknown_and_a_search_is_only_slow(
        worker: WorkerBrowser) -> None:
    page = await worker.page("test")
    await page.set_content(IN_PLACE.replace("{n}", "1"))
    in_place = _driver(page, Outcome(changes="message"))
    with pytest.raises(OutcomeUnknown) as caught:
        await in_place.submit("calc_form", "silent", "save calculation EB-1")
    error = caught.value
    assert error.code is ErrorCode.OUTCOME_UNKNOWN and error.retryable
    assert error.case_id == "EB-1" and error.step == "fill" and "'message'" not in str(error)
    assert "waited for the answer to change" in str(error)
    navigating = _driver(page, None)  # no outcome declared: the page it leads to, which never comes
    with pytest.raises(OutcomeUnknown, match="waited for the page it leads to"):
        await navigating.submit("calc_form", "silent", "save calculation EB-1")
    with pytest.raises(SystemException) as slow:
        await navigating.submit("calc_form", "silent", "the search", writes=False)
    assert slow.value.code is ErrorCode.PORTAL_SLOW


async def test_after_an_unknown_outcome_the_system_is_read_before_anything_is_sent_again(
        worker: WorkerBrowser) -> None:
    page = await worker.page("test")
    await page.set_content(IN_PLACE.replace("{n}", "1"))
    driver = _driver(page, Outcome(changes="message"))
    unknown = OutcomeUnknown("gamla: no answer to save calculation EB-1", case_id="EB-1", step="fill")

    async def shows_it() -> bool:
        return True

    async def does_not() -> bool:
        return False

    async def cannot_tell() -> bool:
        raise driver.fail(ErrorCode.PORTAL_DOWN, "cannot reach /arende/EB-1/berakning")

    await driver.confirm_write(unknown, shows_it, "the calculation")  # taken: nothing raised, nothing resent
    with pytest.raises(SystemException) as not_taken:
        await driver.confirm_write(unknown, does_not, "the calculation")
    assert not_taken.value.code is ErrorCode.PORTAL_SLOW and not_taken.value.retryable
    assert "safe to send again" in str(not_taken.value)
    with pytest.raises(OutcomeUnknown, match="reading back failed too: gamla: cannot reach"):
        await driver.confirm_write(unknown, cannot_tell, "the calculation")


async def test_a_hidden_heading_is_not_what_a_field_is_near(worker: WorkerBrowser) -> None:
    # The third-party form's fingerprints all carried the same hidden heading as their `near` text.
    page = await worker.page("test")
    await page.set_content('<h2>Beräkning</h2><h3 style="display:none">Dold rubrik</h3>'
                           '<table><tr><td>Hyra</td><td><input name="f_1a2b3c4d5e"></td></tr></table>')
    desc = await page.locator("input").evaluate(DESCRIBE_JS)
    assert desc["near"] == "Beräkning"
    assert fingerprint_of(desc).attributes == {}  # the generated name is not a trait worth keeping
