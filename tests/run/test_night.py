"""The nightly run end to end: a real sandbox, real Chromium, a real SQLite store, the real morning report.

Correctness is judged by the sandbox's oracle (portals/oracle.py, no code shared with bot/) and by the case
system's audit trail, which records every write the robot made.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from bot.calc.fields import ALL_FIELDS
from bot.config import Config
from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_config, sandbox_environ
from bot.drivers.casesystem import CaseSystem
from bot.note import NOTE_MARKER_PREFIX
from bot.run.entry import NightReport, run_once
from bot.store import NewWorkItem, SqliteStore
from tests.artefacts import artefact_texts
from tests.drivers.conftest import ACCOUNTS
from tests.sandbox_proc import https_get, start_sandbox, trusted_home

pytestmark = pytest.mark.browser

CASES = 20


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = start_sandbox(Path(tmp_path_factory.mktemp("night")), cases=CASES, seed=3)
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture(scope="module")
def config(box: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Config:
    return sandbox_config(Path(tmp_path_factory.mktemp("robot")), box, workers=2)


def night(config: Config, **kwargs: object) -> NightReport:
    return asyncio.run(run_once(config, environ=sandbox_environ(), console=False, **kwargs))  # type: ignore[arg-type]


def robot_audit(box: Sandbox) -> list[dict[str, object]]:
    rows = https_get(box.url("casesystem", "/_admin/audit"), timeout=30).json()
    return [r for r in rows if r["username"] == "robot"]


def expected(box: Sandbox) -> dict[str, dict[str, object]]:
    return {r["case_id"]: r for r in box.admin_get("casesystem", "/_admin/expected")}  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def first_night(box: Sandbox, config: Config) -> NightReport:
    """A trial run of 8 cases first (operators do that), then the whole night: the second continues nothing
    and takes the rest, since the trial run finished."""
    trial = night(config, limit=8)
    assert trial.result.summary.total == 8
    return night(config)


def test_every_case_is_handled_as_the_oracle_expects(box: Sandbox, first_night: NightReport) -> None:
    summary = first_night.result.summary
    assert first_night.exit_code == 0, summary
    assert summary.by_state.get("failed", 0) == 0 and summary.open == 0
    oracle = expected(box)
    new_cases = [c for c in oracle if c in {i["case_id"] for i in box.admin_get("casesystem", "/_admin/cases")}]  # type: ignore[union-attr]
    assert differences_from_oracle(box, new_cases) == {}
    # The seed's mix reaches every outcome, so this proves more than "everything went to manual".
    assert Counter(r["outcome"] for r in oracle.values()).keys() >= {"auto", "partial", "manual"}


def test_the_robot_never_signs_and_writes_one_note_per_case(box: Sandbox, first_night: NightReport) -> None:
    audit = robot_audit(box)
    assert not [a for a in audit if a["field"] == "signering"]
    assert not [a for a in audit if a["field"] == "status" and a["new"] == "beslutad"]
    notes = Counter(a["case_id"] for a in audit if a["field"] == "journal" and NOTE_MARKER_PREFIX in str(a["new"]))
    parked = Counter(a["case_id"] for a in audit if a["field"] == "status" and a["new"] in ("klar_for_signering",
                                                                                           "manuell"))
    assert set(notes) == set(parked) and set(notes.values()) == {1} and set(parked.values()) == {1}
    assert len(parked) == CASES


ALLOWED_FIELDS = {*ALL_FIELDS, "status", "assigned_to", "needs_completion", "manual_reason", "journal"}
ALLOWED_STATUSES = {"under_behandling", "klar_for_signering", "manuell"}


def test_the_robot_writes_only_allowed_fields_and_statuses(box: Sandbox, first_night: NightReport) -> None:
    audit = robot_audit(box)
    assert audit  # the robot did write
    assert {a["field"] for a in audit} <= ALLOWED_FIELDS
    assert {a["new"] for a in audit if a["field"] == "status"} <= ALLOWED_STATUSES
    oracle = expected(box)
    for a in audit:  # no field a manual case must leave empty was written
        if a["field"] in ALL_FIELDS:
            assert oracle[str(a["case_id"])]["outcome"] != "manual", a
            assert a["field"] not in oracle[str(a["case_id"])]["empty_fields"], a


def test_the_note_says_where_every_figure_came_from(box: Sandbox, first_night: NightReport) -> None:
    auto = next(c for c, r in expected(box).items() if r["outcome"] == "auto")
    case = box.admin_get("casesystem", f"/_admin/cases/{auto}")
    note = next(j["text"] for j in case["journal"] if NOTE_MARKER_PREFIX in j["text"])  # type: ignore[index]
    assert "Belopp och källor" in note and "casesystem: Ansökan" in note and "signerat" in note
    assert re.search(r"att betala enligt beräkningen [\d ]+ kr", note)
    assert f"{case['calc']['att_betala']:,}".replace(",", " ") in note  # type: ignore[index]


def test_the_morning_report_matches_the_store(first_night: NightReport, config: Config) -> None:
    book = openpyxl.load_workbook(first_night.report_path)
    rows = list(book["Ärenden"].iter_rows(min_row=2, values_only=True))
    store = SqliteStore(config.data_dir / "casebot.db")
    try:
        items = store.items(first_night.result.run_id)
    finally:
        store.close()
    assert len(rows) == len(items) == CASES - 8
    assert {r[0] for r in rows} == {i.case_id for i in items}
    for row in rows:
        assert re.fullmatch(r"\d{8}-XXXX", str(row[1]))


def test_a_second_night_changes_nothing(box: Sandbox, config: Config, first_night: NightReport) -> None:
    before = robot_audit(box)
    again = night(config)
    assert again.result.summary.total == 0
    assert robot_audit(box) == before


def test_a_case_saved_but_not_parked_is_finished_by_the_next_run(box: Sandbox, config: Config,
                                                                   first_night: NightReport) -> None:
    """What a crash between save and park leaves: a form saved with stale values, the case under_behandling, an
    unfinished work item. The next run fills it right, verifies it and parks it, once."""
    async def leave_half_done(sandbox: Sandbox, case_id: str) -> None:
        from bot.browser.launch import running_chromium
        from bot.selectors.load import load_selector_file

        async with running_chromium(home=trusted_home()) as chromium:
            page = await chromium.browser.new_page()
            cs = CaseSystem("casesystem", sandbox.url("casesystem"), page,
                            load_selector_file(Path("selectors/casesystem.yaml")),
                            ACCOUNTS["casesystem"])
            await cs.fill_calculation(case_id, {"boende": 1, "lon": 99999})

    # A world of its own: the module's sandbox has no new cases left after the first night.
    fresh = start_sandbox(box.data_dir.parent / "half-done", cases=6, seed=5)
    try:
        cfg = sandbox_config(config.data_dir.parent / "half-done-robot", fresh, workers=1)
        oracle = expected(fresh)
        case_id = next(c for c, r in oracle.items() if r["outcome"] == "auto")
        store = SqliteStore(cfg.data_dir / "casebot.db")
        run = store.open_run({})
        store.add_work_items(run.id, [NewWorkItem(case_id, "2024-12")])
        item = store.claim_next(run.id, "crashed-worker")
        assert item is not None
        store.checkpoint(item, "collect")
        store.close()
        asyncio.run(leave_half_done(fresh, case_id))
        result = night(cfg)
        assert result.result.summary.by_state.get("done", 0) == len(oracle)
        assert differences_from_oracle(fresh) == {}
        audit = [a for a in https_get(fresh.url("casesystem", f"/_admin/audit?case_id={case_id}"), timeout=10).json()
                 if a["username"] == "robot"]
        assert [a["new"] for a in audit if a["field"] == "status"] == ["under_behandling", "klar_for_signering"]
    finally:
        fresh.stop()


def test_no_artefact_holds_a_personnummer_a_name_or_a_password(box: Sandbox, config: Config,
                                                               first_night: NightReport) -> None:
    with sqlite3.connect(box.data_dir / "sandbox.db") as conn:
        people = conn.execute("SELECT DISTINCT pnr, first_name, last_name FROM cs_household").fetchall()
    secrets = set(sandbox_environ().values())
    texts = artefact_texts(config)
    assert any(p.suffix == ".jsonl" for p in texts) and any(p.suffix == ".xlsx" for p in texts)
    for path, text in texts.items():
        for pnr, first, last in people:
            for form in (pnr, f"{pnr[:8]}-{pnr[8:]}", f"{pnr[2:8]}-{pnr[8:]}"):
                assert form not in text, f"a personnummer in {path}"
            assert f"{first} {last}" not in text, f"a full name in {path}"
        for secret in secrets:
            assert secret not in text, f"a password in {path}"
        assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"
