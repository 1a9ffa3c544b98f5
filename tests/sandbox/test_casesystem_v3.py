"""Layout v3 of the case system, an older-generation screen module (docs/sandbox-casesystem.md "Layout v3"): layout
tables with every label in the cell left of its value, no label elements, ids, data-/aria-/role attributes,
placeholders, th/thead or fieldsets; input names generated afresh on every render; the calculation saved in place
(JSON answer to `X-Spara-Pa-Plats: 1`). Over plain HTTP against its own sandbox, plus one test in Chromium."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from portals.casesystem.fields import BY_KEY, FIELD_KEYS, TOTAL_KEYS, TOTAL_LABELS, compute_totals
from tests.sandbox.casesystem_helpers import PORTAL, ROBOT
from tests.sandbox_proc import Sandbox, https_get, https_post, shared_client, start_sandbox

CASES, SEED, PERIOD = 14, 11, "2026-03"
GENERATED = re.compile(r"^f[0-9a-f]{10}$")
SAVED = re.compile(r"^Sparat \d\d:\d\d:\d\d\.$")
IN_PLACE = {"X-Spara-Pa-Plats": "1"}
TABS = ("sokande", "ansokan", "berakning", "historik", "journal", "beslut")
FORBIDDEN_TAGS = {"label", "th", "thead", "fieldset", "legend", "h1", "h2", "h3", "h4", "h5", "h6"}
FORBIDDEN_ATTRS = {"id", "placeholder", "role"}


@dataclass
class Cell:
    text: str
    controls: list[dict[str, str]] = field(default_factory=list)  # inputs, textareas, selects (their attributes)


class Screen(HTMLParser):
    """A v3 page read as a reader without ids would: its tables' rows of cells, every form control, the confirm()
    texts, and what in it breaks the v3 rules."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[Cell]]] = []
        self.controls: list[dict[str, str]] = []
        self.confirms: list[str] = []
        self.violations: list[str] = []
        self._open: list[list[list[Cell]]] = []  # nested tables
        self._cells: list[Cell] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag in FORBIDDEN_TAGS:
            self.violations.append(f"<{tag}>")
        self.violations += [f"<{tag} {k}>" for k in attr
                            if k in FORBIDDEN_ATTRS or k.startswith(("aria-", "data-"))]
        confirm = re.fullmatch(r"return confirm\((.*)\);", attr.get("onsubmit", ""))
        if confirm:
            self.confirms.append(json.loads(confirm[1]))
        if tag == "table":
            self._open.append([])
            self.tables.append(self._open[-1])
        elif tag == "tr" and self._open:
            self._open[-1].append([])
        elif tag == "td" and self._open:
            self._cells.append(Cell(""))
            self._open[-1][-1].append(self._cells[-1])
        elif tag in ("input", "textarea", "select"):
            control = {"tag": tag, **attr}
            self.controls.append(control)
            if self._cells:
                self._cells[-1].controls.append(control)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cells:
            cell = self._cells.pop()
            cell.text = " ".join(cell.text.split())
        elif tag == "table" and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._cells:
            self._cells[-1].text += data

    def value_right_of(self, label: str) -> Cell:
        """The cell right of the one label cell whose whole text is `label` (fails unless exactly one)."""
        found = [row[i + 1] for table in self.tables for row in table for i, cell in enumerate(row[:-1])
                 if cell.text == label]
        assert len(found) == 1, f"{label!r}: {len(found)} label cells"
        return found[0]

    def name_right_of(self, label: str) -> str:
        """The name of the one control in a cell right of a label cell `label` (the decision tab's summary repeats
        "Behöver kompletteras" as a printed value, as v1 does: the control tells them apart)."""
        controls = [control for table in self.tables for row in table for i, cell in enumerate(row[:-1])
                    if cell.text == label for control in row[i + 1].controls]
        assert len(controls) == 1, f"{label!r}: {len(controls)} controls"
        return controls[0]["name"]

    def hidden(self, name: str) -> str:
        return next(c.get("value", "") for c in self.controls if c.get("type") == "hidden" and c["name"] == name)

    def table_with_header(self, first: str) -> list[list[str]]:
        """The rows (cell texts) of the data table whose header row starts with `first`."""
        for table in self.tables:
            if table and table[0] and table[0][0].text == first:
                return [[c.text for c in row] for row in table]
        raise AssertionError(f"no table with the header {first!r}")


