"""The case history tab (`/arende/{id}/historik`: v1 "Historik", v2 "Tidigare beslut") over plain HTTP, as
docs/contract.md "The case history" describes it: the two summary rows, the decisions and the decided calculations
with the contract's column names, order and value formats, in both layouts; read-only; and `GET /_admin/cases/{id}`'s
`history`.

Its own small sandbox with a fixed seed and period, so the cases it needs are there whatever the month: a first
application (no history at all), histories thinned out ("Gallrade"), a refused month, a capped rent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from portals import seed
from portals.casesystem.fields import BY_KEY
from portals.pnr import to_dashed
from portals.seed.model import Case, Decision
from tests.sandbox.casesystem_helpers import PORTAL, ROBOT
from tests.sandbox_proc import Sandbox, shared_client, start_sandbox

CASES, SEED, PERIOD = 16, 3, "2026-12"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
HEADINGS: dict[str, dict[str, list[str]]] = {
    "v1": {"summary": ["Historik från", "Äldre beslut"],
           "decisions": ["Månad", "Beslut", "Beslutad av", "Beslutsdatum", "Adress", "Hushåll"],
           "rows": ["Månad", "Post", "Kod", "Ansökt (kr)", "Beviljat (kr)"]},
    "v2": {"summary": ["Beslut sparade från", "Beslut före det"],
           "decisions": ["Avser månad", "Utfall", "Datum", "Bostadsadress", "Personer", "Handläggare"],
           "rows": ["Avser månad", "Post", "Kod", "Ansökt belopp", "Beviljat belopp"]},
}
TAB = {"v1": ("Historik", "Journal"), "v2": ("Tidigare beslut", "Anteckningar")}  # the tab, and the one after it
OLDER = {"finns_inte": "Finns inte", "gallrade": "Gallrade"}


class _Tables(HTMLParser):
    """Every `<table>` of a page as rows of (tag, text) cells, its class, and the tab links' texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[tuple[str, str]]]]] = []
        self.tabs: list[str] = []
        self._cell: tuple[str, list[str]] | None = None
        self._tab: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "table":
            self.tables.append((attr.get("class") or "", []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("th", "td"):
            self._cell = (tag, [])
        elif tag == "a" and "flik" in (attr.get("class") or "").split():
            self._tab = []
        elif tag in ("input", "textarea", "select", "button", "form"):
            self.tables.append(("FORM-CONTROL", []))  # the tab must have none

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            self.tables[-1][1][-1].append((self._cell[0], " ".join("".join(self._cell[1]).split())))
            self._cell = None
        elif tag == "a" and self._tab is not None:
            self.tabs.append("".join(self._tab).strip())
            self._tab = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[1].append(data)
        if self._tab is not None:
            self._tab.append(data)


def kr(amount: int) -> str:
    return f"{amount:,}".replace(",", " ")  # the portal's format: 12 345


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = start_sandbox(Path(tmp_path_factory.mktemp("history-tab")), CASES, SEED, PERIOD)
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture(scope="module")
def world() -> seed.World:
    return seed.generate_world(CASES, SEED, PERIOD)  # what the sandbox was seeded with


@pytest.fixture(scope="module")
def client(box: Sandbox) -> Iterator[httpx.Client]:
    with shared_client(base_url=box.url(PORTAL), timeout=10, follow_redirects=True) as http:
        token = _CSRF.search(http.get("/login").text)[1]  # type: ignore[index]
        http.post("/login", data={"csrf": token, "anvandarnamn": ROBOT[0], "losenord": ROBOT[1], "next": ""})
        yield http


def page(box: Sandbox, client: httpx.Client, case_id: str, layout: str) -> _Tables:
    box.set_knobs(PORTAL, layout=layout)
    try:
        response = client.get(f"/arende/{case_id}/historik")
    finally:
        box.reset_knobs()
    assert response.status_code == 200
    parsed = _Tables()
    parsed.feed(response.text)
    return parsed


def pick(world: seed.World, test: object) -> Case:
    return next(c for c in world.cases if test(c))  # type: ignore[operator]


def expected_decision(d: Decision, layout: str) -> list[str]:
    persons = ", ".join(to_dashed(p) for p in d.household)
    if layout == "v2":  # Handläggare last
        return [d.month, d.outcome, d.decided_on.isoformat(), d.address, persons, d.decided_by]
    return [d.month, d.outcome, d.decided_by, d.decided_on.isoformat(), d.address, persons]


def check(parsed: _Tables, case: Case, layout: str) -> None:
    names = HEADINGS[layout]
    assert "FORM-CONTROL" not in [cls for cls, _ in parsed.tables]  # read-only: no form, no input, no button
    (summary_cls, summary), (_, decisions), (_, rows) = parsed.tables
    # The small table: rows of th + td.
    assert summary_cls.split() == ["grid"]
    kept_from = case.decisions[-1].month if case.decisions else "–"
    assert summary == [[("th", names["summary"][0]), ("td", kept_from)],
                       [("th", names["summary"][1]), ("td", OLDER[case.older])]]
    # The decisions: one row per decided month, newest first.
    assert [text for _, text in decisions[0]] == names["decisions"]
    body = [[text for _, text in row] for row in decisions[1:]]
    if case.decisions:
        assert body == [expected_decision(d, layout) for d in case.decisions]
    else:
        assert body == [["Inga tidigare beslut."]]
    # The decided calculations: a row per (month, field), the field's label in the layout, amounts as "12 345".
    assert [text for _, text in rows[0]] == names["rows"]
    body = [[text for _, text in row] for row in rows[1:]]
    if case.decisions:
        assert body == [[d.month, BY_KEY[key].label(layout), key, kr(applied), kr(approved)]
                        for d in case.decisions for key, applied, approved in d.rows]
    else:
        assert body == [["Inga tidigare beslut."]]


@pytest.mark.parametrize("layout", ["v1", "v2"])
def test_the_tab_shows_a_thinned_history_with_a_refusal_and_a_capped_rent(
        box: Sandbox, client: httpx.Client, world: seed.World, layout: str) -> None:
    case = pick(world, lambda c: c.older == "gallrade")
    parsed = page(box, client, case.case_id, layout)
    check(parsed, case, layout)
    assert parsed.tables[0][1][1][1] == ("td", "Gallrade")
    # The tab sits before the journal, with the layout's text.
    tabs = parsed.tabs
    assert tabs[tabs.index(TAB[layout][0]) + 1] == TAB[layout][1]
    refused = pick(world, lambda c: any(d.outcome == "Avslag" for d in c.decisions))
    check(page(box, client, refused.case_id, layout), refused, layout)
    capped = pick(world, lambda c: any(a != b for d in c.decisions for _, a, b in d.rows))
    check(page(box, client, capped.case_id, layout), capped, layout)
    family = pick(world, lambda c: len(c.members) >= 3 and c.decisions)
    check(page(box, client, family.case_id, layout), family, layout)


@pytest.mark.parametrize("layout", ["v1", "v2"])
def test_a_case_with_no_history_at_all(box: Sandbox, client: httpx.Client, world: seed.World, layout: str) -> None:
    case = pick(world, lambda c: c.application_type == "Nyansökan")
    parsed = page(box, client, case.case_id, layout)
    check(parsed, case, layout)
    assert parsed.tables[0][1] == [[("th", HEADINGS[layout]["summary"][0]), ("td", "–")],
                                   [("th", HEADINGS[layout]["summary"][1]), ("td", "Finns inte")]]


def test_the_admin_case_has_the_history(box: Sandbox, world: seed.World) -> None:
    for case in (pick(world, lambda c: c.older == "gallrade"), pick(world, lambda c: not c.decisions)):
        history = box.admin_get(PORTAL, f"/_admin/cases/{case.case_id}")["history"]
        assert history["older"] == case.older
        assert history["kept_from"] == (case.decisions[-1].month if case.decisions else None)
        assert history["decisions"] == [
            {"month": d.month, "outcome": d.outcome, "decided_by": d.decided_by, "decided_on": d.decided_on.isoformat(),
             "address": d.address, "household": list(d.household),
             "rows": [{"field": f, "applied": a, "approved": b} for f, a, b in d.rows]} for d in case.decisions]
