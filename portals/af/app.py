"""Employment service (Arbetsförmedlingen-like): a search page whose answer is an embedded frame.

The search (POST, CSRF) renders the page again with an `<iframe src="/status-frame?pnr=…">`: the status
itself lives in another document, as in the many agency portals that embed an older status component, so
the robot must switch into the frame to read it. The frame needs the same session cookie and, like the
component it imitates, may only be framed by its own origin.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from portals.web import sessions
from portals.web.agency import AVVIKELSE_TEXT, Pnr, build_agency_app, has_gap, in_clause, page, parse_pnr, search_page
from portals.web.app import Page
from portals.web.context import PortalContext
from portals.web.faults import FaultInjection

PORTAL = "af"
FRAME_HEADERS = {"X-Frame-Options": "SAMEORIGIN", "Content-Security-Policy": "frame-ancestors 'self'"}

# The seed may store the activity as a short key or as the text itself; either way the frame prints the text.
ACTIVITIES = {
    "jobbgarantin": "Jobb- och utvecklingsgarantin",
    "jobb_och_utvecklingsgarantin": "Jobb- och utvecklingsgarantin",
    "jog": "Jobb- och utvecklingsgarantin",
    "oppet_arbetslos": "Öppet arbetslös",
    "ungdomsgarantin": "Jobbgarantin för ungdomar",
    "jobbgaranti_ungdom": "Jobbgarantin för ungdomar",
    "etablering": "Etableringsprogrammet",
    "etableringsprogrammet": "Etableringsprogrammet",
    "rusta_och_matcha": "Rusta och matcha",
    "deltid": "Deltidsarbetande",
    "arbetsmarknadsutbildning": "Arbetsmarknadsutbildning",
}


def activity_text(value: str | None) -> str:
    if not value:
        return "–"
    return ACTIVITIES.get(value.strip().lower(), value)


def _answer(ctx: PortalContext, session: sessions.Session, pnr: Pnr, typed: str) -> Response:
    return page(ctx, session, "search.html", typed=typed, frame_src=f"/status-frame?pnr={pnr.digits12}")


async def status_frame(ctx: PortalContext, request: Request, session: sessions.Session) -> Response:
    pnr = parse_pnr(request.query_params.get("pnr", ""))
    if pnr is None:
        return HTMLResponse(ctx.render("frame.html", error="Ogiltigt personnummer."), status_code=400,
                            headers=FRAME_HEADERS)
    if has_gap(ctx.conn, PORTAL, pnr):
        return HTMLResponse(ctx.render("frame.html", pnr=pnr.display, avvikelse=AVVIKELSE_TEXT),
                            headers=FRAME_HEADERS)
    clause, values = in_clause(pnr)
    row = ctx.conn.execute(f"SELECT * FROM af_status WHERE {clause} LIMIT 1", values).fetchone()
    # No row: the person has never been registered, which the service reports as "Nej", not as an error.
    registered = bool(row and row["registered"])
    status = {
        "registered": registered,
        "activity": activity_text(row["activity"]) if registered and row else "–",
        "from_date": (row["from_date"] or "–") if registered and row else "–",
    }
    return HTMLResponse(ctx.render("frame.html", pnr=pnr.display, status=status), headers=FRAME_HEADERS)


def create_app(ctx: PortalContext) -> FaultInjection:
    return build_agency_app(ctx, "/sok", [
        Page("/sok", search_page(_answer), methods=("GET", "POST")),
        Page("/status-frame", status_frame),
    ])
