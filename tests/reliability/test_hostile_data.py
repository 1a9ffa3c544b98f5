"""Hostile data from the portals and the applications: names with markup, quotes, SQL and spreadsheet formulas,
right-to-left and combining Unicode, a 10,000-character journal entry, amounts printed as "1 234,50 kr", "−500"
or "4 5OO" (`portals/hostile.py` rewrites seeded cases that way).

What must hold: data is copied faithfully where it is data; a number is parsed strictly (an amount that is not
one makes the case manual with UNPARSEABLE_AMOUNT, never 0 and never a guess); nothing is executed in the
case system's pages, in the note or in the morning report; nothing is leaked to the logs.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.calc.fields import ALL_FIELDS
from bot.config import Config
from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_config, sandbox_environ
from bot.note import NOTE_MARKER_PREFIX
from bot.run.entry import NightReport, run_once
from portals.hostile import HOSTILE_NAMES, KINDS, LONG_TEXT_CHARS, XSS_FLAG
from tests.artefacts import artefact_texts
from tests.sandbox.casesystem_helpers import CASEWORKER, login, open_in_frame
from tests.sandbox_proc import start_sandbox

pytestmark = pytest.mark.browser

UNREADABLE_KINDS = ("unparseable_amount", "negative_amount")


@dataclass
class HostileNight:
    box: Sandbox
    config: Config
    report: NightReport
    chosen: dict[str, str]  # kind → case id
    before: dict[str, dict[str, Any]]  # the oracle's expectation per case before any rewrite

    def case(self, kind: str) -> dict[str, Any]:
        case = self.box.admin_get("casesystem", f"/_admin/cases/{self.chosen[kind]}")
        assert isinstance(case, dict)
        return case

    def robot_note(self, kind: str) -> str:
        (note,) = [j["text"] for j in self.case(kind)["journal"] if NOTE_MARKER_PREFIX in j["text"]]
        return note


def _expected(box: Sandbox) -> dict[str, dict[str, Any]]:
    return {e["case_id"]: e for e in box.admin_get("casesystem", "/_admin/expected")}  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileNight]:
    box = start_sandbox(tmp_path_factory.mktemp("hostile-sandbox"), cases=16, seed=43)
    try:
        before = _expected(box)
        candidates = [cid for cid, e in sorted(before.items()) if e["kind"] == "simple" and e["outcome"] != "manual"]
        chosen: dict[str, str] = {}
        for kind in KINDS:  # each kind on its own ordinary case, so what changes is only the hostile part
            for case_id in candidates:
                if case_id in chosen.values():
                    continue
                try:
                    box.make_hostile(case_id, kind)
                except ValueError:  # e.g. no cost large enough to print the hard way
                    continue
                chosen[kind] = case_id
                break
        assert sorted(chosen) == sorted(KINDS), f"too few ordinary cases for every kind: {chosen}"
        config = sandbox_config(tmp_path_factory.mktemp("hostile-robot"), box, workers=2,
                                preflight={"enabled": False})
        report = asyncio.run(run_once(config, environ=sandbox_environ(), console=False))
        yield HostileNight(box, config, report, chosen, before)
    finally:
        box.stop()


def test_every_case_ends_as_the_oracle_says_and_none_fails(night: HostileNight) -> None:
    assert night.report.exit_code == 0
    assert {i.state for i in night.report.items} <= {"done", "business_exception"}
    assert differences_from_oracle(night.box) == {}


def test_hostile_text_does_not_change_a_figure(night: HostileNight) -> None:
    after = _expected(night.box)
    for kind in ("markup_names", "long_journal", "amount_text"):
        case_id = night.chosen[kind]
        # The oracle, working the rewritten tables out again, still expects exactly what it did before.
        assert after[case_id] == night.before[case_id], kind
        assert night.case(kind)["status"] == "klar_for_signering", kind


def test_an_amount_printed_with_ore_and_kr_is_read_by_the_rounding_rule(night: HostileNight) -> None:
    case_id = night.chosen["amount_text"]
    fields = night.before[case_id]["fields"]
    calc = night.case("amount_text")["calc"]
    assert fields and all(calc[key] == value for key, value in fields.items())


@pytest.mark.parametrize("kind", UNREADABLE_KINDS)
def test_an_amount_that_is_not_one_makes_the_case_manual_never_zero(night: HostileNight, kind: str) -> None:
    case_id = night.chosen[kind]
    case = night.case(kind)
    assert case["status"] == "manuell"
    assert "UNPARSEABLE_AMOUNT" in case["manual_reason"]
    assert all(case["calc"][key] is None for key in ALL_FIELDS)  # not a 0, not a guess: nothing
    audit = night.box.admin_get("casesystem", f"/_admin/audit?case_id={case_id}")
    assert isinstance(audit, list)
    assert not [a for a in audit if a["username"] == "robot" and a["field"] in ALL_FIELDS]
    (item,) = [i for i in night.report.items if i.case_id == case_id]
    assert item.state == "business_exception" and item.outcome == "manual"
    assert item.last_error_code == "UNPARSEABLE_AMOUNT" and item.attempts == 1  # an outcome, not retried
    assert item.step == "collect"
    # The note tells the caseworker which amount, quoting it as the applicant wrote it.
    note = night.robot_note(kind)
    assert "UNPARSEABLE_AMOUNT" in note and ("negative" in note if kind == "negative_amount" else "O" in note)


def test_data_is_copied_faithfully_into_the_note(night: HostileNight) -> None:
    note = night.robot_note("markup_income_type")
    assert f'<script>window.{XSS_FLAG}=4</script>=HYPERLINK("x")' in note  # byte for byte, not escaped twice
    assert "UNKNOWN_INCOME_TYPE" in note


def test_a_long_journal_does_not_hide_the_robots_own_note(night: HostileNight) -> None:
    journal = night.case("long_journal")["journal"]
    assert any(len(j["text"]) == LONG_TEXT_CHARS for j in journal)
    assert sum(NOTE_MARKER_PREFIX in j["text"] for j in journal) == 1


def test_the_report_executes_nothing_and_keeps_the_text(night: HostileNight) -> None:
    book = load_workbook(night.report.report_path)
    cells = [c for ws in book for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula, whatever the data said
    texts = [str(c.value) for c in cells]
    assert any("HYPERLINK" in t for t in texts)  # the hostile text is there, as text
    assert any(night.chosen["unparseable_amount"] in t for t in texts)


def test_no_log_or_artefact_holds_a_hostile_name(night: HostileNight) -> None:
    with sqlite3.connect(night.box.data_dir / "sandbox.db") as conn:
        people = conn.execute("SELECT pnr, first_name, last_name FROM cs_household WHERE case_id = ?",
                              (night.chosen["markup_names"],)).fetchall()
    assert {(first, last) for _, first, last in people} <= set(HOSTILE_NAMES)
    for path, text in artefact_texts(night.config).items():
        for pnr, first, last in people:
            assert pnr not in text and first not in text and last not in text, f"{path}"


def test_nothing_runs_in_the_case_systems_pages(night: HostileNight, page) -> None:  # type: ignore[no-untyped-def]
    # A caseworker opens every hostile case's tabs the morning after: no payload may have run.
    login(page, night.box, CASEWORKER)
    for case_id in night.chosen.values():
        for tab in ("sokande", "ansokan", "journal"):
            frame = open_in_frame(page, night.box, f"/arende/{case_id}/{tab}")
            text = frame.locator("body").inner_text()
            if case_id == night.chosen["markup_names"] and tab == "sokande":
                assert HOSTILE_NAMES[0][0] in text  # shown as the text it is
            flags = [f.evaluate(f"() => window.{XSS_FLAG} ?? null") for f in page.frames]
            assert flags == [None] * len(flags), f"{case_id}/{tab}"
