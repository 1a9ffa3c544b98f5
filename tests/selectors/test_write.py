"""Writing re-recorded elements into a selector file: comments kept, only the element changed, validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.paths import SELECTORS_DIR
from bot.selectors.load import SelectorFileError, load_selector_file
from bot.selectors.model import Anchor, Element, Fingerprint, Outcome, Screen, Strategy
from bot.selectors.write import new_file_text, save_atomically, unified_diff, updated_text, validate_text


def test_a_rerecorded_element_replaces_only_itself_and_keeps_the_admins_comments(tmp_path: Path) -> None:
    path = SELECTORS_DIR / "csn.yaml"
    old = path.read_text(encoding="utf-8")
    current = load_selector_file(path)
    element = current.element("result", "download").model_copy(update={
        "strategies": [Strategy(role="button", name='Exportera "CSV"'), Strategy(css="form[action$='.csv'] button")],
        "fingerprint": Fingerprint(tag="button", role="button", name='Exportera "CSV"')})
    new = updated_text(old, {("result", "download"): element}, {}, layout="v2",
                       recorded={"at": "2026-11-25", "by": "admin"})
    assert [line for line in old.splitlines() if line.startswith("#")] == \
        [line for line in new.splitlines() if line.startswith("#")]
    diff = unified_diff(old, new, path)
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert all("download" not in line for line in changed)  # the key stays; its content changes
    assert len(changed) <= 10, diff
    saved = tmp_path / "csn.yaml"
    save_atomically(saved, new)
    loaded = load_selector_file(saved)
    assert loaded.layout == "v2" and loaded.recorded is not None and loaded.recorded.at == "2026-11-25"
    assert loaded.element("result", "download").strategies[0].name == 'Exportera "CSV"'
    assert loaded.element("result", "notice") == current.element("result", "notice")


def test_text_that_would_not_load_is_refused_with_file_and_line() -> None:
    bad = (SELECTORS_DIR / "csn.yaml").read_text(encoding="utf-8").replace("{role: alert}", "{role: alert, x: 1}", 1)
    with pytest.raises(SelectorFileError) as caught:
        validate_text(bad, Path("csn.yaml"))
    assert "csn.yaml:" in str(caught.value) and "x" in str(caught.value)


def test_an_element_recorded_again_unchanged_leaves_its_lines_as_they_were() -> None:
    # The hand-written file has block-style fingerprints; writing the same element back must not restyle them.
    path = SELECTORS_DIR / "casesystem.yaml"
    old = path.read_text(encoding="utf-8")
    current = load_selector_file(path)
    same = {("login", "username"): current.element("login", "username"),
            ("calc_form", "boende"): current.element("calc_form", "boende")}
    new = updated_text(old, same, {}, layout=None, recorded={"at": "2026-12-06", "by": "admin"})
    changed = [line for line in unified_diff(old, new, path).splitlines()
               if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed and all("recorded" in line or "at:" in line or "by:" in line for line in changed), changed


def test_new_screens_and_elements_are_added_and_a_file_can_start_from_nothing(tmp_path: Path) -> None:
    start = new_file_text("gamla", ["data-falt"])
    username = Element(strategies=[Strategy(anchor=Anchor(text="Användarnamn:"))],
                       fingerprint=Fingerprint(tag="input", beside={"left": "Användarnamn:"}))
    save = Element(strategies=[Strategy(role="button", name="Spara")],
                   outcome=Outcome(changes="message", ok_text="Sparat"))
    message = Element(strategies=[Strategy(anchor=Anchor(text="Meddelande:", target=("td",)))],
                      description="the message cell", conditional=False)
    table = Element(strategies=[Strategy(anchor=Anchor(text="Ärende", relation="header"))],
                    columns={"case_id": ["Ärende"]}, conditional=True)
    text = updated_text(start, {("login", "username"): username, ("calc_form", "save"): save,
                                ("calc_form", "message"): message, ("inbox", "table"): table}, {},
                        layout="v3", recorded={"at": "2026-12-06", "by": "admin"})
    made = validate_text(text, tmp_path / "gamla.yaml")
    assert made.portal == "gamla" and made.layout == "v3" and made.stable_attributes == ["data-falt"]
    assert list(made.screens) == ["login", "calc_form", "inbox"]
    assert made.element("calc_form", "save").outcome == Outcome(changes="message", ok_text="Sparat")
    assert made.element("inbox", "table").conditional and made.element("inbox", "table").columns == {
        "case_id": ["Ärende"]}
    assert text.index("layout: v3") < text.index("screens:")  # the metadata on top, as in the hand-made files

    # Adding to an existing file: the other screens' lines stay as they were.
    path = SELECTORS_DIR / "csn.yaml"
    old = path.read_text(encoding="utf-8")
    added = updated_text(old, {("archive", "table"): table}, {}, layout=None,
                         recorded={"at": "2026-12-06", "by": "admin"})
    removed = [line for line in unified_diff(old, added, path).splitlines()
               if line.startswith("-") and not line.startswith("---")]
    assert all("recorded" in line or "at:" in line or "by:" in line for line in removed), removed
    assert validate_text(added, tmp_path / "csn.yaml").element("archive", "table") == table


def test_an_outcome_names_an_element_of_its_own_screen() -> None:
    with pytest.raises(ValueError, match="exactly one of navigation"):
        Outcome(navigation=True, changes="message")
    with pytest.raises(ValueError, match="'ok_text' goes with"):
        Outcome(navigation=True, ok_text="Sparat")
    with pytest.raises(ValueError, match="not an element of this screen"):
        Screen(elements={"save": Element(strategies=[Strategy(css="input")], outcome=Outcome(changes="message"))})
