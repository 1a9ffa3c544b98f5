"""What each driver needs from its portal's selector file: the screens and elements its code reads and clicks.

The selector file says *how* to find an element on one layout (data, per portal version); this says *which*
elements the robot's code uses, with what a person would call them. The recorder asks for these when it builds a
file from nothing, the screen check reports a required one the file lacks as broken, and a test checks the driver
code names no element that is not listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.selectors.model import SelectorFile


@dataclass(frozen=True)
class Need:
    what: str  # what to click, in the words of the recorder's prompt ("fältet för användarnamn")
    columns: tuple[str, ...] = ()  # a table or list: the logical columns the code reads
    conditional: bool = False  # shown only in some outcomes (an error, an empty result, a second page)
    # False: the robot works without it (with what is lost said in `what`), so a file recorded when it did not
    # show may lack it. True: the night cannot start without it.
    required: bool = True
    # Columns the code reads when the screen shows them and does without when it does not (an older module's
    # inbox without the caseworker): their absence is "not shown", never broken.
    optional_columns: tuple[str, ...] = ()


Needs = Mapping[str, Mapping[str, Need]]

LOGIN: Needs = {"login": {
    "username": Need("fältet för användarnamn"),
    "password": Need("fältet för lösenord"),
    "submit": Need("knappen som loggar in"),
    "error": Need("felmeddelandet efter en nekad inloggning (utan det skiljer roboten inte ett låst konto från "
                  "ett fel lösenord)", conditional=True, required=False),
}}


def search_screen(*fields: tuple[str, str]) -> dict[str, Need]:
    """An agency's search form: the personnummer field, any further fields, the search button."""
    return {"pnr": Need("sökfältet för personnummer"), **{name: Need(what) for name, what in fields},
            "submit": Need("sökknappen")}


def missing(needs: Needs, selectors: SelectorFile) -> list[tuple[str, str, Need]]:
    """The elements the driver uses that the file does not have, required and optional alike."""
    return [(screen, name, need) for screen, elements in needs.items() for name, need in elements.items()
            if name not in (selectors.screens[screen].elements if screen in selectors.screens else {})]