def parse(html: str) -> Screen:
    screen = Screen()
    screen.feed(html)
    screen.close()
    return screen


def kr(amount: int) -> str:
    return f"{amount:,}".replace(",", " ")


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = start_sandbox(Path(tmp_path_factory.mktemp("casesystem-v3")), CASES, SEED, PERIOD)
    try:
        sandbox.set_knobs(PORTAL, layout="v3")
        yield sandbox
    finally:
        sandbox.stop()


def _login(box: Sandbox, client: httpx.Client, user: tuple[str, str] = ROBOT) -> httpx.Response:
    screen = parse(client.get("/login").text)
    return client.post("/login", data={
        "csrf": screen.hidden("csrf"), "next": "", "nonce": screen.hidden("nonce"),
        screen.name_right_of("Användarnamn"): user[0], screen.name_right_of("Lösenord"): user[1]})


@pytest.fixture(scope="module")
def client(box: Sandbox) -> Iterator[httpx.Client]:
    with shared_client(base_url=box.url(PORTAL), timeout=10) as http:
        assert _login(box, http).status_code == 303
        yield http


_taken: set[str] = set()


def take_case(box: Sandbox, status: str = "inkommen") -> str:
    for row in box.admin_get(PORTAL, "/_admin/cases"):
        if row["status"] == status and row["case_id"] not in _taken:
            _taken.add(row["case_id"])
            return str(row["case_id"])
    pytest.skip(f"no unused case in status {status}")


def state(box: Sandbox, case_id: str) -> dict[str, Any]:
    return box.admin_get(PORTAL, f"/_admin/cases/{case_id}")


def calc_form(client: httpx.Client, case_id: str) -> tuple[Screen, dict[str, str]]:
    """The calculation tab and its inputs' names by key, found by their v1 labels in the cell to the left."""
    response = client.get(f"/arende/{case_id}/berakning")
    assert response.status_code == 200
    screen = parse(response.text)
    return screen, {key: screen.name_right_of(BY_KEY[key].label("v1")) for key in FIELD_KEYS}


def calc_post(screen: Screen, names: dict[str, str], values: dict[str, str], **hidden: object) -> dict[str, Any]:
    data: dict[str, Any] = {"csrf": screen.hidden("csrf"), "version": screen.hidden("version"),
                            "nonce": screen.hidden("nonce")}
    data.update(hidden)
    data.update({names[key]: values.get(key, "") for key in FIELD_KEYS})
    return data


