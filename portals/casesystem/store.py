"""The case system's reads and writes on the `cs_*` tables, with optimistic locking and an audit trail.

Every change goes through one `BEGIN IMMEDIATE` transaction that re-reads the case, checks its status and
version, writes, audits each changed value and bumps the version, so two writers can never both win.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from portals.casesystem.fields import EDITABLE_STATUSES, FIELD_KEYS, STATUS_TEXT, TOTAL_KEYS, compute_totals
from portals.db import transaction

CONFLICT_MESSAGE = "Ärendet har ändrats av en annan användare. Ladda om ärendet och gör om ändringen."
ALREADY_PARKED_MESSAGE = "Ärendet är redan parkerat för signering."
ALREADY_MANUAL_MESSAGE = "Ärendet är redan satt till manuell handläggning."


class CaseError(Exception):
    """A refused change: nothing was written. `status_code` is what the page answers with."""

    def __init__(self, message: str, status_code: int = 409, kind: str = "status") -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.kind = kind  # status | version | notfound | form (a field the page refuses) | role


def now_ts() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def audit(conn: sqlite3.Connection, username: str, case_id: str | None, field: str,
          old: object, new: object) -> None:
    conn.execute("INSERT INTO cs_audit (ts, username, case_id, field, old, new) VALUES (?, ?, ?, ?, ?, ?)",
                 (now_ts(), username, case_id, field, _text(old), _text(new)))


# -- reads ------------------------------------------------------------------------------------------

_CASE_SELECT = (
    "SELECT c.*, h.first_name AS applicant_first, h.last_name AS applicant_last "
    "FROM cs_cases c LEFT JOIN cs_household h "
    "ON h.case_id = c.case_id AND h.position = (SELECT MIN(position) FROM cs_household x "
    "WHERE x.case_id = c.case_id AND x.role = 'sokande') "
)


def load_case(conn: sqlite3.Connection, case_id: str) -> sqlite3.Row | None:
    return conn.execute(_CASE_SELECT + "WHERE c.case_id = ?", (case_id,)).fetchone()


def load_household(conn: sqlite3.Connection, case_id: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM cs_household WHERE case_id = ? ORDER BY position", (case_id,)).fetchall()


def load_declared_costs(conn: sqlite3.Connection, case_id: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT field, amount FROM cs_declared_costs WHERE case_id = ? ORDER BY rowid",
                        (case_id,)).fetchall()


def load_declared_incomes(conn: sqlite3.Connection, case_id: str) -> list[sqlite3.Row]:
    """Declared incomes with the member's name (one join, not a lookup per row)."""
    return conn.execute(
        "SELECT i.pnr, i.income_type, i.amount, h.first_name, h.last_name, h.role "
        "FROM cs_declared_incomes i LEFT JOIN cs_household h ON h.case_id = i.case_id AND h.pnr = i.pnr "
        "WHERE i.case_id = ? ORDER BY i.rowid", (case_id,)).fetchall()


def load_calc(conn: sqlite3.Connection, case_id: str) -> dict[str, int | None]:
    """Every form field and total, None where empty or never saved."""
    values: dict[str, int | None] = dict.fromkeys((*FIELD_KEYS, *TOTAL_KEYS))
    for row in conn.execute("SELECT field, value FROM cs_calc WHERE case_id = ?", (case_id,)):
        if row["field"] in values:
            values[row["field"]] = row["value"]
    return values


def load_journal(conn: sqlite3.Connection, case_id: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT ts, author, text FROM cs_journal WHERE case_id = ? ORDER BY id",
                        (case_id,)).fetchall()


@dataclass
class Decision:
    """One decided month of the case history: the decision, the household's persons and the decided calculation."""

    month: str
    outcome: str  # Beviljat | Avslag
    decided_by: str
    decided_on: str
    address: str
    household: list[str]  # personnummer (12 digits), in the order of the decision
    rows: list[tuple[str, int, int]]  # (form field, applied, approved), in the form's order


@dataclass
class History:
    older: str  # finns_inte | gallrade
    decisions: list[Decision]  # newest first

    @property
    def kept_from(self) -> str | None:
        """The oldest month kept ("Historik från"), None when there is no decision at all."""
        return self.decisions[-1].month if self.decisions else None

    def as_json(self) -> dict[str, object]:
        return {"kept_from": self.kept_from, "older": self.older, "decisions": [
            {"month": d.month, "outcome": d.outcome, "decided_by": d.decided_by, "decided_on": d.decided_on,
             "address": d.address, "household": d.household,
             "rows": [{"field": f, "applied": a, "approved": b} for f, a, b in d.rows]} for d in self.decisions]}


