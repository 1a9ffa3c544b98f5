"""Per-portal fault and layout knobs, kept in the database so they apply at once and survive restarts."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, fields

# Every portal has layouts v1 and v2 (a vendor upgrade); the case system also has v3, an older-generation screen
# module (docs/sandbox-casesystem.md "Layout v3"). The agencies have no v3 templates, so they refuse it.
LAYOUTS: tuple[str, ...] = ("v1", "v2")
EXTRA_LAYOUTS: dict[str, tuple[str, ...]] = {"casesystem": ("v3",)}


def layouts(portal: str) -> tuple[str, ...]:
    """The layouts `portal` can be switched to."""
    return LAYOUTS + EXTRA_LAYOUTS.get(portal, ())


@dataclass
class Knobs:
    latency_ms: int = 0
    # A write (any POST but the login) is carried out at once and answered this much later: the answer to a save
    # that went through can miss the robot's timeout.
    write_answer_delay_ms: int = 0
    error_rate: float = 0.0
    maintenance: bool = False
    session_ttl_s: int = 1800
    layout: str = "v1"
    system_message_rate: float = 0.0
    # Case system only: a case a caseworker is editing. Every time its calculation form is shown, the caseworker
    # saves the case a moment later (the version moves on), so a save from that form meets a locking conflict.
    caseworker_editing: str = ""

    def validate(self, portal: str = "") -> None:
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if self.write_answer_delay_ms < 0:
            raise ValueError("write_answer_delay_ms must be >= 0")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if not 0.0 <= self.system_message_rate <= 1.0:
            raise ValueError("system_message_rate must be between 0 and 1")
        if self.session_ttl_s < 1:
            raise ValueError("session_ttl_s must be >= 1")
        allowed = layouts(portal)
        if self.layout not in allowed:
            raise ValueError(f"layout must be {' or '.join(allowed)}" + (f" for {portal}" if portal else ""))


_TYPES = {f.name: f.type for f in fields(Knobs)}
_CASTS = {"int": int, "float": float, "bool": bool, "str": str}


def load_knobs(conn: sqlite3.Connection, portal: str) -> Knobs:
    rows = conn.execute("SELECT key, value FROM sb_knobs WHERE portal = ?", (portal,)).fetchall()
    values = {r["key"]: json.loads(r["value"]) for r in rows if r["key"] in _TYPES}
    return Knobs(**values)


def update_knobs(conn: sqlite3.Connection, portal: str, changes: dict[str, object]) -> Knobs:
    """Validate then store; an unknown knob or a bad value raises ValueError and changes nothing."""
    unknown = set(changes) - set(_TYPES)
    if unknown:
        raise ValueError(f"unknown knob(s): {', '.join(sorted(unknown))}")
    current = asdict(load_knobs(conn, portal))
    for key, value in changes.items():
        cast = _CASTS[str(_TYPES[key])]
        if cast is bool and not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
        try:
            current[key] = cast(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{key}: {exc}") from exc
    knobs = Knobs(**current)
    knobs.validate(portal)
    conn.executemany(
        "INSERT INTO sb_knobs (portal, key, value) VALUES (?, ?, ?) "
        "ON CONFLICT (portal, key) DO UPDATE SET value = excluded.value",
        [(portal, k, json.dumps(v)) for k, v in asdict(knobs).items()],
    )
    return knobs