# -- the markup ---------------------------------------------------------------------------------------------------
def test_no_v3_page_has_labels_ids_test_attributes_or_table_headers(box: Sandbox, client: httpx.Client) -> None:
    # The reference case (every screen filled in), a parked one (a read-only calculation) and a first application
    # (no history: the history tables hold their header rows only).
    parked = take_case(box)
    decision = parse(client.get(f"/arende/{parked}/beslut").text)
    assert client.post(f"/arende/{parked}/parkera", data={
        "csrf": decision.hidden("csrf"), "version": decision.hidden("version")}).status_code == 303
    first = next(c["case_id"] for c in box.admin_get(PORTAL, "/_admin/cases")
                 if c["application_type"] == "Nyansökan" and c["status"] == "inkommen" and c["case_id"] not in _taken)
    cases = [box.reference()["reference_case"], parked, first]
    pages = {"/login": https_get(box.url(PORTAL, "/login")).text, "/": client.get("/").text,
             "/inkorg": client.get("/inkorg").text, "/inkorg?sok=zzz": client.get("/inkorg?sok=zzz").text}
    pages.update({f"/arende/{c}/{tab}": client.get(f"/arende/{c}/{tab}").text for c in cases for tab in TABS})
    # And a refusal drawn on a tab (the error in the message cell).
    screen = parse(pages[f"/arende/{cases[2]}/journal"])
    refused = client.post(f"/arende/{cases[2]}/journal", data={
        "csrf": screen.hidden("csrf"), "version": screen.hidden("version"), "nonce": screen.hidden("nonce")})
    assert refused.status_code == 422
    pages["refused note"] = refused.text
    for path, html in pages.items():
        parsed = parse(html)
        assert parsed.violations == [], path
        assert "<b>" in html and "</html>" in html, path

    # Every user-editable control on the forms has a generated name; hidden ones keep theirs.
    for path in ("/login", f"/arende/{cases[0]}/berakning", f"/arende/{cases[0]}/journal",
                 f"/arende/{cases[0]}/beslut"):
        editable = [c for c in parse(pages[path]).controls if c.get("type") not in ("hidden", "submit", "button")]
        assert editable and all(GENERATED.match(c["name"]) for c in editable), path
        hidden = {c["name"] for c in parse(pages[path]).controls if c.get("type") == "hidden"}
        assert hidden <= {"csrf", "version", "next", "nonce"} and "nonce" in hidden, path
    # Buttons are inputs with v1's texts.
    buttons = {c.get("value") for c in parse(pages[f"/arende/{cases[0]}/beslut"]).controls if c.get("type") == "submit"}
    assert buttons == {"Parkera för signering", "Sätt till manuell handläggning", "Signera beslut"}

    # The case header: label/value cells, the status as text.
    sokande = parse(pages[f"/arende/{parked}/sokande"])
    expected = state(box, parked)
    assert sokande.value_right_of("Ärende:").text == parked
    assert sokande.value_right_of("Status:").text == "Klar för signering"
    pnr = expected["applicant_pnr"]
    assert sokande.value_right_of("Personnummer:").text == f"{pnr[:8]}-{pnr[8:]}"
    assert sokande.value_right_of("Period:").text == expected["period"]
    assert sokande.value_right_of("Handläggare:").text == expected["caseworker"]
    assert sokande.value_right_of("Adress:").text == expected["address"]
    # Data tables: the header is the first row (bold cells), an empty one has that row only.
    assert sokande.table_with_header("Namn")[0] == ["Namn", "Personnummer", "Roll", "Lunch i förskola"]
    inbox = parse(pages["/inkorg"]).table_with_header("Ärende")
    assert inbox[0] == ["Ärende", "Sökande", "Personnummer", "Ansökningstyp", "Period", "Inkommen", "Handläggare",
                        "Status"]
    assert len(inbox) > 1
    assert parse(pages["/inkorg?sok=zzz"]).table_with_header("Ärende") == [inbox[0]]
    journal = parse(pages[f"/arende/{cases[0]}/journal"])
    assert journal.table_with_header("Datum")[0] == ["Datum", "Signatur", "Text"]
    assert journal.value_right_of("Meddelande:").text == ""  # always there, empty
    assert "Anteckningen får inte vara tom." in parse(pages["refused note"]).value_right_of("Meddelande:").text
    history = parse(pages[f"/arende/{first}/historik"])
    assert history.value_right_of("Historik från:").text == "–"
    assert history.value_right_of("Äldre beslut:").text == "Finns inte"
    assert history.table_with_header("Månad") == [["Månad", "Beslut", "Beslutad av", "Beslutsdatum", "Adress",
                                                   "Hushåll"]]
    assert [c.text for c in history.tables[-1][0]] == ["Månad", "Post", "Kod", "Ansökt (kr)", "Beviljat (kr)"]
    assert len(history.tables[-1]) == 1
    decided = parse(pages[f"/arende/{cases[0]}/historik"]).tables
    assert [c.text for c in decided[-1][0]] == ["Månad", "Post", "Kod", "Ansökt (kr)", "Beviljat (kr)"]
    assert len(decided[-1]) > 1 and len(decided[-2]) > 1  # the reference case's 14 months
    # The parked case: its calculation is read-only, without Spara; the message cell is still there.
    locked = parse(pages[f"/arende/{parked}/berakning"])
    assert all("readonly" in c for c in locked.controls if c.get("type") == "text")
    assert not [c for c in locked.controls if c.get("type") == "button"]
    assert locked.value_right_of("Meddelande:").text == ""
    tabs = re.findall(r'<a href="/arende/[^/"]+/(\w+)" onclick="return lamnaFlik\(\);">([^<]+)</a>',
                      pages[f"/arende/{cases[0]}/historik"])
    assert [text for _, text in tabs] == ["Sökande och hushåll", "Ansökan", "Beräkning", "Historik", "Journal",
                                          "Beslut"]