def load_history(conn: sqlite3.Connection, case_id: str) -> History:
    """The household's earlier monthly decisions, newest first (no history row: complete and empty)."""
    row = conn.execute("SELECT older FROM cs_history WHERE case_id = ?", (case_id,)).fetchone()
    persons: dict[str, list[str]] = {}
    for r in conn.execute("SELECT month, pnr FROM cs_decision_household WHERE case_id = ? ORDER BY month, position",
                          (case_id,)):
        persons.setdefault(r["month"], []).append(r["pnr"])
    order = {key: i for i, key in enumerate(FIELD_KEYS)}
    rows: dict[str, list[tuple[str, int, int]]] = {}
    for r in conn.execute("SELECT month, field, applied, approved FROM cs_decision_rows WHERE case_id = ?",
                          (case_id,)):
        rows.setdefault(r["month"], []).append((r["field"], r["applied"], r["approved"]))
    decisions = [
        Decision(r["month"], r["outcome"], r["decided_by"], r["decided_on"], r["address"],
                 persons.get(r["month"], []),
                 sorted(rows.get(r["month"], []), key=lambda x: (order.get(x[0], len(order)), x[0])))
        for r in conn.execute("SELECT * FROM cs_decisions WHERE case_id = ? ORDER BY month DESC", (case_id,))]
    return History(row["older"] if row else "finns_inte", decisions)


@dataclass
class InboxPage:
    rows: list[sqlite3.Row]
    total: int
    page: int
    pages: int


def inbox(conn: sqlite3.Connection, status: str = "", app_type: str = "", query: str = "",
          page: int = 1, page_size: int = 20) -> InboxPage:
    where, params = [], []
    if status:
        where.append("c.status = ?")
        params.append(status)
    if app_type:
        where.append("c.application_type = ?")
        params.append(app_type)
    if query:
        # A personnummer may be typed with a hyphen; the register stores the digits only.
        digits = query.replace("-", "").replace("+", "").replace(" ", "")
        where.append("(c.case_id LIKE ? OR c.applicant_pnr LIKE ?)")
        params += [f"%{query}%", f"%{digits}%"]
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    total = conn.execute("SELECT COUNT(*) FROM cs_cases c" + clause, params).fetchone()[0]
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    rows = conn.execute(_CASE_SELECT + clause + " ORDER BY c.received, c.case_id LIMIT ? OFFSET ?",
                        [*params, page_size, (page - 1) * page_size]).fetchall()
    return InboxPage(rows, total, page, pages)


# -- writes -----------------------------------------------------------------------------------------

