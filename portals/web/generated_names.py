"""Form field names generated on every render, as older-generation screen modules make them (layout v3).

Each render draws a nonce and names every user-editable field "f" + 10 hex characters of an HMAC of (this process's
secret, the nonce, the field's key); the nonce travels in a hidden input (`nonce`). The server reads a submitted
form by computing the names again from the nonce it carries: a field whose name does not decode is missing. So a
field's name differs on every render and cannot be made up from its key: only a page (or an in-place save's answer)
drawn by the server has it.

In the other layouts the names are the keys themselves, so callers read every layout's forms the same way. The
secret lives as long as the sandbox process: a form drawn before a restart no longer decodes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping

NONCE_FIELD = "nonce"
GENERATED_LAYOUTS = frozenset({"v3"})
_SECRET = secrets.token_bytes(32)


def generates(layout: str) -> bool:
    """Whether `layout`'s forms carry generated names."""
    return layout in GENERATED_LAYOUTS


def _name(nonce: str, key: str) -> str:
    digest = hmac.new(_SECRET, f"{nonce}\0{key}".encode(), hashlib.sha256).hexdigest()
    return "f" + digest[:10]


def new_names(keys: Iterable[str], layout: str) -> tuple[str, dict[str, str]]:
    """(nonce, {key: name}) for one render of a form with `keys`; ("", {key: key}) where names are not generated."""
    keys = tuple(keys)
    if not generates(layout):
        return "", {key: key for key in keys}
    while True:
        nonce = secrets.token_hex(8)
        names = {key: _name(nonce, key) for key in keys}
        if len(set(names.values())) == len(names):  # two keys on one 40-bit name: draw again
            return nonce, names


def read(form: Mapping[str, object], keys: Iterable[str], layout: str) -> dict[str, str]:
    """The submitted text of each of `keys` that the form carries, by key (a key it does not carry is left out)."""
    if not generates(layout):
        return {key: str(form[key]) for key in keys if key in form}
    nonce = str(form.get(NONCE_FIELD, "") or "")
    if not nonce:
        return {}
    names = {key: _name(nonce, key) for key in keys}
    return {key: str(form[name]) for key, name in names.items() if name in form}