def test_agencies_refuse_layout_v3(box: Sandbox) -> None:
    response = https_post(box.url("fk", "/_admin/knobs"), json={"layout": "v3"}, timeout=10)
    assert response.status_code == 400 and "v1 or v2" in response.json()["error"]


# -- generated names ------------------------------------------------------------------------------------------------
def test_generated_names_change_on_every_render(box: Sandbox, client: httpx.Client) -> None:
    case_id = box.reference()["reference_case"]
    assert case_id
    first_screen, first = calc_form(client, case_id)
    second_screen, second = calc_form(client, case_id)
    assert all(GENERATED.match(name) for name in [*first.values(), *second.values()])
    assert len(set(first.values())) == len(FIELD_KEYS)
    assert not set(first.values()) & set(second.values())
    assert first_screen.hidden("nonce") != second_screen.hidden("nonce")
    logins = [parse(https_get(box.url(PORTAL, "/login")).text) for _ in range(2)]
    assert logins[0].name_right_of("Användarnamn") != logins[1].name_right_of("Användarnamn")


def test_login_takes_the_generated_names_and_not_the_plain_ones(box: Sandbox) -> None:
    with shared_client(base_url=box.url(PORTAL), timeout=10) as http:
        screen = parse(http.get("/login").text)
        refused = http.post("/login", data={"csrf": screen.hidden("csrf"), "next": "", "nonce": screen.hidden("nonce"),
                                            "anvandarnamn": ROBOT[0], "losenord": ROBOT[1]})
        assert refused.status_code == 401
        assert "Fel användarnamn eller lösenord." in refused.text
        assert http.get("/inkorg").status_code == 303  # still not logged in
        # The page that answered the refusal has new names; with them the login works.
        again = parse(refused.text)
        assert again.value_right_of("Användarnamn").controls[0]["name"] != screen.name_right_of("Användarnamn")
        ok = http.post("/login", data={
            "csrf": again.hidden("csrf"), "next": "/inkorg", "nonce": again.hidden("nonce"),
            again.name_right_of("Användarnamn"): ROBOT[0], again.name_right_of("Lösenord"): ROBOT[1]})
        assert ok.status_code == 303 and ok.headers["location"] == "/inkorg"
        assert http.get("/inkorg").status_code == 200


