"""What the four agency portals (skv, fk, af, csn) share: reading a typed personnummer, finding a person's
rows whatever form the seed stored the number in, the "avvikelse" gaps, the portal's own login account, the
personnummer search page and the app around an agency's own pages.

Kept apart from `portals/pnr.py` (the seed's generator of synthetic numbers) on purpose: this module is about
what an agency's search box accepts, which is a property of the portals' user interface, not of the seed.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from portals.web import sessions
from portals.web.app import Page, PageHandler, build_app
from portals.web.context import PortalContext
from portals.web.faults import FaultInjection

# Search boxes accept 12 digits, YYYYMMDD-NNNN, YYMMDD-NNNN (or + from age 100) and 10 digits. The last four
# may be a temporary T-style id (`880209-T050`), which some registers hand out before a personnummer exists.
_INPUT = re.compile(r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<tail>[0-9A-Za-z]\d{3})$")

AVVIKELSE_TEXT = "Uppgifter kan inte lämnas just nu (avvikelse)"
INVALID_PNR_TEXT = "Ogiltigt personnummer. Ange ÅÅÅÅMMDDNNNN eller ÅÅMMDD-NNNN."
# What the municipality's account is called on every agency portal (the seed's own name wins where it made one).
ACCOUNT_NAME = "Socialtjänsten, ekonomiskt bistånd"


@dataclass(frozen=True)
class Pnr:
    """A personnummer normalised to its 12-digit form (`YYYYMMDDNNNN`)."""

    digits12: str

    @property
    def display(self) -> str:
        """`19850101-1234`: how the agencies print a personnummer on screen."""
        return f"{self.digits12[:8]}-{self.digits12[8:]}"

    @property
    def masked(self) -> str:
        """`19850101-XXXX`: for file names, which end up in download folders and mail attachments."""
        return f"{self.digits12[:8]}-XXXX"

    @property
    def birth_date(self) -> str:
        """YYYY-MM-DD, with a samordningsnummer's day + 60 taken back off."""
        day = int(self.digits12[6:8])
        if day > 60:
            day -= 60
        return f"{self.digits12[:4]}-{self.digits12[4:6]}-{day:02d}"

    def candidates(self) -> tuple[str, str, str, str]:
        """Every form a seed might have stored this number in, for an indexed `pnr IN (...)` look-up."""
        d = self.digits12
        return (d, f"{d[:8]}-{d[8:]}", d[2:], f"{d[2:8]}-{d[8:]}")


def parse_pnr(text: str, today: dt.date | None = None) -> Pnr | None:
    """What a search box makes of the typed text; None when it is not a personnummer's shape.

    A 10-digit form gets its century the way Skatteverket defines it: the most recent century that does not
    put the birth in the future, one century earlier when the separator is '+' (aged 100 or more).
    """
    cleaned = re.sub(r"\s+", "", text or "")
    match = _INPUT.match(cleaned)
    if match is None:
        return None
    yymmdd, tail = match["yymmdd"], match["tail"].upper()
    if match["century"]:
        if match["sep"] == "+":
            return None  # '+' belongs to the 10-digit form only
        full = match["century"] + yymmdd
    else:
        today = today or dt.date.today()
        year = 2000 + int(yymmdd[:2])
        if year > today.year:
            year -= 100
        if match["sep"] == "+":
            year -= 100
        full = f"{year:04d}{yymmdd[2:]}"
    month, day = int(full[4:6]), int(full[6:8])
    if not 1 <= month <= 12 or not (1 <= day <= 31 or 61 <= day <= 91):
        return None
    return Pnr(full + tail)


def pnr_from_stored(stored: str) -> Pnr:
    """A number as the seed stored it (any of the accepted forms) → normalised; falls back to the raw text."""
    parsed = parse_pnr(stored)
    return parsed if parsed is not None else Pnr(re.sub(r"\D", "", stored).rjust(12, "0"))


def in_clause(pnr: Pnr) -> tuple[str, tuple[str, ...]]:
    """`pnr IN (?, ?, ?, ?)` and its parameters."""
    values = pnr.candidates()
    return "pnr IN (" + ", ".join("?" * len(values)) + ")", values


def has_gap(conn: sqlite3.Connection, portal: str, pnr: Pnr) -> bool:
    """The seed's "this agency cannot answer for this person right now" (contract: `agency_gaps`)."""
    clause, values = in_clause(pnr)
    row = conn.execute(f"SELECT 1 FROM agency_gaps WHERE portal = ? AND {clause} LIMIT 1", (portal, *values))
    return row.fetchone() is not None


def ensure_account(conn: sqlite3.Connection, portal: str, display_name: str) -> None:
    """The municipality's account on this portal (`kommun` / `<portal>-pass`, contract), if the seed made none.

    INSERT OR IGNORE: when the seed did create it, its password, lock state and attempts win.
    """
    conn.execute(
        "INSERT OR IGNORE INTO sb_users (portal, username, password, role, display_name) VALUES (?, ?, ?, ?, ?)",
        (portal, "kommun", f"{portal}-pass", "myndighet", display_name),
    )


def month_ok(text: str) -> bool:
    """YYYY-MM with a real month."""
    return bool(re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text or ""))


# -- pages ----------------------------------------------------------------------------------------------


def page(ctx: PortalContext, session: sessions.Session, template: str, status: int = 200,
         **values: object) -> HTMLResponse:
    """An agency page as the logged-in user sees it (their name in the header, the form's CSRF token)."""
    return HTMLResponse(ctx.render(template, csrf=session.csrf, user=session.display_name, **values),
                        status_code=status)


# What the agency shows for a valid personnummer: (ctx, session, the number, the text as typed) → the answer.
SearchAnswer = Callable[[PortalContext, sessions.Session, Pnr, str], Response]


def search_page(answer: SearchAnswer) -> PageHandler:
    """The personnummer search of an agency portal (GET `/sok` the empty form, POST it): a POST without the
    session's CSRF token is refused, a text that is not a personnummer gets the form again with an error, and
    for a number `answer` says what the agency shows."""

    async def search(ctx: PortalContext, request: Request, session: sessions.Session) -> Response:
        if request.method == "GET":
            return page(ctx, session, "search.html", typed="")
        form = await request.form()
        try:
            sessions.check_csrf(session, str(form.get("csrf", "")))
        except PermissionError:
            return sessions.csrf_error_response(ctx)
        typed = str(form.get("personnummer", "")).strip()
        pnr = parse_pnr(typed)
        if pnr is None:
            return page(ctx, session, "search.html", typed=typed, error=INVALID_PNR_TEXT)
        return answer(ctx, session, pnr, typed)

    return search


def build_agency_app(ctx: PortalContext, start: str, pages: Sequence[Page]) -> FaultInjection:
    """An agency portal: the municipality's account on it, `/` leading to `start`, then the agency's own pages."""
    ensure_account(ctx.conn, ctx.name, ACCOUNT_NAME)

    async def home(ctx: PortalContext, request: Request, session: sessions.Session) -> Response:
        return RedirectResponse(start, status_code=303)

    return build_app(ctx, [Page("/", home), *pages])
