"""Which strategies the recorder proposes for a click, and what it keeps of it (pure; no browser)."""

from __future__ import annotations

from bot.selectors.candidates import candidates, fingerprint_of, frame_candidates, is_stable_id
from bot.selectors.model import Strategy


def test_a_labelled_field_is_found_by_its_label_before_its_form_name() -> None:
    desc = {"tag": "input", "role": "textbox", "name": "Hyra", "label": "Hyra", "id": "f_1a2b3c4d",
            "attributes": {"name": "boende", "type": "text"}}
    found = candidates(desc)
    assert found[:3] == [Strategy(role="textbox", name="Hyra"), Strategy(label="Hyra"),
                         Strategy(css='input[name="boende"]')]
    assert not any(s.css and "#" in s.css for s in found), "a generated id must never be proposed"


def test_generated_ids_are_told_from_stable_ones() -> None:
    for generated in ("f_1a2b3c4d", "ember1234", "react-select-3-input", "mui-12", "row4711"):
        assert not is_stable_id(generated), generated
    for stable in ("hyra", "main-menu", "sok-knapp"):
        assert is_stable_id(stable), stable


def test_a_value_cell_is_known_by_the_row_header_beside_it() -> None:
    desc = {"tag": "td", "role": "cell", "label": 'Program "A" / insats', "attributes": {}}
    assert candidates(desc) == [Strategy(css='th:text-is("Program \\"A\\" / insats") + td')]
    dd = {"tag": "dd", "role": "definition", "label": "Inskriven från", "attributes": {}}
    assert candidates(dd) == [Strategy(css='dt:text-is("Inskriven från") + dd')]


def test_a_name_with_figures_becomes_a_prefix_and_never_lands_in_a_fingerprint() -> None:
    desc = {"tag": "table", "role": "table", "name": "Utbetalningar 2024-10 – 2024-12",
            "near": "Studerande 19860413-9876", "headers": ["Månad", "Belopp"], "attributes": {}}
    found = candidates(desc)
    assert found[0] == Strategy(role="table", name="Utbetalningar ", exact=False)
    assert Strategy(css='table:has(th:text-is("Månad"))') in found
    fingerprint = fingerprint_of(desc)
    assert fingerprint.name is None and fingerprint.near is None  # data, and a personnummer: not kept
    assert fingerprint.headers == ["Månad", "Belopp"]


def test_a_link_is_found_by_role_and_name_then_by_its_address() -> None:
    desc = {"tag": "a", "role": "link", "name": "Ladda ner", "attributes": {"href": "/fil.csv"}}
    assert candidates(desc) == [Strategy(role="link", name="Ladda ner"), Strategy(css='a[href*="/fil.csv"]')]


def test_a_frame_is_pointed_at_by_title_or_address_never_by_a_random_name() -> None:
    found = frame_candidates({"title": "Status", "src": "/status-frame", "attributes": {"name": "fr_9f8e7d6c"}})
    assert found == [Strategy(css='iframe[title="Status"]'), Strategy(css='iframe[src*="/status-frame"]')]