# -- the calculation saved in place ----------------------------------------------------------------------------------
def test_calc_saved_in_place_answers_json_with_totals_and_new_names(box: Sandbox, client: httpx.Client) -> None:
    case_id = take_case(box)
    before = state(box, case_id)
    screen, names = calc_form(client, case_id)
    typed = {"norm_personliga": "4 000 kr", "norm_gemensamma": "1710", "boende": "12 345", "lon": "20000"}
    response = client.post(f"/arende/{case_id}/berakning", data=calc_post(screen, names, typed), headers=IN_PLACE)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    answer = response.json()
    after = state(box, case_id)
    totals = compute_totals({"norm_personliga": 4000, "norm_gemensamma": 1710, "boende": 12345, "lon": 20000})
    assert answer["ok"] is True and SAVED.match(answer["message"])
    assert answer["version"] == after["version"] == before["version"] + 1
    assert {k: after["calc"][k] for k in TOTAL_KEYS} == totals
    assert answer["totals"] == {k: f"{kr(v)} kr" for k, v in totals.items()}
    assert answer["values"]["norm_personliga"] == "4 000" and answer["values"]["hushallsel"] == ""
    assert answer["status"] == "Under behandling"
    assert set(answer["names"]) == set(FIELD_KEYS) and all(GENERATED.match(n) for n in answer["names"].values())
    assert not set(answer["names"].values()) & set(names.values())
    assert answer["nonce"] and answer["nonce"] != screen.hidden("nonce")
    # The tab drawn afresh shows the same totals, by v1's total labels.
    shown, _ = calc_form(client, case_id)
    assert [shown.value_right_of(TOTAL_LABELS["v1"][k]).text for k in TOTAL_KEYS] == list(answer["totals"].values())
    assert shown.value_right_of("Status:").text == "Under behandling"

    # The names and nonce of the answer are what the next save sends; a stale version: the lock conflict, as JSON.
    renamed = {key: answer["names"][key] for key in FIELD_KEYS}
    stale = client.post(f"/arende/{case_id}/berakning", headers=IN_PLACE, data=calc_post(
        screen, renamed, {"boende": "9000"}, version=before["version"], nonce=answer["nonce"]))
    assert stale.status_code == 409
    refusal = stale.json()
    assert refusal["ok"] is False and "ändrats av en annan användare" in refusal["message"]
    assert refusal["field_errors"] == {}
    assert state(box, case_id)["calc"]["boende"] == 12345

    # Amounts that are not whole kronor: the field errors by key, nothing saved.
    bad = client.post(f"/arende/{case_id}/berakning", headers=IN_PLACE, data=calc_post(
        screen, renamed, {"boende": "abc", "lon": "1 234,50", "hushallsel": "450"}, version=answer["version"],
        nonce=answer["nonce"]))
    assert bad.status_code == 422
    refusal = bad.json()
    assert refusal["ok"] is False and "2 fält har fel" in refusal["message"]
    assert set(refusal["field_errors"]) == {"boende", "lon"}
    assert "Öre kan inte anges" in refusal["field_errors"]["lon"]
    assert state(box, case_id)["version"] == answer["version"]

    # A wrong CSRF token: refused as JSON too.
    forged = client.post(f"/arende/{case_id}/berakning", headers=IN_PLACE, data=calc_post(
        screen, renamed, {}, csrf="fel", version=answer["version"], nonce=answer["nonce"]))
    assert forged.status_code == 403 and forged.json()["ok"] is False


def test_calc_save_without_the_header_redirects_as_in_v1(box: Sandbox, client: httpx.Client) -> None:
    case_id = take_case(box)
    screen, names = calc_form(client, case_id)
    response = client.post(f"/arende/{case_id}/berakning", data=calc_post(screen, names, {"boende": "5 000"}))
    assert response.status_code == 303
    assert response.headers["location"] == f"/arende/{case_id}/berakning?meddelande=sparad"
    assert state(box, case_id)["calc"]["boende"] == 5000
    page = parse(client.get(response.headers["location"]).text)
    assert page.value_right_of("Meddelande:").text == "Beräkningen är sparad."
    # The plain (v1) names decode to nothing here: refused rather than saved as an empty form.
    screen, _ = calc_form(client, case_id)
    plain = client.post(f"/arende/{case_id}/berakning", data={
        "csrf": screen.hidden("csrf"), "version": screen.hidden("version"), "boende": "7000"})
    assert plain.status_code == 422
    assert "formuläret har gått ut" in parse(plain.text).value_right_of("Meddelande:").text
    assert state(box, case_id)["calc"]["boende"] == 5000


def test_journal_and_decision_post_with_generated_names(box: Sandbox, client: httpx.Client) -> None:
    case_id = take_case(box)
    journal = parse(client.get(f"/arende/{case_id}/journal").text)
    note = client.post(f"/arende/{case_id}/journal", data={
        "csrf": journal.hidden("csrf"), "version": journal.hidden("version"), "nonce": journal.hidden("nonce"),
        journal.name_right_of("Ny anteckning"): "Förberett i v3."})
    assert note.status_code == 303
    assert state(box, case_id)["journal"][-1]["text"] == "Förberett i v3."
    shown = parse(client.get(note.headers["location"]).text)
    assert shown.table_with_header("Datum")[-1][1:] == [ROBOT[0], "Förberett i v3."]
    assert shown.value_right_of("Meddelande:").text == "Anteckningen är sparad i journalen."

    decision = parse(client.get(f"/arende/{case_id}/beslut").text)
    assert decision.confirms == [f"Vill du parkera ärendet {case_id}? Det tilldelas handläggaren "
                                 f"{state(box, case_id)['caseworker']} och beräkningen låses.",
                                 f"Signera beslutet för ärende {case_id}?"]
    parked = client.post(f"/arende/{case_id}/parkera", data={
        "csrf": decision.hidden("csrf"), "version": decision.hidden("version"), "nonce": decision.hidden("nonce"),
        decision.name_right_of("Behöver kompletteras"): "1"})
    assert parked.status_code == 303
    after = state(box, case_id)
    assert after["status"] == "klar_for_signering" and after["needs_completion"] is True


