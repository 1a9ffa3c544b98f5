"""The legacy case-management system ("Procapita EB"-like) that the robot prepares cases in.

Screens (all but `/` are shown inside the `innehall` iframe of `/`, and also work on their own):
  /                         header + menu + <iframe name="innehall">
  /inkorg                   incoming e-applications, paged, with status/type filters and a search box
  /arende/{id}/{tab}        a case: sokande | ansokan | berakning | historik (read-only) | journal | beslut
Actions (POST, each with the CSRF token and the case's version): berakning (save), journal (note),
parkera (park for signature; `attest` is the v2 form's address for the same action), manuell, signera.
Layout v3 (an older-generation screen module) names its inputs afresh on every render
(`portals.web.generated_names`) and saves the calculation in place: a POST with the header `X-Spara-Pa-Plats: 1`
is answered with JSON instead of a redirect, in any layout.
See docs/sandbox-casesystem.md for the screens, labels per layout and the stable hooks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from portals.casesystem import store
from portals.casesystem.desktop_api import desktop_routes
from portals.casesystem.fields import (
    APPLICATION_TYPES,
    BY_KEY,
    EDITABLE_STATUSES,
    FIELD_KEYS,
    MAX_AMOUNT,
    OLDER_DECISIONS,
    ROLE_TEXT,
    SECTIONS,
    STATUS_TEXT,
    STATUSES,
    TABS,
    TOTAL_KEYS,
    TOTAL_LABELS,
    fmt_pnr,
    income_label,
)
from portals.hostile import make_hostile
from portals.web import generated_names
from portals.web.app import Page, build_app
from portals.web.context import PortalContext
from portals.web.formats import fmt_kr, parse_whole_kronor
from portals.web.sessions import CSRF_MESSAGE, Session, check_csrf, csrf_error_response

PAGE_SIZE = 20
# Roles allowed to sign a decision; the robot's service account (role `robot`) is deliberately not one.
CASEWORKER_ROLES = frozenset({"handlaggare", "caseworker"})
TAB_KEYS = tuple(t[0] for t in TABS)
MAX_NOTE_LENGTH = 4000
MAX_REASON_LENGTH = 500
# The user-editable fields of each tab's forms (named afresh on every render in layout v3); hidden fields (csrf,
# version, the nonce) keep their names.
NOTE_FIELDS = ("anteckning",)
PARK_FIELDS = ("behover_kompletteras",)
MANUAL_FIELDS = ("orsak",)
TAB_FIELDS: dict[str, tuple[str, ...]] = {"berakning": FIELD_KEYS, "journal": NOTE_FIELDS,
                                          "beslut": PARK_FIELDS + MANUAL_FIELDS}
# A calculation saved in place (layout v3's Spara): the request carries this header and is answered with JSON.
IN_PLACE_HEADER = "X-Spara-Pa-Plats"
FORM_EXPIRED = "Beräkningen sparades inte: formuläret har gått ut. Ladda om ärendet och gör om ändringen."

# Post/redirect/get: the redirect carries a message code rather than free text, so no one can put
# arbitrary words on a case page through a link.
MESSAGES = {
    "sparad": "Beräkningen är sparad.",
    "anteckning": "Anteckningen är sparad i journalen.",
    "parkerad": "Ärendet är parkerat och tilldelat handläggaren {caseworker}.",
    "manuell": "Ärendet är satt till manuell handläggning och tilldelat handläggaren {caseworker}.",
    "signerad": "Beslutet är signerat.",
}


def _safe_path(path: str, default: str) -> str:
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else default


def _form_version(form: FormData) -> int | None:
    try:
        return int(str(form.get("version", "")))
    except ValueError:
        return None


def validate_amounts(form: Mapping[str, object]) -> tuple[dict[str, int | None], dict[str, str], dict[str, str]]:
    """(values, errors per field, raw text per field) from the submitted text by key. Blank or missing → None; else
    whole kronor 0..1 000 000."""
    values: dict[str, int | None] = {}
    errors: dict[str, str] = {}
    raw: dict[str, str] = {}
    for key in FIELD_KEYS:
        text = str(form.get(key, "") or "")
        raw[key] = text
        if not text.strip():
            values[key] = None
            continue
        try:
            amount = parse_whole_kronor(text)
        except ValueError as exc:
            # Öre are refused, not rounded: a robot typing '1 234,50' must be told, not silently corrected.
            hint = "Öre kan inte anges" if re.search(r"\d[,.]\d", text) else "Ange hela kronor, t.ex. 12 345"
            errors[key] = f"{exc}. {hint}."
            continue
        if not 0 <= amount <= MAX_AMOUNT:
            errors[key] = f"Beloppet måste vara mellan 0 och {fmt_kr(MAX_AMOUNT)} kr."
            continue
        values[key] = amount
    return values, errors, raw


def _check_length(text: str, limit: int, missing: str, too_long: str) -> None:
    """A required free-text field: refused (HTTP 422) when empty or longer than `limit` characters."""
    if not text or len(text) > limit:
        raise store.CaseError(missing if not text else too_long, 422, "form")


def _total_text(amount: int | None) -> str:
    """A total as the calculation tab prints it: '12 345 kr', '–' when never computed."""
    return "–" if amount is None else f"{fmt_kr(amount)} kr"


@dataclass
class CaseAction:
    """A POST on a case, CSRF-checked: what the part of its handler that differs gets to work with."""

    ctx: PortalContext
    session: Session
    case_id: str
    form: FormData
    layout: str
    # The submitted user-editable fields by key, whatever the layout named them (a field not sent is absent).
    fields: dict[str, str]
    # Shown again on the tab when the action is refused (what was typed), so nobody has to type it twice.
    kept: dict[str, object] = field(default_factory=dict)

    @property
    def version(self) -> int | None:
        return _form_version(self.form)


ActionBody = Callable[["CaseSystem", CaseAction], None]
CaseHandler = Callable[["CaseSystem", PortalContext, Request, Session], Awaitable[Response]]


def _case_action(tab: str, done: str, fields: tuple[str, ...] = (),
                 in_place: bool = False) -> Callable[[ActionBody], CaseHandler]:
    """The handler every case action shares around its own part (`body`): the CSRF check; reading the form's
    user-editable `fields` by key, whatever the layout named them; a refusal, which the body raises as
    `store.CaseError`, shows `tab` again with the error and the error's HTTP status (a missing case: the not-found
    page); success redirects to `tab` with the message `done` (post/redirect/get). With `in_place`, a request
    carrying the header `IN_PLACE_HEADER` is answered with JSON instead (`CaseSystem.in_place_answer`)."""

    def decorate(body: ActionBody) -> CaseHandler:
        async def handler(self: CaseSystem, ctx: PortalContext, request: Request, session: Session) -> Response:
            case_id = request.path_params["case_id"]
            form = await request.form()
            as_json = in_place and request.headers.get(IN_PLACE_HEADER) == "1"
            try:
                check_csrf(session, str(form.get("csrf", "") or ""))
            except PermissionError:
                if as_json:
                    return JSONResponse({"ok": False, "message": CSRF_MESSAGE, "field_errors": {}}, status_code=403)
                return csrf_error_response(ctx)
            layout = ctx.knobs().layout
            action = CaseAction(ctx, session, case_id, form, layout, generated_names.read(form, fields, layout))
            try:
                body(self, action)
            except store.CaseError as exc:
                if as_json:
                    return self.in_place_answer(action, exc)
                if exc.kind == "notfound":
                    return self.not_found(session, case_id)
                return self.case_page(session, case_id, tab, code=exc.status_code, error=exc.message,
                                      **action.kept)
            if as_json:
                return self.in_place_answer(action)
            return RedirectResponse(f"/arende/{case_id}/{tab}?meddelande={done}", status_code=303)

        return handler

    return decorate


class CaseSystem:
    def __init__(self, ctx: PortalContext) -> None:
        self.ctx = ctx

    # -- rendering helpers ------------------------------------------------------------------------------
    def page(self, template: str, session: Session, code: int = 200, **values: object) -> HTMLResponse:
        html = self.ctx.render(template, layout=self.ctx.knobs().layout, user=session, csrf=session.csrf,
                               status_text=STATUS_TEXT, **values)
        return HTMLResponse(html, status_code=code)

    def not_found(self, session: Session, case_id: str) -> HTMLResponse:
        return self.page("not_found.html", session, 404, case_id=case_id)

    def case_page(self, session: Session, case_id: str, tab: str, code: int = 200, message_code: str = "",
                  error: str = "", **extra: object) -> HTMLResponse:
        conn = self.ctx.conn
        case = store.load_case(conn, case_id)
        if case is None:
            return self.not_found(session, case_id)
        message = MESSAGES[message_code].format(caseworker=case["caseworker"]) if message_code in MESSAGES else ""
        layout = self.ctx.knobs().layout
        data: dict[str, object] = {}
        if tab == "sokande":
            data["household"] = store.load_household(conn, case_id)
        elif tab == "ansokan":
            data["costs"] = store.load_declared_costs(conn, case_id)
            data["incomes"] = store.load_declared_incomes(conn, case_id)
        elif tab == "berakning":
            calc = store.load_calc(conn, case_id)
            data["calc"] = calc
            data["shown"] = {k: fmt_kr(calc[k]) for k in FIELD_KEYS}
        elif tab == "historik":
            data["history"] = store.load_history(conn, case_id)
            data["older_text"] = OLDER_DECISIONS
        elif tab == "journal":
            data["journal"] = store.load_journal(conn, case_id)
        elif tab == "beslut":
            data["calc"] = store.load_calc(conn, case_id)
        data.update(extra)
        editable = case["status"] in EDITABLE_STATUSES
        nonce, names = generated_names.new_names(TAB_FIELDS.get(tab, ()), layout)  # v1/v2: the keys
        html = self.ctx.render(
            f"case_{tab}.html", layout=layout, user=session, csrf=session.csrf, case=case, tab=tab,
            tabs=TABS, message=message, error=error, editable=editable, status_text=STATUS_TEXT,
            role_text=ROLE_TEXT, fields=BY_KEY, sections=SECTIONS[layout], total_keys=TOTAL_KEYS,
            total_labels=TOTAL_LABELS[layout], income_label=income_label, total_text=_total_text,
            nonce=nonce, names=names, **data)
        if tab == "berakning" and case_id == self.ctx.knobs().caseworker_editing and editable:
            store.touch(conn, case_id)  # the caseworker saves right after the robot opened the form
        return HTMLResponse(html, status_code=code)

    def in_place_answer(self, action: CaseAction, refusal: store.CaseError | None = None) -> JSONResponse:
        """A calculation saved in place (layout v3's Spara), as JSON: the outcome, with a fresh set of input names
        (and their nonce) in every answer, so the form is renamed after every save. Saved: the message, the new
        version, status text, totals and the values as the form shows them. Refused: the error text the tab would
        show, the field errors by key, the tab's HTTP status; nothing else changes (after a locking conflict the
        form must be reloaded, as the message says)."""
        nonce, names = generated_names.new_names(FIELD_KEYS, action.layout)
        if refusal is not None:
            field_errors = action.kept.get("errors") or {}
            return JSONResponse({"ok": False, "message": refusal.message, "field_errors": field_errors,
                                 "names": names, "nonce": nonce}, status_code=refusal.status_code)
        conn = self.ctx.conn
        case = store.load_case(conn, action.case_id)
        assert case is not None  # just saved
        calc = store.load_calc(conn, action.case_id)
        return JSONResponse({
            "ok": True, "message": f"Sparat {datetime.now():%H:%M:%S}.", "version": case["version"],
            "status": STATUS_TEXT[case["status"]], "totals": {k: _total_text(calc[k]) for k in TOTAL_KEYS},
            "values": {k: fmt_kr(calc[k]) for k in FIELD_KEYS}, "names": names, "nonce": nonce})

    # -- screens ----------------------------------------------------------------------------------------
    async def frame(self, ctx: PortalContext, request: Request, session: Session) -> Response:
        start = _safe_path(request.query_params.get("sida", ""), "/inkorg")
        return self.page("frame.html", session, start=start)

    async def inbox(self, ctx: PortalContext, request: Request, session: Session) -> Response:
        q = request.query_params
        status = q.get("status", "")
        status = status if status in STATUSES else ""
        app_type = q.get("typ", "")
        app_type = app_type if app_type in APPLICATION_TYPES else ""
        search = q.get("sok", "").strip()[:40]
        try:
            page_no = int(q.get("sida", "1"))
        except ValueError:
            page_no = 1
        result = store.inbox(ctx.conn, status, app_type, search, page_no, PAGE_SIZE)

        def link(page: int) -> str:
            params = {k: v for k, v in (("status", status), ("typ", app_type), ("sok", search)) if v}
            return "/inkorg?" + urlencode({**params, "sida": page})

        return self.page("inbox.html", session, result=result, status=status, app_type=app_type, search=search,
                         statuses=STATUSES, app_types=APPLICATION_TYPES, link=link, page_size=PAGE_SIZE)

    async def case_root(self, ctx: PortalContext, request: Request, session: Session) -> Response:
        return RedirectResponse(f"/arende/{request.path_params['case_id']}/sokande", status_code=303)

    async def case_tab(self, ctx: PortalContext, request: Request, session: Session) -> Response:
        case_id, tab = request.path_params["case_id"], request.path_params["tab"]
        if tab not in TAB_KEYS:
            return self.not_found(session, case_id)
        return self.case_page(session, case_id, tab, message_code=request.query_params.get("meddelande", ""))

    # -- actions ----------------------------------------------------------------------------------------
    @_case_action("berakning", "sparad", FIELD_KEYS, in_place=True)
    def save_calc(self, action: CaseAction) -> None:
        values, errors, raw = validate_amounts(action.fields)
        # A form with generated names of which none decodes (drawn before a restart, or not this layout's form)
        # would save every field empty: refused instead.
        expired = generated_names.generates(action.layout) and not action.fields
        if errors or expired:
            case = store.load_case(action.ctx.conn, action.case_id)
            if case is None:
                raise store.CaseError(f"Ärendet {action.case_id} finns inte.", 404, "notfound")
            # A locked case or a stale version wins over field errors: the input cannot be saved anyway.
            store.check_calc_writable(case, action.version)
            if expired:
                raise store.CaseError(FORM_EXPIRED, 422, "form")
            action.kept.update(errors=errors, shown=raw)
            raise store.CaseError(
                f"Beräkningen sparades inte: {len(errors)} fält har fel. Rätta de markerade fälten.", 422, "form")
        store.save_calc(action.ctx.conn, action.case_id, action.session.username, action.version, values)

    @_case_action("journal", "anteckning", NOTE_FIELDS)
    def add_note(self, action: CaseAction) -> None:
        text = action.kept["draft"] = action.fields.get("anteckning", "").strip()
        _check_length(text, MAX_NOTE_LENGTH, "Anteckningen får inte vara tom.",
                      f"Anteckningen får vara högst {MAX_NOTE_LENGTH} tecken.")
        store.add_note(action.ctx.conn, action.case_id, action.session.username, action.version, text)

    @_case_action("beslut", "parkerad", PARK_FIELDS)
    def park(self, action: CaseAction) -> None:
        store.park(action.ctx.conn, action.case_id, action.session.username, action.version,
                   needs_completion=bool(action.fields.get("behover_kompletteras")))

    @_case_action("beslut", "manuell", MANUAL_FIELDS)
    def manual(self, action: CaseAction) -> None:
        reason = action.kept["reason_draft"] = " ".join(action.fields.get("orsak", "").split())
        _check_length(reason, MAX_REASON_LENGTH, "Ange en orsak till manuell handläggning.",
                      f"Orsaken får vara högst {MAX_REASON_LENGTH} tecken.")
        store.set_manual(action.ctx.conn, action.case_id, action.session.username, action.version, reason)

    @_case_action("beslut", "signerad")
    def sign(self, action: CaseAction) -> None:
        if action.session.role not in CASEWORKER_ROLES:
            store.record_denied_signing(action.ctx.conn, action.case_id, action.session.username)
            raise store.CaseError("Du saknar behörighet att signera beslut. Försöket har loggats.", 403, "role")
        store.sign(action.ctx.conn, action.case_id, action.session.username, action.version)


def admin_case_routes(ctx: PortalContext) -> list[Route]:
    """Test/demo hooks: read a case, the new cases' work list, the audit trail and the oracle's expectations;
    simulate a colleague."""

    async def case(request: Request) -> Response:
        case_id = request.path_params["case_id"]
        row = ctx.conn.execute("SELECT * FROM cs_cases WHERE case_id = ?", (case_id,)).fetchone()
        if row is None:
            return JSONResponse({"error": "no such case"}, status_code=404)
        return JSONResponse({
            **dict(row),
            "needs_completion": bool(row["needs_completion"]),
            "calc": store.load_calc(ctx.conn, case_id),
            "journal": [dict(r) for r in store.load_journal(ctx.conn, case_id)],
            "history": store.load_history(ctx.conn, case_id).as_json(),
        })

    async def case_list(request: Request) -> Response:
        """Every case's id, type, status and version: lets tests and the demo pick cases without a login."""
        rows = ctx.conn.execute("SELECT case_id, application_type, status, version, caseworker, assigned_to "
                                "FROM cs_cases ORDER BY received, case_id").fetchall()
        return JSONResponse([dict(r) for r in rows])

    async def inbox(request: Request) -> Response:
        """The new cases, oldest first as the inbox lists them, each with its household's numbers and roles in
        the application's order: the work list of a client that does not read screens (the bench's plain-HTTP
        floor), so it need not open the sandbox's database file. One query, so no case is half read while a
        robot takes it on."""
        rows = ctx.conn.execute(
            "SELECT c.case_id, c.period, h.pnr, h.role FROM cs_cases c "
            "LEFT JOIN cs_household h ON h.case_id = c.case_id WHERE c.status = 'inkommen' "
            "ORDER BY c.received, c.case_id, h.position").fetchall()
        cases: dict[str, dict[str, Any]] = {}
        for r in rows:
            case = cases.setdefault(r["case_id"], {"case_id": r["case_id"], "period": r["period"], "members": []})
            if r["pnr"] is not None:
                case["members"].append({"pnr": r["pnr"], "role": r["role"]})
        return JSONResponse(list(cases.values()))

    async def audit(request: Request) -> Response:
        case_id = request.query_params.get("case_id")
        sql = "SELECT id, ts, username, case_id, field, old, new FROM cs_audit"
        rows = (ctx.conn.execute(sql + " WHERE case_id = ? ORDER BY id", (case_id,)) if case_id
                else ctx.conn.execute(sql + " ORDER BY id"))
        return JSONResponse([dict(r) for r in rows])

    async def touch(request: Request) -> Response:
        case_id = request.path_params["case_id"]
        try:
            version = store.touch(ctx.conn, case_id)
        except store.CaseError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status_code)
        return JSONResponse({"case_id": case_id, "version": version})

    async def expected(request: Request) -> Response:
        rows = ctx.conn.execute("SELECT * FROM sb_expected ORDER BY case_id").fetchall()
        return JSONResponse([{
            "case_id": r["case_id"], "kind": r["kind"], "outcome": r["outcome"],
            "fields": json.loads(r["fields_json"]), "empty_fields": json.loads(r["empty_fields_json"]),
            "reasons": json.loads(r["reasons_json"]),
        } for r in rows])

    async def hostile(request: Request) -> Response:
        case_id = request.path_params["case_id"]
        try:
            kind = json.loads(await request.body() or b"{}").get("kind", "")
            make_hostile(ctx.conn, case_id, kind)
        except (ValueError, AttributeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"case_id": case_id, "kind": kind})

    async def meta(request: Request) -> Response:
        # The seed's facts (seed, period, the reference case for the robot's preflight check).
        return JSONResponse({r["key"]: r["value"] for r in ctx.conn.execute("SELECT key, value FROM sb_meta")})

    return [
        Route("/_admin/meta", meta),
        Route("/_admin/cases", case_list),
        Route("/_admin/inbox", inbox),
        Route("/_admin/cases/{case_id}", case),
        Route("/_admin/cases/{case_id}/touch", touch, methods=["POST"]),
        Route("/_admin/cases/{case_id}/hostile", hostile, methods=["POST"]),
        Route("/_admin/audit", audit),
        Route("/_admin/expected", expected),
    ]


def create_app(ctx: PortalContext) -> ASGIApp:
    ctx.env.filters["pnr"] = fmt_pnr
    cs = CaseSystem(ctx)
    pages = [
        Page("/", cs.frame),
        Page("/inkorg", cs.inbox),
        Page("/arende/{case_id}", cs.case_root),
        Page("/arende/{case_id}/berakning", cs.save_calc, methods=("POST",)),
        Page("/arende/{case_id}/journal", cs.add_note, methods=("POST",)),
        Page("/arende/{case_id}/parkera", cs.park, methods=("POST",)),
        Page("/arende/{case_id}/attest", cs.park, methods=("POST",)),
        Page("/arende/{case_id}/manuell", cs.manual, methods=("POST",)),
        Page("/arende/{case_id}/signera", cs.sign, methods=("POST",)),
        Page("/arende/{case_id}/{tab}", cs.case_tab),
    ]
    return build_app(ctx, pages, [*admin_case_routes(ctx), *desktop_routes(ctx)])
