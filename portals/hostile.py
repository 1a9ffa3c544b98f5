"""Hostile data: rewrite one seeded case so that what its portals show is what real nights bring.

Names with markup, quotes, SQL and spreadsheet formulas, right-to-left and combining Unicode, a 10,000-character
journal entry, amounts printed as "1 234,50 kr" or "−500" or "4 5OO". For the robot's reliability tests and for
training (`POST /_admin/cases/<id>/hostile {"kind": ...}` on the case system).

Each kind changes the stored data the way a portal or an applicant would have typed it, and keeps `sb_expected`
true: where the amounts stay integers the oracle works the case out again from the tables; where an amount is
now text, the kind says what the robot must do (the same figures, or manual handling for an amount that is not
one). Markup in names carries `window.__casebot_xss` payloads, so a test can see whether anything executed it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from portals import db, oracle

XSS_FLAG = "__casebot_xss"
# One per household member, in order (cycled); each is a different way to break a naive robot or report.
HOSTILE_NAMES: tuple[tuple[str, str], ...] = (
    (f'<img src=x onerror="window.{XSS_FLAG}=1">', "<script>window.__casebot_xss=2</script>"),
    ("O'Brien \"Bobby\"", "Robert'); DROP TABLE cs_cases;--"),
    ('=HYPERLINK("https://evil.example","Öppna")', "@SUM(1+1)*cmd|' /C calc'!A0"),
    ("\u202eنور\u202c", "Zoe\u0308 A\u030angstro\u0308m"),
)
HOSTILE_ADDRESS_SUFFIX = ' <b>"lgh 1101"</b> \'; --'
LONG_TEXT_CHARS = 10_000
UNPARSEABLE = "UNPARSEABLE_AMOUNT"


class HostileError(ValueError):
    """The case cannot take that kind (no such case, or nothing to rewrite)."""


def long_text() -> str:
    """10,000 characters a caseworker might paste: markup, quotes, RTL and combining marks, line breaks."""
    unit = (f"<script>window.{XSS_FLAG}=3</script> \"citat\" 'x' \u202eטקסט\u202c e\u0301\u0301 "
            "=1+1 ; DROP TABLE cs_journal; --\n")
    text = (unit * (LONG_TEXT_CHARS // len(unit) + 1))[:LONG_TEXT_CHARS]
    return text


def _grouped(amount: int, gap: str = " ") -> str:
    return f"{amount:,}".replace(",", gap)


def _first_cost(conn: sqlite3.Connection, case_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT field, amount FROM cs_declared_costs WHERE case_id = ? AND typeof(amount) = "
                       "'integer' AND amount >= 1000 ORDER BY amount DESC, field LIMIT 1", (case_id,)).fetchone()
    if row is None:
        raise HostileError(f"{case_id} declares no cost of at least 1 000 kr to rewrite")
    return row


def _set_cost_text(conn: sqlite3.Connection, case_id: str, field: str, text: str) -> None:
    # SQLite keeps a text that is not a number as text even in an INTEGER column: the screen prints it as stored.
    conn.execute("UPDATE cs_declared_costs SET amount = ? WHERE case_id = ? AND field = ?", (text, case_id, field))


def _markup_names(conn: sqlite3.Connection, case_id: str) -> None:
    members = conn.execute("SELECT position, pnr FROM cs_household WHERE case_id = ? ORDER BY position",
                           (case_id,)).fetchall()
    for i, member in enumerate(members):
        first, last = HOSTILE_NAMES[i % len(HOSTILE_NAMES)]
        conn.execute("UPDATE cs_household SET first_name = ?, last_name = ? WHERE case_id = ? AND position = ?",
                     (first, last, case_id, member["position"]))
        conn.execute("UPDATE skv_persons SET first_name = ?, last_name = ? WHERE pnr = ?",
                     (first, last, member["pnr"]))
    # The address the case and the register agree on, hostile in both (the comparison must still match).
    address = conn.execute("SELECT address FROM cs_cases WHERE case_id = ?", (case_id,)).fetchone()["address"]
    if not address.endswith(HOSTILE_ADDRESS_SUFFIX):
        hostile = address + HOSTILE_ADDRESS_SUFFIX
        conn.execute("UPDATE cs_cases SET address = ? WHERE address = ?", (hostile, address))
        conn.execute("UPDATE skv_registrations SET address = ? WHERE address = ?", (hostile, address))
        # The case's earlier decisions at this address show it as the case system holds it now.
        conn.execute("UPDATE cs_decisions SET address = ? WHERE case_id = ? AND address = ?",
                     (hostile, case_id, address))
    _recompute(conn, case_id)


def _long_journal(conn: sqlite3.Connection, case_id: str) -> None:
    conn.execute("INSERT INTO cs_journal (case_id, ts, author, text) VALUES (?, datetime('now'), ?, ?)",
                 (case_id, "handlaggare1", long_text()))
    _recompute(conn, case_id)


def _markup_income_type(conn: sqlite3.Connection, case_id: str) -> None:
    applicant = conn.execute("SELECT applicant_pnr FROM cs_cases WHERE case_id = ?", (case_id,)).fetchone()[0]
    conn.execute("INSERT INTO cs_declared_incomes (case_id, pnr, income_type, amount) VALUES (?, ?, ?, ?)",
                 (case_id, applicant, f'<script>window.{XSS_FLAG}=4</script>=HYPERLINK("x")', 700))
    _recompute(conn, case_id)


def _amount_text(conn: sqlite3.Connection, case_id: str) -> None:
    # v − 1 kronor and 50 öre rounds half up to v: the same figures, printed the hard way.
    cost = _first_cost(conn, case_id)
    _set_cost_text(conn, case_id, cost["field"], f"{_grouped(cost['amount'] - 1, chr(0xA0))},50 kr")


def _unparseable_amount(conn: sqlite3.Connection, case_id: str) -> None:
    cost = _first_cost(conn, case_id)
    printed = _grouped(cost["amount"])
    _set_cost_text(conn, case_id, cost["field"], printed.replace("0", "O") if "0" in printed else f"ca {printed}")
    _expect_manual(conn, case_id, UNPARSEABLE)


def _negative_amount(conn: sqlite3.Connection, case_id: str) -> None:
    cost = _first_cost(conn, case_id)
    _set_cost_text(conn, case_id, cost["field"], "\u2212" + _grouped(cost["amount"]))
    _expect_manual(conn, case_id, UNPARSEABLE)


def _recompute(conn: sqlite3.Connection, case_id: str) -> None:
    kind = conn.execute("SELECT kind FROM sb_expected WHERE case_id = ?", (case_id,)).fetchone()[0]
    conn.execute("INSERT OR REPLACE INTO sb_expected VALUES (?, ?, ?, ?, ?, ?)",
                 oracle.to_row(oracle.expected_outcome(oracle.load_case_facts(conn, case_id)), kind))


def _expect_manual(conn: sqlite3.Connection, case_id: str, reason: str) -> None:
    conn.execute("UPDATE sb_expected SET outcome = 'manual', fields_json = '{}', empty_fields_json = '[]', "
                 "reasons_json = ? WHERE case_id = ?", (json.dumps([reason]), case_id))


KINDS: dict[str, Callable[[sqlite3.Connection, str], None]] = {
    "markup_names": _markup_names,
    "long_journal": _long_journal,
    "markup_income_type": _markup_income_type,
    "amount_text": _amount_text,
    "unparseable_amount": _unparseable_amount,
    "negative_amount": _negative_amount,
}


def make_hostile(conn: sqlite3.Connection, case_id: str, kind: str) -> None:
    """Rewrite `case_id` with hostile data of `kind` (see KINDS), in one transaction."""
    if kind not in KINDS:
        raise HostileError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    if conn.execute("SELECT 1 FROM cs_cases WHERE case_id = ? AND status = 'inkommen'", (case_id,)).fetchone() is None:
        raise HostileError(f"{case_id} is not a new case in the case system")
    with db.transaction(conn):
        KINDS[kind](conn, case_id)