# -- in a browser -----------------------------------------------------------------------------------------------------
def _field(page: Page, label: str):  # type: ignore[no-untyped-def]
    return page.locator(f"xpath=//td[normalize-space(.)='{label}']/following-sibling::td[1]//input")


def _cell(page: Page, label: str):  # type: ignore[no-untyped-def]
    return page.locator(f"xpath=//td[normalize-space(.)='{label}']/following-sibling::td[1]")


@pytest.mark.browser
def test_spara_saves_in_place_in_chromium(box: Sandbox, page: Page) -> None:
    case_id = take_case(box)
    page.goto(box.url(PORTAL, "/login"))
    _field(page, "Användarnamn").fill(ROBOT[0])
    _field(page, "Lösenord").fill(ROBOT[1])
    page.locator("input[type=submit][value='Logga in']").click()
    expect(page.locator("iframe[name=innehall]")).to_be_attached()
    page.goto(box.url(PORTAL, f"/arende/{case_id}/berakning"))
    page.evaluate("window.sammaSida = true")  # gone if the page navigates
    rent = _field(page, "Hyra/boendekostnad")
    names_before = page.locator("input[type=text]").evaluate_all("els => els.map(e => e.name)")
    assert _cell(page, "Summa skäliga kostnader").inner_text() in ("–", "0 kr")

    _field(page, "Personliga kostnader (riksnorm)").fill("4000")
    rent.fill("12345")
    page.locator("input[type=button][value=Spara]").click()
    expect(_cell(page, "Meddelande:")).to_have_text(SAVED)
    assert page.evaluate("window.sammaSida") is True
    assert page.url.endswith(f"/arende/{case_id}/berakning")
    expect(_cell(page, "Summa skäliga kostnader")).to_have_text("12 345 kr")
    expect(_cell(page, "Summa norm")).to_have_text("4 000 kr")
    expect(rent).to_have_value("12 345")
    names_after = page.locator("input[type=text]").evaluate_all("els => els.map(e => e.name)")
    assert len(names_after) == len(FIELD_KEYS) and not set(names_after) & set(names_before)
    assert state(box, case_id)["calc"]["boende"] == 12345

    # A second save with the renamed inputs works too; the message cell is emptied first and then says so again.
    rent.fill("abc")
    page.locator("input[type=button][value=Spara]").click()
    expect(_cell(page, "Meddelande:")).to_contain_text("1 fält har fel")
    expect(page.locator("xpath=//td[normalize-space(.)='Hyra/boendekostnad']/following-sibling::td[2]")
           ).to_contain_text("inte ett belopp")
    rent.fill("11 000")
    page.locator("input[type=button][value=Spara]").click()
    expect(_cell(page, "Meddelande:")).to_have_text(SAVED)
    expect(_cell(page, "Summa skäliga kostnader")).to_have_text("11 000 kr")
    assert page.evaluate("window.sammaSida") is True
    assert state(box, case_id)["calc"]["boende"] == 11000

    # A server error (not JSON): said in the message cell, the page stays.
    box.set_knobs(PORTAL, error_rate=1.0)
    try:
        page.locator("input[type=button][value=Spara]").click()
        failed = re.compile(r"^Beräkningen kunde inte sparas \(HTTP 50[03]\)\.$")
        expect(_cell(page, "Meddelande:")).to_have_text(failed)
    finally:
        box.set_knobs(PORTAL, error_rate=0.0)
    assert page.evaluate("window.sammaSida") is True
