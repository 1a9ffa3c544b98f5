"""The four agency portals (skv, fk, af, csn) through a real Chromium, as the robot will meet them.

The tests add their own small world to the sandbox database (samordningsnummer and an address the seed never
uses), so they do not depend on what a given seed happens to generate and do not disturb the seeded cases.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sandbox_proc import https_get

pytestmark = pytest.mark.browser

ADDRESS = "Provgatan 99 B, 999 99 Testby"
AGENCIES = ("skv", "fk", "af", "csn")


def luhn_pnr(yyyymmdd: str, serial: str) -> str:
    """A 12-digit number with a valid check digit over its 10-digit form (`serial` is three digits)."""
    ten = yyyymmdd[2:] + serial
    total = 0
    for i, ch in enumerate(ten):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return f"{yyyymmdd}{serial}{(10 - total % 10) % 10}"


def dashed(pnr12: str) -> str:
    return f"{pnr12[:8]}-{pnr12[8:]}"


@dataclass(frozen=True)
class World:
    applicant: str
    partner: str
    child: str
    protected: str
    gap: str
    nobody: str  # known to the register, paid nothing by anyone


# Samordningsnummer (day + 60): the seed gives people personnummer, so these never collide with its data.
WORLD = World(
    applicant=luhn_pnr("19800361", "238"),
    partner=luhn_pnr("19820472", "147"),
    child=luhn_pnr("20140585", "362"),
    protected=luhn_pnr("19910662", "471"),
    gap=luhn_pnr("19750763", "154"),
    nobody=luhn_pnr("19660864", "275"),
)


def _world_rows(w: World) -> dict[str, list[tuple[object, ...]]]:
    return {
        "skv_persons": [
            (w.applicant, "Provanna", "Testsson", "1980-03-01", 0),
            (w.partner, "Provbo", "Testsson", "1982-04-12", 0),
            (w.child, "Provlisa", "Testsson", "2014-05-25", 0),
            (w.protected, "Hemliga", "Skyddsdottir", "1991-06-02", 1),
            (w.gap, "Avvika", "Luckesson", "1975-07-03", 0),
            (w.nobody, "Ingen", "Utbetalning", "1966-08-04", 0),
        ],
        "skv_registrations": [
            (w.applicant, ADDRESS, "2019-04-01"),
            (w.partner, ADDRESS, "2019-04-01"),
            (w.child, "Gamla provvägen 1, 999 98 Testby", "2014-05-25"),  # moved in later: only the latest counts
            (w.child, ADDRESS, "2020-01-15"),
            (w.protected, ADDRESS, "2024-10-01"),
            (w.nobody, "Ensamvägen 3, 999 97 Testby", "2001-02-03"),
        ],
        "fk_payments": [
            (w.applicant, "bostadsbidrag", "2024-12", 1234),
            (w.applicant, "barnbidrag", "2024-12", 1250),
            (w.applicant, "bostadsbidrag", "2024-11", 1234),
            (w.partner, "sjukpenning", "2024-12", 10450),
        ],
        "af_status": [(w.applicant, 1, "Jobb- och utvecklingsgarantin", "2023-03-01"), (w.partner, 0, None, None)],
        "csn_payments": [(w.applicant, "2024-12", "Studiebidrag", 3564), (w.applicant, "2024-12", "Studielån", 8328)],
        "agency_gaps": [(portal, w.gap) for portal in AGENCIES],
    }


@pytest.fixture(scope="module")
def world(sandbox) -> Iterator[World]:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(Path(sandbox.data_dir) / "sandbox.db", timeout=30, isolation_level=None)
    rows = _world_rows(WORLD)
    pnrs = [getattr(WORLD, f) for f in WORLD.__dataclass_fields__]

    def clean() -> None:
        marks = ", ".join("?" * len(pnrs))
        for table in rows:
            conn.execute(f"DELETE FROM {table} WHERE pnr IN ({marks})", pnrs)

    clean()
    for table, values in rows.items():
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(values[0]))})", values)
    try:
        yield WORLD
    finally:
        clean()
        conn.close()


def login(page, sandbox, portal: str, path: str = "/") -> None:  # type: ignore[no-untyped-def]
    page.goto(sandbox.url(portal, "/login?next=" + path))
    page.get_by_label("Användarnamn").fill("kommun")
    page.get_by_label("Lösenord").fill(f"{portal}-pass")
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state("domcontentloaded")
    assert "/login" not in page.url, f"{portal}: login failed"


# -- SKV -------------------------------------------------------------------------------------------------------

def skv_search(page, pnr_text: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Personnummer").fill(pnr_text)
    page.get_by_role("button", name="Sök", exact=True).click()
    page.wait_for_load_state("domcontentloaded")


def test_skv_search_shows_the_household_table(fresh_sandbox, world: World, page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    login(page, fresh_sandbox, "skv", "/sok")
    applicant = dashed(world.applicant)
    skv_search(page, applicant[2:])  # the short YYMMDD-NNNN form
    expect(page.get_by_role("heading", name="Personuppgifter")).to_be_visible()
    expect(page.get_by_text(ADDRESS, exact=True)).to_be_visible()
    table = page.get_by_role("table", name="Folkbokförda på adressen")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(4)
    texts = [" | ".join(r.locator("td").all_inner_texts()) for r in rows.all()]
    assert f"{applicant} | Provanna Testsson | 1980-03-01 | 2019-04-01" in texts
    assert f"{dashed(world.partner)} | Provbo Testsson | 1982-04-12 | 2019-04-01" in texts
    assert f"{dashed(world.child)} | Provlisa Testsson | 2014-05-25 | 2020-01-15" in texts
    assert "– | Skyddad identitet | – | –" in texts
    assert "Hemliga" not in page.content() and "Skyddsdottir" not in page.content()


def test_skv_protected_person_is_not_shown(fresh_sandbox, world: World, page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    login(page, fresh_sandbox, "skv", "/sok")
    skv_search(page, world.protected)
    expect(page.get_by_role("alert")).to_contain_text("Skyddad identitet")
    html = page.content()
    for secret in ("Hemliga", "Skyddsdottir", ADDRESS, "Provanna"):
        assert secret not in html
    expect(page.get_by_role("table", name="Folkbokförda på adressen")).to_have_count(0)


# -- FK --------------------------------------------------------------------------------------------------------

def fk_search(page, pnr: str, start: str = "2024-01", end: str = "2024-12") -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Personnummer").fill(pnr)
    page.get_by_label("Från månad").fill(start)
    page.get_by_label("Till månad").fill(end)
    page.get_by_role("button", name="Hämta utbetalningar").click()


def test_fk_spa_shows_a_spinner_then_the_payments(fresh_sandbox, world: World, page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    login(page, fresh_sandbox, "fk", "/app")
    assert page.url.endswith("/app")
    with page.expect_response(lambda r: "/api/utbetalningar" in r.url) as answer:
        fk_search(page, dashed(world.applicant))
        # The API waits ≥150 ms server-side, so the spinner must be up before the answer comes back.
        spinner = page.get_by_role("status", name="Hämtar utbetalningar")
        expect(spinner).to_be_visible()
    assert answer.value.status == 200
    data = answer.value.json()
    assert {p["formanstyp"] for p in data["utbetalningar"]} == {"bostadsbidrag", "barnbidrag"}
    expect(spinner).to_be_hidden()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(3)
    texts = [" | ".join(r.locator("td").all_inner_texts()) for r in rows.all()]
    assert texts == ["2024-11 | Bostadsbidrag | 1 234 kr", "2024-12 | Barnbidrag | 1 250 kr",
                     "2024-12 | Bostadsbidrag | 1 234 kr"]
    expect(page.get_by_role("columnheader", name="Förmån")).to_be_visible()


def test_fk_no_payments_is_not_a_gap(fresh_sandbox, world: World, page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    login(page, fresh_sandbox, "fk", "/app")
    fk_search(page, world.nobody)
    expect(page.get_by_text("Inga utbetalningar under perioden")).to_be_visible()
    expect(page.get_by_text("Uppgifter kunde inte hämtas för personen")).to_have_count(0)


def test_fk_expired_session_shows_the_banner(fresh_sandbox, world: World, page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    login(page, fresh_sandbox, "fk", "/app")
    fresh_sandbox.set_knobs("fk", session_ttl_s=1)
    time.sleep(1.5)
    with page.expect_response(lambda r: "/api/utbetalningar" in r.url) as answer:
        fk_search(page, world.applicant)
    assert answer.value.status == 401
    expect(page.get_by_role("alert")).to_contain_text("Din session har gått ut")
    link = page.get_by_role("link", name="Logga in igen")
    expect(link).to_be_visible()
    link.click()
    page.wait_for_load_state("domcontentloaded")
    assert "/login" in page.url


# -- AF --------------------------------------------------------------------------------------------------------

def test_af_status_is_inside_the_iframe(fresh_sandbox, world: World, page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    login(page, fresh_sandbox, "af", "/sok")
    page.get_by_label("Personnummer").fill(dashed(world.applicant))
    page.get_by_role("button", name="Visa status").click()
    expect(page.get_by_text("Inskriven som arbetssökande")).to_have_count(0)  # not in the outer page
    frame = page.frame_locator('iframe[title="Sökandestatus"]')
    expect(frame.get_by_role("heading", name="Sökandestatus")).to_be_visible()
    status = frame.locator("dl")
    expect(status).to_contain_text("Inskriven som arbetssökande")
    dds = [t.strip() for t in status.locator("dd").all_inner_texts()]
    assert dds == [dashed(world.applicant), "Ja", "Jobb- och utvecklingsgarantin", "2023-03-01"]

    page.get_by_label("Personnummer").fill(world.partner)
    page.get_by_role("button", name="Visa status").click()
    expect(page.frame_locator('iframe[title="Sökandestatus"]').locator("dl")).to_contain_text("Nej")


# -- CSN -------------------------------------------------------------------------------------------------------

def csn_search(page, pnr: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Personnummer").fill(pnr)
    page.get_by_role("button", name="Sök", exact=True).click()
    page.wait_for_load_state("domcontentloaded")


def test_csn_statement_downloads_as_a_csv_file(fresh_sandbox, world: World, page) -> None:  # type: ignore[no-untyped-def]
    login(page, fresh_sandbox, "csn", "/sok")
    csn_search(page, dashed(world.applicant))
    with page.expect_download() as info:
        page.get_by_role("link", name="Ladda ner utbetalningsbesked").click()
    download = info.value
    assert download.suggested_filename == f"utbetalningar-{world.applicant[:8]}-XXXX.csv"
    lines = Path(download.path()).read_bytes().decode("utf-8-sig").splitlines()
    assert lines == ["Månad;Stödform;Belopp", "2024-12;Studiebidrag;3 564,00", "2024-12;Studielån;8 328,00"]


def test_csn_without_payments_gives_the_header_only(fresh_sandbox, world: World, page) -> None:  # type: ignore[no-untyped-def]
    login(page, fresh_sandbox, "csn", "/sok")
    csn_search(page, world.nobody)
    with page.expect_download() as info:
        page.get_by_role("link", name="Ladda ner utbetalningsbesked").click()
    assert Path(info.value.path()).read_bytes().decode("utf-8-sig").splitlines() == ["Månad;Stödform;Belopp"]


# -- every portal ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("portal", AGENCIES)
def test_a_gap_shows_the_avvikelse_message(fresh_sandbox, world: World, page, portal: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    if portal == "skv":
        login(page, fresh_sandbox, "skv", "/sok")
        skv_search(page, world.gap)
        expect(page.get_by_role("alert")).to_contain_text("Uppgifter kan inte lämnas just nu (avvikelse)")
        assert "Avvika" not in page.content()
    elif portal == "fk":
        login(page, fresh_sandbox, "fk", "/app")
        with page.expect_response(lambda r: "/api/utbetalningar" in r.url) as answer:
            fk_search(page, world.gap)
        assert answer.value.status == 200 and "avvikelse" in answer.value.json()
        expect(page.get_by_role("alert")).to_have_text("Uppgifter kunde inte hämtas för personen")
        expect(page.get_by_text("Inga utbetalningar under perioden")).to_have_count(0)
    elif portal == "af":
        login(page, fresh_sandbox, "af", "/sok")
        page.get_by_label("Personnummer").fill(world.gap)
        page.get_by_role("button", name="Visa status").click()
        frame = page.frame_locator('iframe[title="Sökandestatus"]')
        expect(frame.get_by_role("alert")).to_contain_text("Uppgifter kan inte lämnas just nu (avvikelse)")
        expect(frame.get_by_text("Inskriven som arbetssökande")).to_have_count(0)
    else:
        login(page, fresh_sandbox, "csn", "/sok")
        csn_search(page, world.gap)
        expect(page.get_by_role("alert")).to_contain_text("Utbetalningsbesked kan inte tas fram just nu")
        expect(page.get_by_role("link", name="Ladda ner utbetalningsbesked")).to_have_count(0)


@pytest.mark.parametrize("portal", AGENCIES)
def test_layout_v2_renames_and_moves_things(fresh_sandbox, world: World, page, portal: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    fresh_sandbox.set_knobs(portal, layout="v2")
    login(page, fresh_sandbox, portal, "/app" if portal == "fk" else "/sok")
    if portal == "skv":
        expect(page.get_by_label("Personnummer", exact=True)).to_have_count(0)
        page.get_by_label("Person- eller samordningsnummer").fill(world.applicant)
        expect(page.get_by_role("button", name="Sök", exact=True)).to_have_count(0)
        page.get_by_role("button", name="Sök person").click()
        expect(page.get_by_role("heading", name="Boende på adressen")).to_be_visible()
        expect(page.get_by_role("heading", name="Folkbokförda på adressen")).to_have_count(0)
        expect(page.get_by_role("columnheader", name="Registrerad sedan")).to_be_visible()
        first_header = page.get_by_role("table", name="Boende på adressen").locator("th").first
        expect(first_header).to_have_text("Namn")  # columns reordered
    elif portal == "fk":
        expect(page.get_by_role("button", name="Hämta utbetalningar")).to_have_count(0)
        expect(page.get_by_label("Från månad")).to_have_count(0)
        page.get_by_label("Personnummer (12 siffror)").fill(world.applicant)
        page.get_by_label("Period från").fill("2024-01")
        page.get_by_label("Period till").fill("2024-12")
        page.get_by_role("button", name="Visa ersättningar").click()
        cards = page.get_by_role("list", name="Utbetalda ersättningar").get_by_role("listitem")
        expect(cards).to_have_count(3)
        expect(page.locator("table")).to_have_count(0)
        expect(cards.first.locator("dt").first).to_have_text("Utbetalningsmånad")
        expect(cards.first.locator("dd").nth(1)).to_have_text("1\u00a0234\u00a0kr")
    elif portal == "af":
        expect(page.get_by_role("button", name="Visa status")).to_have_count(0)
        page.get_by_label("Personnummer för den sökande").fill(world.applicant)
        page.get_by_role("button", name="Hämta status").click()
        expect(page.locator('iframe[title="Sökandestatus"]')).to_have_count(0)
        frame = page.frame_locator('iframe[title="Status för arbetssökande"]')
        expect(frame.get_by_role("row", name="Registrerad hos Arbetsförmedlingen")).to_contain_text("Ja")
        expect(frame.get_by_text("Inskriven som arbetssökande")).to_have_count(0)
    else:
        expect(page.get_by_label("Personnummer", exact=True)).to_have_count(0)
        page.get_by_label("Den studerandes personnummer").fill(world.applicant)
        page.get_by_role("button", name="Hämta uppgifter").click()
        expect(page.get_by_role("link", name="Ladda ner utbetalningsbesked")).to_have_count(0)
        with page.expect_download() as info:
            page.get_by_role("button", name="Exportera utbetalningar (CSV)").click()
        assert Path(info.value.path()).read_bytes().decode("utf-8-sig").startswith("Månad;Stödform;Belopp")


@pytest.mark.parametrize("portal", AGENCIES)
def test_maintenance_knob_gives_the_maintenance_page(fresh_sandbox, page, portal: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    fresh_sandbox.set_knobs(portal, maintenance=True)
    response = page.goto(fresh_sandbox.url(portal, "/login"))
    assert response is not None and response.status == 503
    expect(page.get_by_role("heading", name="Underhåll pågår")).to_be_visible()
    assert https_get(fresh_sandbox.url(portal, "/healthz"), timeout=5).status_code == 200  # admin stays reachable


@pytest.mark.parametrize("portal", AGENCIES)
def test_error_rate_one_gives_server_errors(fresh_sandbox, page, portal: str) -> None:  # type: ignore[no-untyped-def]
    fresh_sandbox.set_knobs(portal, error_rate=1.0)
    for _ in range(3):
        response = page.goto(fresh_sandbox.url(portal, "/login"))
        assert response is not None and response.status in (500, 503)
