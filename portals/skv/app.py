"""The population register (Skatteverket-like): a personnummer search, then the person, the registered
address and everyone folkbokförd there.

Server-rendered, POST-only search (the personnummer never appears in a URL, so it stays out of access logs
and browser history, as a real authority portal would have it). A protected person's name and address are
withheld from an authority without clearance; such a person at the address shows as "Skyddad identitet".
"""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.responses import Response

from portals.web import sessions
from portals.web.agency import (
    AVVIKELSE_TEXT,
    Pnr,
    build_agency_app,
    has_gap,
    in_clause,
    page,
    pnr_from_stored,
    search_page,
)
from portals.web.app import Page
from portals.web.context import PortalContext
from portals.web.faults import FaultInjection

PORTAL = "skv"


def _person(conn: sqlite3.Connection, pnr: Pnr) -> sqlite3.Row | None:
    clause, values = in_clause(pnr)
    return conn.execute(f"SELECT * FROM skv_persons WHERE {clause} LIMIT 1", values).fetchone()


def _current_registration(conn: sqlite3.Connection, stored_pnr: str) -> sqlite3.Row | None:
    """The latest registration is where the person is folkbokförd now (older rows are moves)."""
    return conn.execute(
        "SELECT address, from_date FROM skv_registrations WHERE pnr = ? ORDER BY from_date DESC LIMIT 1",
        (stored_pnr,),
    ).fetchone()


def _residents(conn: sqlite3.Connection, address: str) -> list[dict[str, Any]]:
    """Everyone whose current registration is `address`, oldest registration first."""
    rows = conn.execute(
        "SELECT r.pnr, r.from_date, p.first_name, p.last_name, p.birth_date, COALESCE(p.protected, 0) AS protected "
        "FROM skv_registrations r LEFT JOIN skv_persons p ON p.pnr = r.pnr "
        "WHERE r.address = ? AND r.from_date = (SELECT MAX(r2.from_date) FROM skv_registrations r2 "
        "WHERE r2.pnr = r.pnr) ORDER BY r.from_date, p.birth_date, r.pnr",
        (address,),
    ).fetchall()
    residents = []
    for row in rows:
        pnr = pnr_from_stored(row["pnr"])
        residents.append({
            "protected": bool(row["protected"]),
            "pnr": pnr.display,
            "name": f"{row['first_name'] or ''} {row['last_name'] or ''}".strip(),
            "birth_date": row["birth_date"] or pnr.birth_date,
            "from_date": row["from_date"],
        })
    return residents


def _answer(ctx: PortalContext, session: sessions.Session, pnr: Pnr, typed: str) -> Response:
    if has_gap(ctx.conn, PORTAL, pnr):
        return page(ctx, session, "avvikelse.html", pnr=pnr.display, avvikelse=AVVIKELSE_TEXT)
    person = _person(ctx.conn, pnr)
    if person is None:
        return page(ctx, session, "search.html", typed=typed,
                    error=f"Ingen person med personnummer {pnr.display} finns i folkbokföringen.")
    if person["protected"]:
        # Withheld entirely: the name, the address and so who else lives there would all reveal the person.
        return page(ctx, session, "result.html", pnr=pnr.display, protected=True)
    registration = _current_registration(ctx.conn, person["pnr"])
    residents = _residents(ctx.conn, registration["address"]) if registration else []
    return page(
        ctx, session, "result.html", pnr=pnr.display, protected=False,
        person={"first_name": person["first_name"], "last_name": person["last_name"],
                "birth_date": person["birth_date"]},
        registration=registration, residents=residents,
    )


def create_app(ctx: PortalContext) -> FaultInjection:
    return build_agency_app(ctx, "/sok", [Page("/sok", search_page(_answer), methods=("GET", "POST"))])
