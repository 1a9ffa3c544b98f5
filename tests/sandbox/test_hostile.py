"""The hostile-data rewrites themselves (no browser): refused where they cannot apply, and `sb_expected` kept
true for what the robot must do afterwards."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from portals import db, seed
from portals.hostile import HostileError, long_text, make_hostile


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    connection = db.connect(tmp_path / "sandbox.db")
    db.init_schema(connection)
    seed.write_world(connection, seed.generate_world(12, 43, "2024-12"))
    return connection


def _simple_case(conn: sqlite3.Connection) -> str:
    return conn.execute("SELECT case_id FROM sb_expected WHERE kind = 'simple' AND outcome != 'manual' "
                        "ORDER BY case_id LIMIT 1").fetchone()[0]


def test_unknown_kind_and_a_case_not_new_are_refused(conn: sqlite3.Connection) -> None:
    case_id = _simple_case(conn)
    with pytest.raises(HostileError, match="unknown kind"):
        make_hostile(conn, case_id, "emoji")
    with pytest.raises(HostileError, match="not a new case"):
        make_hostile(conn, "EB-0000-0000", "markup_names")


def test_an_unreadable_amount_is_stored_as_text_and_expected_manual(conn: sqlite3.Connection) -> None:
    case_id = _simple_case(conn)
    make_hostile(conn, case_id, "negative_amount")
    texts = [r[0] for r in conn.execute("SELECT amount FROM cs_declared_costs WHERE case_id = ? AND "
                                        "typeof(amount) = 'text'", (case_id,))]
    assert len(texts) == 1 and texts[0].startswith("\u2212")
    row = conn.execute("SELECT outcome, reasons_json FROM sb_expected WHERE case_id = ?", (case_id,)).fetchone()
    assert row[0] == "manual" and json.loads(row[1]) == ["UNPARSEABLE_AMOUNT"]


def test_markup_names_keep_the_case_and_the_register_in_agreement(conn: sqlite3.Connection) -> None:
    case_id = _simple_case(conn)
    before = conn.execute("SELECT * FROM sb_expected WHERE case_id = ?", (case_id,)).fetchone()
    make_hostile(conn, case_id, "markup_names")
    pairs = conn.execute("SELECT h.first_name = p.first_name AND h.last_name = p.last_name FROM cs_household h "
                         "JOIN skv_persons p ON p.pnr = h.pnr WHERE h.case_id = ?", (case_id,)).fetchall()
    assert pairs and all(ok for (ok,) in pairs)
    assert tuple(conn.execute("SELECT * FROM sb_expected WHERE case_id = ?", (case_id,)).fetchone()) == tuple(before)


def test_the_long_text_is_ten_thousand_characters_of_trouble() -> None:
    text = long_text()
    assert len(text) == 10_000 and "<script>" in text and "\u202e" in text and "\u0301" in text
