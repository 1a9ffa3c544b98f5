"""From a clicked element's description to the strategies worth recording, most robust first.

Pure: the recorder then keeps only the candidates that match exactly one visible element, the clicked one.
Preference follows what survives vendor upgrades: what a user reads (role + accessible name, the label), then
hooks made for automation (test ids), then form contracts (`name=`), and CSS only on stable attributes.
Generated ids and positions (`nth-child`) are never used: they change with every render or every new row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.selectors.model import FIELD_TAGS as FIELD_TAG_ORDER
from bot.selectors.model import Anchor, Fingerprint, Strategy

FIELD_TAGS = frozenset({"input", "textarea", "select"})
# Roles whose name is what a user reads, so role + name is how a person would point at the element.
NAMED_ROLES = frozenset({"button", "link", "textbox", "searchbox", "checkbox", "radio", "combobox", "spinbutton",
                         "table", "list", "tab", "menuitem", "heading", "status", "region", "navigation", "dialog"})
# Roles that are rare on a page, so the role alone can still be unique (the one alert, the one table).
SINGULAR_ROLES = frozenset({"alert", "status", "table", "list", "search", "main", "navigation", "dialog"})
MAX_CHOSEN = 3
MAX_TEXT = 80

# An id that is generated: random hex, long digit runs, framework prefixes. Such ids change between renders.
_GENERATED_ID = re.compile(r"[0-9a-f]{6,}|\d{3,}|^(ember|react|mui|ext-gen|ui-id|j_id|gwt|yui)[-_]?", re.I)


def is_stable_id(value: str | None) -> bool:
    return bool(value) and not _GENERATED_ID.search(value or "")


def css_string(text: str) -> str:
    """A CSS string literal (double-quoted, backslash-escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def candidates(desc: Mapping[str, Any], stable: Sequence[str] = ()) -> list[Strategy]:
    """Every strategy that might find the described element, in the order they would be preferred. `stable`: the
    portal's own stable attributes (hooks its vendor keeps across versions), right after test ids."""
    tag = str(desc.get("tag") or "")
    role = desc.get("role")
    name = _usable_text(desc.get("name"))
    label = _usable_text(desc.get("label"))
    attrs: Mapping[str, str] = desc.get("attributes") or {}
    found: list[Strategy] = []

    if role in NAMED_ROLES and name:
        found.append(_named(role, name))
    if tag in FIELD_TAGS and label:
        found.append(Strategy(label=label))
    if attrs.get("data-testid"):
        found.append(Strategy(testid=attrs["data-testid"]))
    found += [Strategy(css=f"{tag or '*'}[{a}={css_string(attrs[a])}]") for a in stable if attrs.get(a)]
    if tag in FIELD_TAGS and attrs.get("placeholder"):
        found.append(Strategy(placeholder=attrs["placeholder"]))
    if tag in FIELD_TAGS and not label:
        found += anchors(desc.get("beside") or {})
    if tag in ("td", "dd") and label:
        # A value cell is known by the row header or term beside it, which a caseworker reads too.
        found.append(Strategy(css=f"{'th' if tag == 'td' else 'dt'}:text-is({css_string(label)}) + {tag}"))
    elif tag == "td":
        # An older screen's value cell: its label is the plain cell to its left. The cells above it and its row's
        # first cell hold other values (data), never an anchor.
        found += anchors(value_cell_beside(desc), target=("td",))
    if tag in ("a", "button") and name and not any(s.role for s in found):
        found.append(Strategy(text=name))
    if attrs.get("name") and tag and is_stable_id(attrs["name"]):  # a generated name changes with every render
        found.append(Strategy(css=f"{tag}[name={css_string(attrs['name'])}]"))
    if tag == "a" and attrs.get("href"):
        found.append(Strategy(css=f"a[href*={css_string(attrs['href'])}]"))
    if tag == "table" and desc.get("headers"):
        # By its header texts; the recorder keeps those only this table has (two tables may share "Månad").
        headers = [h for h in desc["headers"] if _static_text(h)]
        found += [Strategy(anchor=Anchor(text=h, relation="header")) for h in headers]
        found += [Strategy(css=f"table:has(th:text-is({css_string(h)}))") for h in headers[:1]]
    if is_stable_id(desc.get("id")):
        found.append(Strategy(css=f"#{desc['id']}"))
    if role in SINGULAR_ROLES:
        found.append(Strategy(role=role))
    return list(dict.fromkeys(found))  # Strategy is frozen and hashable: drop repeats, keep order


def anchors(beside: Mapping[str, str], target: tuple[str, ...] = FIELD_TAG_ORDER) -> list[Strategy]:
    """A field (or value cell) no label points at, by the text a person reads beside it (an older system's screen):
    the cell or sibling to its left, its table column and row, the cell above. Preferred over CSS: names are often
    generated."""
    found = []
    left, column, row, above = (_static_text(beside.get(k)) for k in ("left", "column", "row", "above"))
    if left:
        found.append(Strategy(anchor=Anchor(text=left, target=target)))
    if column and row:
        found.append(Strategy(anchor=Anchor(text=column, relation="column", row=row, target=target)))
    if above and above != column:
        found.append(Strategy(anchor=Anchor(text=above, relation="above", target=target)))
    return found


def value_cell_beside(desc: Mapping[str, Any]) -> dict[str, str]:
    """What beside a clicked element is a label: for a plain value cell only the cell to its left, for a table
    nothing."""
    beside: Mapping[str, str] = desc.get("beside") or {}
    if desc.get("tag") in ("table", "ul", "ol", "dl"):  # known by its headers; around it is the layout
        return {}
    if desc.get("tag") == "td" and not desc.get("label"):
        return {k: v for k, v in beside.items() if k == "left"}
    return dict(beside)


def fingerprint_of(desc: Mapping[str, Any]) -> Fingerprint:
    """The traits kept for healing later; free text is bounded so no page content is copied wholesale."""
    return Fingerprint(tag=desc.get("tag"), role=desc.get("role"), name=_static_text(desc.get("name")),
                       label=_static_text(desc.get("label")), near=_static_text(desc.get("near")),
                       attributes={k: v for k, v in (desc.get("attributes") or {}).items()
                                   if k != "href" and (k != "name" or is_stable_id(v))},
                       headers=list(desc.get("headers") or []),
                       beside={k: v for k, v in value_cell_beside(desc).items()
                               if (text := _static_text(v)) is not None and text == v})


def frame_candidates(desc: Mapping[str, Any]) -> list[Strategy]:
    """How to point at the iframe a click came from: by its title, by its address (never its random name)."""
    attrs: Mapping[str, str] = desc.get("attributes") or {}
    found = []
    if desc.get("title"):
        found.append(Strategy(css=f"iframe[title={css_string(desc['title'])}]"))
    if desc.get("src"):
        found.append(Strategy(css=f"iframe[src*={css_string(desc['src'])}]"))
    if attrs.get("name") and is_stable_id(attrs["name"]):
        found.append(Strategy(css=f"iframe[name={css_string(attrs['name'])}]"))
    return found


def _named(role: str, name: str) -> Strategy:
    """Role + name; a name carrying figures ("Utbetalningar 2024-10 – 2024-12") is data that changes with every
    search, so only the words before the first figure are kept, as a prefix."""
    digit = re.search(r"\d", name)
    if digit is None:
        return Strategy(role=role, name=name)
    prefix = name[: digit.start()]
    return Strategy(role=role, name=prefix, exact=False) if len(prefix.strip()) >= 4 else Strategy(role=role)


def _static_text(value: object) -> str | None:
    """Text worth keeping in a fingerprint: without figures, which are data (a heading "Studerande 19860413-9876"
    carries a personnummer, which has no business in a selector file, and would never match again anyway)."""
    text = _usable_text(value)
    if text is None or not re.search(r"\d", text):
        return text
    return None


def _usable_text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text if text and len(text) <= MAX_TEXT else None
