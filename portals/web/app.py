"""Builds one portal's ASGI app from its page handlers, with logins, faults and admin routes wired in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from portals.web import sessions
from portals.web.admin import admin_routes
from portals.web.context import PortalContext
from portals.web.faults import FaultInjection

PageHandler = Callable[[PortalContext, Request, sessions.Session], Awaitable[Response]]


@dataclass
class Page:
    """A route that needs a logged-in session (and an acknowledged system message)."""

    path: str
    handler: PageHandler
    methods: Sequence[str] = ("GET",)


def _wrap(ctx: PortalContext, handler: PageHandler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            session = sessions.current_session(ctx, request)
        except sessions.NotLoggedIn as exc:
            return sessions.not_logged_in_response(ctx, request, exc)
        if not session.acknowledged:
            return RedirectResponse("/driftmeddelande?next=" + request.url.path, status_code=303)
        return await handler(ctx, request, session)

    return endpoint


def build_app(ctx: PortalContext, pages: Sequence[Page], extra_routes: Sequence[BaseRoute] = ()) -> FaultInjection:
    async def login(request: Request) -> Response:
        if request.method == "POST":
            return await sessions.login_submit(ctx, request)
        return await sessions.login_page(ctx, request)

    async def logout(request: Request) -> Response:
        return await sessions.logout(ctx, request)

    async def system_message(request: Request) -> Response:
        return await sessions.system_message(ctx, request)

    routes: list[BaseRoute] = [
        *admin_routes(ctx),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["GET", "POST"]),
        Route("/driftmeddelande", system_message, methods=["GET", "POST"]),
        *extra_routes,
        *(Route(p.path, _wrap(ctx, p.handler), methods=list(p.methods)) for p in pages),
    ]
    return FaultInjection(Starlette(routes=routes), ctx)
