"""Anchor strategies: an element found by the visible text next to it, on a screen like an older case system's
(labels in neighbouring cells, no `for`, generated names that change on every submit), on a real page."""

from __future__ import annotations

import pytest

from bot.browser.worker import WorkerBrowser
from bot.selectors.candidates import candidates, fingerprint_of
from bot.selectors.model import Anchor, Element, Fingerprint, Strategy
from bot.selectors.page_js import DESCRIBE_JS
from bot.selectors.resolve import ElementNotFound, resolve
from bot.selectors.write import strategy_data

# Every name is generated (as such systems do on each render); nothing is labelled for a screen reader.
LEGACY = """
<h3>Beräkning</h3>
<table id="{n}0">
  <tr><td>Hyra</td><td><input name="f_{n}1"></td></tr>
  <tr><td><span>Hushållsel</span></td><td><input name="f_{n}2"></td></tr>
  <tr><td>Fackavgift</td><td><select name="f_{n}3"><option>0</option></select></td></tr>
</table>
<div><label>Arbetsresor</label><input name="f_{n}4"></div>
<table>
  <tr><th>Kostnad</th><th>Ansökt</th><th>Beviljat</th></tr>
  <tr><td>Boende</td><td><input name="a_{n}5"></td><td><input name="b_{n}6"></td></tr>
  <tr><td>El</td><td><input name="a_{n}7"></td><td><input name="b_{n}8"></td></tr>
</table>
<table>
  <tr><td>Förnamn</td><td>It's "här"</td></tr>
  <tr><td><input name="x_{n}9"></td><td><input name="x_{n}10"></td></tr>
</table>
<p><span>Hyra</span> ska inte förväxlas med tabellens.</p>
"""


async def _legacy(worker: WorkerBrowser, render: int = 1):  # type: ignore[no-untyped-def]
    page = await worker.page("test")
    await page.set_content(LEGACY.replace("{n}", str(4711 * render)))
    return page


def one(strategy: Strategy) -> Element:
    return Element(strategies=[strategy])


async def _name_of(page, element: Element) -> str:  # type: ignore[no-untyped-def]
    found = await resolve(page, "calc", "x", element, timeout_s=0.2, fingerprint=False)
    return str(await found.locator.get_attribute("name"))


@pytest.mark.parametrize(("anchor", "name"), [
    (Anchor(text="Hyra"), "f_47111"),                      # the cell to its left
    (Anchor(text="Hushållsel"), "f_47112"),                # the text in a span inside the cell
    (Anchor(text="Fackavgift"), "f_47113"),                # a select, not only inputs
    (Anchor(text="Arbetsresor"), "f_47114"),               # a label element with no `for`, a preceding sibling
    (Anchor(text="Beviljat", relation="column", row="El"), "b_47118"),  # column header + row key
    (Anchor(text="Ansökt", relation="column", row="Boende"), "a_47115"),
    (Anchor(text="Förnamn", relation="above"), "x_47119"),  # the label in the cell above
    (Anchor(text='It\'s "här"', relation="above"), "x_471110"),  # both quote kinds in the text
])
async def test_anchor_finds_the_field_by_the_text_beside_it(worker: WorkerBrowser, anchor: Anchor,
                                                            name: str) -> None:
    page = await _legacy(worker)
    assert await _name_of(page, one(Strategy(anchor=anchor))) == name


async def test_what_an_admin_writes_first_finds_nothing_here_and_the_anchor_does(worker: WorkerBrowser) -> None:
    page = await _legacy(worker)
    for plain in (Strategy(label="Arbetsresor"), Strategy(role="textbox", name="Arbetsresor")):
        with pytest.raises(ElementNotFound, match="→ 0"):
            await resolve(page, "calc", "arbetsresor", one(plain), timeout_s=0.2, fingerprint=False)
    element = Element(strategies=[Strategy(label="Arbetsresor"), Strategy(anchor=Anchor(text="Arbetsresor"))])
    found = await resolve(page, "calc", "arbetsresor", element, timeout_s=0.2, fingerprint=False)
    assert found.describe() == "anchor left of 'Arbetsresor'" and found.strategy_index == 1


async def test_the_anchor_survives_regenerated_names_and_is_re_resolved_on_use(worker: WorkerBrowser) -> None:
    page = await _legacy(worker, render=1)
    found = await resolve(page, "calc", "hyra", one(Strategy(anchor=Anchor(text="Hyra"))), timeout_s=0.2,
                          fingerprint=False)
    await found.locator.fill("5 200")
    await page.set_content(LEGACY.replace("{n}", "999"))  # the form saved in place: every name is new
    assert await found.locator.get_attribute("name") == "f_9991"  # the same locator, the new render's field


