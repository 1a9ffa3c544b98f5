"""Which portals the sandbox serves, their port offsets and on-screen titles."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from starlette.types import ASGIApp

from portals.web.context import PortalContext


@dataclass(frozen=True)
class PortalSpec:
    name: str
    port_offset: int
    title: str
    description: str


PORTALS: tuple[PortalSpec, ...] = (
    PortalSpec("casesystem", 0, "Procapita EB – Verksamhetssystem", "case-management system (legacy)"),
    PortalSpec("skv", 1, "Folkbokföringen – Myndighetsåtkomst", "population register (Skatteverket-like)"),
    PortalSpec("fk", 2, "Försäkringskassan – Utbetalningsinformation", "social insurance (SPA)"),
    PortalSpec("af", 3, "Arbetsförmedlingen – Sökandestatus", "employment service (iframe)"),
    PortalSpec("csn", 4, "CSN – Utbetalningsbesked", "study aid (downloadable statement)"),
)


def create_portal_app(spec: PortalSpec, conn) -> ASGIApp:  # type: ignore[no-untyped-def]
    """Import `portals.<name>.app` and build it; each portal package owns its templates folder."""
    module = importlib.import_module(f"portals.{spec.name}.app")
    template_dir = Path(module.__file__).parent / "templates"
    ctx = PortalContext(name=spec.name, title=spec.title, conn=conn, template_dir=template_dir)
    return module.create_app(ctx)
