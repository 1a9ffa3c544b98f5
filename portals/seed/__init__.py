"""The sandbox's synthetic world: households, their applications and what every agency knows about them.

Three jobs, one module each: `model` (what a world is made of), `generate` (`generate_world`, deterministic for
a seed) and `write` (`write_world` and `seed_database`: the world stored in the schema of `portals/db.py`, with
the oracle's verdict on every case in `sb_expected`).

Besides the cases there is one reference case (`World.reference`, id `TEST-<year>-0001`): a fixed household
with data at every agency, already in manual handling, that the robot's read-only preflight opens to check
its selectors on every screen. It draws from its own `random.Random`, so it never changes the cases of a seed,
and it is not in `World.cases` or `sb_expected`; `sb_meta` names it (`reference_case`, `reference_pnr`).
"""

from portals.seed.generate import generate_world
from portals.seed.model import (
    COMPLEX_KINDS,
    KIND_REASON,
    REFERENCE,
    REFERENCE_NOTE,
    SIMPLE,
    AfStatus,
    Case,
    CsnPayment,
    FkPayment,
    Gap,
    Income,
    JournalEntry,
    Member,
    Person,
    Registration,
    User,
    World,
    add_months,
    current_period,
    reference_case_id,
)
from portals.seed.write import WORLD_TABLES, seed_database, summarize, write_world

__all__ = [
    "COMPLEX_KINDS", "KIND_REASON", "REFERENCE", "REFERENCE_NOTE", "SIMPLE", "WORLD_TABLES", "AfStatus", "Case",
    "CsnPayment", "FkPayment", "Gap", "Income", "JournalEntry", "Member", "Person", "Registration", "User", "World",
    "add_months", "current_period", "generate_world", "reference_case_id", "seed_database", "summarize", "write_world",
]
