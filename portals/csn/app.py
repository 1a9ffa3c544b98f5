"""Study aid (CSN-like): find the student, then download the payment statement as a CSV file.

The figures are only in the file, never on screen, so the robot must handle a real download. The file is
what a Swedish export looks like when opened in Excel: UTF-8 with a byte-order mark, CRLF line ends,
semicolons between fields and decimal commas with a space as thousands separator ("1 250,00").
"""

from __future__ import annotations

import csv
import io

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from portals.web import sessions
from portals.web.agency import AVVIKELSE_TEXT, Pnr, build_agency_app, has_gap, in_clause, page, parse_pnr, search_page
from portals.web.app import Page
from portals.web.context import PortalContext
from portals.web.faults import FaultInjection
from portals.web.formats import fmt_decimal

PORTAL = "csn"
CSV_HEADER = ("Månad", "Stödform", "Belopp")
STATEMENT_UNAVAILABLE = "Utbetalningsbesked kan inte tas fram just nu."

# The seed may store a kind as a short key or as the text; the statement always prints the text.
KINDS = {
    "studiebidrag": "Studiebidrag",
    "bidrag": "Studiebidrag",
    "studielan": "Studielån",
    "studielån": "Studielån",
    "lan": "Studielån",
    "lån": "Studielån",
    "studiehjalp": "Studiehjälp",
    "studiehjälp": "Studiehjälp",
}


def kind_text(value: str) -> str:
    return KINDS.get(value.strip().lower(), value)


def _answer(ctx: PortalContext, session: sessions.Session, pnr: Pnr, typed: str) -> Response:
    # The figures are only in the statement: the result page offers it, or says why it cannot.
    if has_gap(ctx.conn, PORTAL, pnr):
        return page(ctx, session, "result.html", typed=typed, pnr=pnr.display, unavailable=STATEMENT_UNAVAILABLE,
                    avvikelse=AVVIKELSE_TEXT)
    return page(ctx, session, "result.html", typed=typed, pnr=pnr.display, pnr12=pnr.digits12)


def statement_csv(rows: list[tuple[str, str, int]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for month, kind, amount in rows:
        writer.writerow((month, kind_text(kind), fmt_decimal(amount)))
    return buffer.getvalue().encode("utf-8-sig")


async def download(ctx: PortalContext, request: Request, session: sessions.Session) -> Response:
    pnr = parse_pnr(request.query_params.get("pnr", ""))
    if pnr is None:
        return HTMLResponse(ctx.render("error.html", title="Ogiltig begäran", message="Ogiltigt personnummer."),
                            status_code=400)
    if has_gap(ctx.conn, PORTAL, pnr):
        return HTMLResponse(ctx.render("error.html", title="Utbetalningsbesked",
                                       message=f"{STATEMENT_UNAVAILABLE} {AVVIKELSE_TEXT}."), status_code=409)
    clause, values = in_clause(pnr)
    rows = ctx.conn.execute(
        f"SELECT substr(month, 1, 7) AS month, kind, amount FROM csn_payments WHERE {clause} ORDER BY month, kind",
        values,
    ).fetchall()
    body = statement_csv([(r["month"], r["kind"], r["amount"]) for r in rows])
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="utbetalningar-{pnr.masked}.csv"',
        "Cache-Control": "no-store",
    })


def create_app(ctx: PortalContext) -> FaultInjection:
    return build_agency_app(ctx, "/sok", [
        Page("/sok", search_page(_answer), methods=("GET", "POST")),
        Page("/utbetalningsbesked.csv", download),
    ])
