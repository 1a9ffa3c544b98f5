"""What the robot knows about the case system's desktop client: its screens and their elements, by kind.

A `field` is found by its label and acted on at an offset (typed into, copied from); a `button` by its face; a
`message` is a dialog's text, which says which dialog is up. The anchors' images are data (`anchors.py`).
"""

from __future__ import annotations

from bot.calc.fields import ALL_FIELDS as FIELD_KEYS
from bot.drivers.casesystem import TOTAL_KEYS

FIELD, BUTTON, MESSAGE = "field", "button", "message"

ELEMENTS: dict[str, dict[str, str]] = {
    "login": {"username": FIELD, "password": FIELD, "login": BUTTON},
    "search": {"case_no": FIELD, "open": BUTTON},
    "calc": {**{key: FIELD for key in (*FIELD_KEYS, *TOTAL_KEYS)}, "needs_completion": BUTTON, "save": BUTTON,
             "park": BUTTON, "close": BUTTON},
    "dialog_saved": {"message": MESSAGE},
    "dialog_confirm_park": {"message": MESSAGE},
    "dialog_parked": {"message": MESSAGE},
    "dialog": {"ok": BUTTON},  # any dialog's OK button: an answer that is none of the known messages
}
