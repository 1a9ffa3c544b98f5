"""What the case system's desktop client (portals/desktop) talks to: the calculation screen and the park action.

The thick client of a Citrix-published case system talks to its own server, not to the web pages; here that is a
small JSON API over the same store, so what is typed through the client lands in the same case, with the same
checks (version, locked statuses, amount validation) and the same audit trail, under the logged-in user's name.
Login: the same accounts as the web screens (POST /api/skrivbord/login → a bearer token for 30 minutes).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portals.casesystem import store
from portals.casesystem.fields import FIELD_KEYS, STATUS_TEXT, TOTAL_KEYS
from portals.web.context import PortalContext
from portals.web.formats import fmt_kr, parse_whole_kronor

PREFIX = "/api/skrivbord"
TOKEN_TTL_S = 1800


class _Tokens:
    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}

    def issue(self, username: str) -> str:
        token = secrets.token_urlsafe(24)
        self._tokens[token] = (username, time.time() + TOKEN_TTL_S)
        return token

    def user(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip()
        found = self._tokens.get(token)
        if found is None or found[1] < time.time():
            return None
        return found[0]


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"fel": message}, status_code=status)


def _calc_view(ctx: PortalContext, case_id: str) -> dict[str, Any] | None:
    case = store.load_case(ctx.conn, case_id)
    if case is None:
        return None
    calc = store.load_calc(ctx.conn, case_id)
    return {"case_id": case_id, "version": case["version"], "status": case["status"],
            "status_text": STATUS_TEXT.get(case["status"], case["status"]),
            "values": {k: ("" if calc.get(k) is None else fmt_kr(calc[k])) for k in (*FIELD_KEYS, *TOTAL_KEYS)}}


def desktop_routes(ctx: PortalContext) -> list[Route]:
    tokens = _Tokens()
    calls = {"logins": 0, "saves": 0, "parks": 0}  # what reached the case system through the client

    async def login(request: Request) -> Response:
        body = await request.json()
        username, password = str(body.get("username", "")).strip(), str(body.get("password", ""))
        user = ctx.conn.execute("SELECT * FROM sb_users WHERE portal = ? AND username = ?",
                                (ctx.name, username)).fetchone()
        if user is None or user["locked"] or not secrets.compare_digest(password.encode(),
                                                                          str(user["password"]).encode()):
            return _error("Fel användarnamn eller lösenord.", 401)
        calls["logins"] += 1
        return JSONResponse({"token": tokens.issue(username)})

    def signed_in(action: Callable[[str, str, dict[str, Any]], Response]) -> Callable[[Request], Awaitable[Response]]:
        """A call on a case by a logged-in user: (username, case id, the JSON body) to `action`."""
        async def handler(request: Request) -> Response:
            username = tokens.user(request)
            if username is None:
                return _error("Sessionen har gått ut. Logga in igen.", 401)
            body = await request.json() if request.method == "POST" else {}
            return action(username, request.path_params["case_id"], body)
        return handler

    def case(_username: str, case_id: str, _body: dict[str, Any]) -> Response:
        view = _calc_view(ctx, case_id)
        return JSONResponse(view) if view is not None else _error("Ärendet finns inte.", 404)

    def save(username: str, case_id: str, body: dict[str, Any]) -> Response:
        values: dict[str, int | None] = {}
        wrong = []
        for key in FIELD_KEYS:
            text = str(body.get("values", {}).get(key, "") or "").strip()
            try:
                values[key] = parse_whole_kronor(text) if text else None
            except ValueError:
                wrong.append(key)
        if wrong:
            return _error(f"Beräkningen sparades inte: {len(wrong)} fält har fel ({', '.join(wrong)}).", 422)
        try:
            store.save_calc(ctx.conn, case_id, username, body.get("version"), values)
        except store.CaseError as exc:
            return _error(exc.message, exc.status_code)
        calls["saves"] += 1
        return JSONResponse(_calc_view(ctx, case_id))

    def park(username: str, case_id: str, body: dict[str, Any]) -> Response:
        try:
            store.park(ctx.conn, case_id, username, body.get("version"),
                       needs_completion=bool(body.get("behover_kompletteras")))
        except store.CaseError as exc:
            return _error(exc.message, exc.status_code)
        calls["parks"] += 1
        return JSONResponse(_calc_view(ctx, case_id))

    async def counts(_request: Request) -> Response:
        return JSONResponse(calls)

    return [Route("/_admin/skrivbord", counts),
            Route(f"{PREFIX}/login", login, methods=["POST"]),
            Route(f"{PREFIX}/arende/{{case_id}}", signed_in(case)),
            Route(f"{PREFIX}/arende/{{case_id}}/berakning", signed_in(save), methods=["POST"]),
            Route(f"{PREFIX}/arende/{{case_id}}/parkera", signed_in(park), methods=["POST"])]
