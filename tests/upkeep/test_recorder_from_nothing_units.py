"""The recorder's choices that need no browser: what it asks for on a screen, and what it says a re-recorded
fingerprint lost."""

from __future__ import annotations

from bot.drivers.casesystem import CaseSystem
from bot.paths import SELECTORS_DIR
from bot.selectors.load import load_selector_file
from bot.selectors.model import Fingerprint, SelectorFile
from bot.upkeep.record import RecordingResult, asked_on, weakened

EMPTY = SelectorFile.model_construct(portal="casesystem", layout="v3", recorded=None, stable_attributes=[],
                                     screens={})


def test_from_nothing_it_asks_for_what_the_driver_needs_with_the_columns_to_point_at() -> None:
    asked = {a.name: a for a in asked_on("inbox", EMPTY, CaseSystem.needs)}
    assert list(asked) == ["table", "next_page"]
    assert asked["table"].old is None and asked["table"].columns == {
        "case_id": [], "pnr": [], "type": [], "period": [], "status": []}
    assert asked["next_page"].conditional and not asked["table"].conditional
    assert "inkorgens tabell" in asked["table"].what


def test_on_an_existing_file_it_asks_for_the_files_elements_the_drivers_and_a_scripts_extra_ones() -> None:
    current = load_selector_file(SELECTORS_DIR / "casesystem.yaml")
    asked = asked_on("calc_form", current, CaseSystem.needs, extra=["message"])
    names = [a.name for a in asked]
    assert names[0] == "norm_personliga" and names[-1] == "message" and names.count("save") == 1
    by_name = {a.name: a for a in asked}
    assert by_name["boende"].old == current.element("calc_form", "boende")
    assert by_name["message"].old is None and by_name["message"].what == "message"
    # The file's own columns keys (what v1 shows) are offered as they are, first key first.
    table = next(a for a in asked_on("inbox", current, CaseSystem.needs) if a.name == "table")
    assert table.columns["case_id"] == ["Ärende"]


def test_a_weaker_fingerprint_is_named_trait_by_trait() -> None:
    hand_made = Fingerprint(tag="input", label="Hyra", attributes={"name": "boende", "data-falt": "hyra"},
                            beside={"left": "Hyra"})
    recorded = Fingerprint(tag="input", near="Beräkning", attributes={"name": "f_88"}, beside={"left": "Hyra"})
    assert weakened(hand_made, recorded) == ["label='Hyra'", "name='boende'", "data-falt='hyra'"]
    assert weakened(recorded, recorded) == []


def test_the_warnings_come_before_anything_is_saved_and_say_what_the_night_needs() -> None:
    from pathlib import Path

    result = RecordingResult("casesystem", Path("x.yaml"), "", "portal: x", Path("r.json"),
                             weakened={"calc_form/boende": ["label='Hyra'"]},
                             not_recorded=["login/error", "inbox/next_page"], missing=["inbox/next_page"])
    assert result.warnings() == [
        "fingerprint of calc_form/boende is weaker than before: loses label='Hyra'",
        "not recorded (it did not show or was skipped): login/error",
        "still missing, the night stops at it until it is recorded: inbox/next_page",
    ]
