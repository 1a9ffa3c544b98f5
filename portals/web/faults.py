"""Injected latency, HTTP 500/503 errors and a maintenance page, driven by the knobs.

A pure ASGI middleware (not BaseHTTPMiddleware) so the sandbox stays far faster than the robot.
Health checks, admin routes and static files are exempt so tests can always steer the portal.
"""

from __future__ import annotations

import asyncio
import random

from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portals.web.context import PortalContext

EXEMPT_PREFIXES = ("/healthz", "/_admin", "/static")


class FaultInjection:
    def __init__(self, app: ASGIApp, ctx: PortalContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        knobs = self.ctx.knobs()
        if knobs.latency_ms:
            await asyncio.sleep(knobs.latency_ms / 1000)
        if knobs.maintenance:
            html = self.ctx.render("maintenance.html")
            await HTMLResponse(html, status_code=503, headers={"Retry-After": "600"})(scope, receive, send)
            return
        if knobs.error_rate and random.random() < knobs.error_rate:
            status = random.choice((500, 503))
            html = self.ctx.render("server_error.html", status=status)
            await HTMLResponse(html, status_code=status)(scope, receive, send)
            return
        if knobs.write_answer_delay_ms and scope["method"] == "POST" and scope["path"] != "/login":
            await self.app(scope, receive, _answered_late(send, knobs.write_answer_delay_ms / 1000))
            return
        await self.app(scope, receive, send)


def _answered_late(send: Send, delay_s: float) -> Send:
    """`send` that holds the answer back: the handler has done the write by the time it starts its response."""
    async def late(message: Message) -> None:
        if message["type"] == "http.response.start":
            await asyncio.sleep(delay_s)
        await send(message)
    return late