def _locked_case(conn: sqlite3.Connection, case_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM cs_cases WHERE case_id = ?", (case_id,)).fetchone()
    if row is None:
        raise CaseError(f"Ärendet {case_id} finns inte.", 404, "notfound")
    return row


def _check_version(row: sqlite3.Row, version: int | None) -> None:
    if version is None or row["version"] != version:
        raise CaseError(CONFLICT_MESSAGE, 409, "version")


def _bump(conn: sqlite3.Connection, case_id: str, row: sqlite3.Row, **changes: object) -> int:
    new_version = row["version"] + 1
    sets = ", ".join(f"{k} = ?" for k in changes)
    conn.execute(f"UPDATE cs_cases SET {sets}{', ' if sets else ''}version = ? WHERE case_id = ?",
                 [*changes.values(), new_version, case_id])
    return new_version


def _set_fields(conn: sqlite3.Connection, username: str, row: sqlite3.Row, **changes: object) -> dict[str, object]:
    """Audit the case columns that actually change; returns them for the UPDATE."""
    changed = {k: v for k, v in changes.items() if row[k] != v}
    for key, value in changed.items():
        audit(conn, username, row["case_id"], key, row[key], value)
    return changed


def check_calc_writable(row: sqlite3.Row, version: int | None) -> None:
    """Parked, manual and decided cases have a read-only calculation; then the version must match."""
    if row["status"] not in EDITABLE_STATUSES:
        raise CaseError(f"Beräkningen är låst för ändringar (status: {STATUS_TEXT.get(row['status'])}).")
    _check_version(row, version)


def save_calc(conn: sqlite3.Connection, case_id: str, username: str, version: int | None,
              values: dict[str, int | None]) -> int:
    """Store validated values and their totals; returns the new version."""
    with transaction(conn):
        row = _locked_case(conn, case_id)
        check_calc_writable(row, version)
        old = load_calc(conn, case_id)
        new = {**values, **compute_totals(values)}
        conn.executemany(
            "INSERT INTO cs_calc (case_id, field, value) VALUES (?, ?, ?) "
            "ON CONFLICT (case_id, field) DO UPDATE SET value = excluded.value",
            [(case_id, key, new[key]) for key in (*FIELD_KEYS, *TOTAL_KEYS)])
        # Totals are derived, not entered: the trail records what a person (or the robot) typed.
        for key in FIELD_KEYS:
            if old[key] != new[key]:
                audit(conn, username, case_id, key, old[key], new[key])
        status = "under_behandling" if row["status"] == "inkommen" else row["status"]
        return _bump(conn, case_id, row, **_set_fields(conn, username, row, status=status))


def add_note(conn: sqlite3.Connection, case_id: str, username: str, version: int | None, text: str) -> int:
    with transaction(conn):
        row = _locked_case(conn, case_id)
        _check_version(row, version)
        conn.execute("INSERT INTO cs_journal (case_id, ts, author, text) VALUES (?, ?, ?, ?)",
                     (case_id, now_ts(), username, text))
        audit(conn, username, case_id, "journal", None, text)
        return _bump(conn, case_id, row)


def _check_hand_over(row: sqlite3.Row, version: int | None, status: str, already: str, refused: str) -> None:
    """May an editable case be handed over to its caseworker in `status`? `already`: the answer when it is in
    `status` already; `refused`: how the answer for any other locked status begins."""
    # Checked before the version: a robot retrying a hand-over it already did must be told so plainly.
    if row["status"] == status:
        raise CaseError(already)
    if row["status"] not in EDITABLE_STATUSES:
        raise CaseError(f"{refused} i status {STATUS_TEXT.get(row['status'], row['status'])}.")
    _check_version(row, version)


def park(conn: sqlite3.Connection, case_id: str, username: str, version: int | None,
         needs_completion: bool) -> sqlite3.Row:
    """Ready for signature, assigned to the case's caseworker. Returns the case as it was before."""
    with transaction(conn):
        row = _locked_case(conn, case_id)
        _check_hand_over(row, version, "klar_for_signering", ALREADY_PARKED_MESSAGE,
                         "Ärendet kan inte parkeras för signering")
        _bump(conn, case_id, row, **_set_fields(conn, username, row, status="klar_for_signering",
                                                  assigned_to=row["caseworker"],
                                                  needs_completion=int(needs_completion)))
        return row


def set_manual(conn: sqlite3.Connection, case_id: str, username: str, version: int | None, reason: str) -> None:
    with transaction(conn):
        row = _locked_case(conn, case_id)
        _check_hand_over(row, version, "manuell", ALREADY_MANUAL_MESSAGE,
                         "Ärendet kan inte sättas till manuell handläggning")
        _bump(conn, case_id, row, **_set_fields(conn, username, row, status="manuell", manual_reason=reason,
                                                  assigned_to=row["caseworker"]))


def sign(conn: sqlite3.Connection, case_id: str, username: str, version: int | None) -> None:
    with transaction(conn):
        row = _locked_case(conn, case_id)
        if row["status"] == "beslutad":
            raise CaseError("Beslutet är redan signerat.")
        if row["status"] != "klar_for_signering":
            raise CaseError("Endast ärenden som är klara för signering kan signeras.")
        _check_version(row, version)
        _bump(conn, case_id, row, **_set_fields(conn, username, row, status="beslutad"))


def record_denied_signing(conn: sqlite3.Connection, case_id: str, username: str) -> None:
    """A refused signing attempt leaves a trace: who tried, on which case, when."""
    row = conn.execute("SELECT status FROM cs_cases WHERE case_id = ?", (case_id,)).fetchone()
    audit(conn, username, case_id, "signering", row["status"] if row else None, "nekad: saknar behörighet")


def touch(conn: sqlite3.Connection, case_id: str, username: str = "handlaggare1") -> int:
    """What a caseworker's edit does to the case's version (the admin hook for locking conflicts)."""
    with transaction(conn):
        row = _locked_case(conn, case_id)
        audit(conn, username, case_id, "version", row["version"], row["version"] + 1)
        return _bump(conn, case_id, row)
