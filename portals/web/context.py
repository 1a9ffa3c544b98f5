"""Everything a portal's handlers need, built once per portal."""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from portals.web.formats import fmt_decimal, fmt_kr
from portals.web.knobs import Knobs, load_knobs

_SHARED_TEMPLATES = Path(__file__).parent / "templates"


def random_id(prefix: str = "f") -> str:
    """A fresh element id for every render: legacy frameworks do this, and it breaks id selectors."""
    return f"{prefix}_{secrets.token_hex(4)}"


@dataclass
class PortalContext:
    name: str  # casesystem | skv | fk | af | csn
    title: str  # what the portal calls itself on screen
    conn: sqlite3.Connection
    template_dir: Path
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(self.template_dir), FileSystemLoader(_SHARED_TEMPLATES)]),
            autoescape=select_autoescape(default=True, default_for_string=True),
            auto_reload=False,
        )
        self.env.globals.update(rid=random_id, kr=fmt_kr, dec=fmt_decimal, portal_title=self.title)

    def knobs(self) -> Knobs:
        return load_knobs(self.conn, self.name)

    def render(self, template: str, **values: object) -> str:
        """Render `template`, preferring the layout's variant (`v2/<template>`, `v3/<template>`) when the layout
        knob says other than v1 (a screen without one is drawn as in v1)."""
        layout = values.get("layout") or self.knobs().layout
        values["layout"] = layout
        names = [f"{layout}/{template}", template] if layout != "v1" else [template]
        return self.env.select_template(names).render(**values)
