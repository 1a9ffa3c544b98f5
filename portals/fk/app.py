"""Social insurance (Försäkringskassan-like): a single-page app over a small JSON API.

`/app` is an HTML shell whose inline script calls `GET /api/utbetalningar` and renders the answer, so
the robot must wait for data that arrives after the page has loaded. The API sleeps a little on every
call (a real back end behind a gateway is never instant) on top of the latency knob; the JSON shape is
the same in both layout versions, only the shell's markup changes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from portals.web import sessions
from portals.web.agency import build_agency_app, has_gap, in_clause, month_ok, parse_pnr
from portals.web.app import Page
from portals.web.context import PortalContext
from portals.web.faults import FaultInjection

PORTAL = "fk"
API_DELAY_S = (0.15, 0.40)
MAX_SPAN_MONTHS = 24  # the real interface refuses queries over two years (HTTP 400)
AVVIKELSE = "Uppgifter kan inte lämnas just nu"


def _months_between(start: str, end: str) -> int:
    return (int(end[:4]) - int(start[:4])) * 12 + int(end[5:7]) - int(start[5:7])


def _default_period(ctx: PortalContext) -> tuple[str, str]:
    """The search box's initial months: the sandbox's period month if the seed recorded one, else this month,
    and the eleven months before it (what a caseworker usually wants to see)."""
    row = ctx.conn.execute("SELECT value FROM sb_meta WHERE key = 'period'").fetchone()
    end = row["value"] if row and month_ok(row["value"]) else dt.date.today().strftime("%Y-%m")
    year, month = int(end[:4]), int(end[5:7]) - 11
    while month < 1:
        month += 12
        year -= 1
    return f"{year:04d}-{month:02d}", end


async def shell(ctx: PortalContext, request: Request, session: sessions.Session) -> Response:
    start, end = _default_period(ctx)
    return HTMLResponse(ctx.render("app.html", user=session.display_name, start=start, end=end))


def _bad_request(code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "meddelande": message}, status_code=400)


async def payments_api(ctx: PortalContext, request: Request, session: sessions.Session) -> Response:
    await asyncio.sleep(random.uniform(*API_DELAY_S))
    params = request.query_params
    pnr = parse_pnr(params.get("pnr", ""))
    if pnr is None:
        return _bad_request("ogiltigt_personnummer", "Ogiltigt personnummer")
    start, end = params.get("from", ""), params.get("to", "")
    if not (month_ok(start) and month_ok(end)) or start > end:
        return _bad_request("ogiltig_period", "Ange period som ÅÅÅÅ-MM, från och med till och med")
    if _months_between(start, end) >= MAX_SPAN_MONTHS:
        return _bad_request("for_lang_period", "Perioden får vara högst 24 månader")
    if has_gap(ctx.conn, PORTAL, pnr):
        # HTTP 200 on purpose: the back end answered; it is the data that is missing (LEFI "avvikelser").
        return JSONResponse({"personnummer": pnr.display, "from": start, "to": end, "avvikelse": AVVIKELSE})
    clause, values = in_clause(pnr)
    rows = ctx.conn.execute(
        f"SELECT substr(month, 1, 7) AS month, benefit, amount FROM fk_payments WHERE {clause} "
        "AND substr(month, 1, 7) BETWEEN ? AND ? ORDER BY month, benefit",
        (*values, start, end),
    ).fetchall()
    return JSONResponse({
        "personnummer": pnr.display,
        "from": start,
        "to": end,
        "utbetalningar": [{"manad": r["month"], "formanstyp": r["benefit"], "belopp": r["amount"]} for r in rows],
    })


def create_app(ctx: PortalContext) -> FaultInjection:
    return build_agency_app(ctx, "/app", [
        Page("/app", shell),
        Page("/api/utbetalningar", payments_api),
    ])