async def test_an_anchor_text_shown_twice_is_ambiguous_not_guessed(worker: WorkerBrowser) -> None:
    page = await _legacy(worker)
    await page.evaluate("document.body.insertAdjacentHTML('beforeend', "
                        "'<table><tr><td>Hyra</td><td><input name=other></td></tr></table>')")
    with pytest.raises(ElementNotFound, match=r"anchor left of 'Hyra' → 2"):
        await resolve(page, "calc", "hyra", one(Strategy(anchor=Anchor(text="Hyra"))), timeout_s=0.2,
                      fingerprint=False)


def test_the_relation_is_stated_and_checked() -> None:
    with pytest.raises(ValueError, match="relation 'column' needs a 'row'"):
        Anchor(text="Belopp", relation="column")
    with pytest.raises(ValueError, match="'row' goes with relation 'column'"):
        Anchor(text="Hyra", row="El")
    with pytest.raises(ValueError, match="tag names only"):
        Anchor(text="Hyra", target=("input[name=x]",))
    with pytest.raises(ValueError, match="exactly one of"):
        Strategy(anchor=Anchor(text="Hyra"), css="input")


async def test_the_recorder_proposes_anchors_for_an_unlabelled_field_and_writes_them_plainly(
        worker: WorkerBrowser) -> None:
    page = await _legacy(worker)
    field = page.locator("input[name=b_47118]")  # Beviljat for El: no label, a generated name
    desc = await field.evaluate(DESCRIBE_JS)
    # nothing readable to its left or above (input cells); its column header and its row's first cell
    assert desc["label"] is None and desc["beside"] == {"column": "Beviljat", "row": "El"}
    proposed = [s for s in candidates(desc) if s.anchor is not None]
    assert Strategy(anchor=Anchor(text="Beviljat", relation="column", row="El")) in proposed
    for strategy in proposed:  # each proposal the recorder would keep finds exactly the clicked field
        found = await resolve(page, "calc", "x", one(strategy), timeout_s=0.2, fingerprint=False)
        assert await found.locator.get_attribute("name") == "b_47118"
    # The generated name is never proposed (it changes with the next render), nor kept in the fingerprint.
    assert not [s for s in candidates(desc) if s.css is not None and "b_47118" in s.css]
    assert "name" not in fingerprint_of(desc).attributes
    # written as an admin would type it: the default target (a form field) is left out
    assert strategy_data(proposed[0]) == {"anchor": {"text": "Beviljat", "relation": "column", "row": "El"}}


async def test_a_fingerprint_heals_by_the_text_beside_and_by_any_attribute_it_carries(worker: WorkerBrowser) -> None:
    # Recorded with an anchor the vendor then broke (the cell now reads "Hyra (kr)"); the fingerprint still knows
    # the row and column texts and a portal's own stable attribute.
    page = await worker.page("test")
    await page.set_content("""<table><tr><th>Post</th><th>Belopp</th></tr>
      <tr><td>Hyra (kr)</td><td><input name="g1" data-kod="boende"></td></tr>
      <tr><td>El</td><td><input name="g2" data-kod="hushallsel"></td></tr></table>""")
    broken = [Strategy(anchor=Anchor(text="Hyra"))]
    by_beside = Element(strategies=broken, fingerprint=Fingerprint(tag="input", beside={"column": "Belopp",
                                                                                       "row": "El"}))
    found = await resolve(page, "calc", "el", by_beside, timeout_s=0.2)
    assert found.strategy is None and await found.locator.get_attribute("name") == "g2"
    by_custom = Element(strategies=broken, fingerprint=Fingerprint(tag="input", attributes={"data-kod": "boende"}))
    found = await resolve(page, "calc", "hyra", by_custom, timeout_s=0.2)
    assert await found.locator.get_attribute("name") == "g1"


async def test_a_portals_own_stable_attribute_is_proposed_right_after_test_ids(worker: WorkerBrowser) -> None:
    page = await worker.page("test")
    await page.set_content('<table><tr><td>Hyra</td><td><input name="f_88" data-falt="boende"></td></tr></table>')
    field = page.locator("input")
    plain = await field.evaluate(DESCRIBE_JS)
    assert "data-falt" not in plain["attributes"]  # not a generic stable attribute
    await page.evaluate("window.__casebotStable = ['data-falt']")  # what the recorder sets from the selector file
    desc = await field.evaluate(DESCRIBE_JS)
    assert desc["attributes"]["data-falt"] == "boende"
    proposed = candidates(desc, ["data-falt"])
    assert proposed[0] == Strategy(css='input[data-falt="boende"]')  # before the anchor and the generated name
    assert proposed.index(Strategy(anchor=Anchor(text="Hyra"))) < proposed.index(Strategy(css='input[name="f_88"]'))


def test_stable_attributes_are_attribute_names() -> None:
    from bot.selectors.model import SelectorFile

    screens = {"s": {"elements": {"e": {"strategies": [{"css": "input"}]}}}}
    assert SelectorFile(portal="x", stable_attributes=["data-falt"], screens=screens).stable_attributes == [
        "data-falt"]
    with pytest.raises(ValueError, match="not attribute names"):
        SelectorFile(portal="x", stable_attributes=["input[name]"], screens=screens)
