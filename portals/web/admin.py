"""Admin routes every portal has: knobs, unlocking accounts, health. For tests, the demo and training."""

from __future__ import annotations

import json
from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from portals.web.context import PortalContext
from portals.web.knobs import update_knobs


def admin_routes(ctx: PortalContext) -> list[Route]:
    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def knobs(request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = json.loads(await request.body() or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("expected a JSON object")
                result = update_knobs(ctx.conn, ctx.name, changes)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            return JSONResponse(asdict(result))
        return JSONResponse(asdict(ctx.knobs()))

    async def unlock(request: Request) -> Response:
        ctx.conn.execute("UPDATE sb_users SET locked = 0, failed_attempts = 0 WHERE portal = ?", (ctx.name,))
        return JSONResponse({"unlocked": True})

    async def users(request: Request) -> Response:
        rows = ctx.conn.execute(
            "SELECT username, role, failed_attempts, locked FROM sb_users WHERE portal = ?", (ctx.name,)
        ).fetchall()
        return JSONResponse([dict(r) for r in rows])

    async def drop_sessions(request: Request) -> Response:
        """Expire every session at once: what a portal restart or a forced logout does to a robot."""
        n = ctx.conn.execute("DELETE FROM sb_sessions WHERE portal = ?", (ctx.name,)).rowcount
        return JSONResponse({"dropped": n})

    return [
        Route("/healthz", healthz),
        Route("/_admin/knobs", knobs, methods=["GET", "POST"]),
        Route("/_admin/unlock", unlock, methods=["POST"]),
        Route("/_admin/users", users),
        Route("/_admin/sessions/drop", drop_sessions, methods=["POST"]),
    ]
