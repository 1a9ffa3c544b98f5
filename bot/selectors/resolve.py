"""Turning a logical element into one Playwright locator, strategy by strategy.

A strategy counts only when it matches exactly one visible element: two matches mean the selector is
ambiguous, and guessing between them is how robots write into the wrong field.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from playwright.async_api import FrameLocator, Locator, Page

from bot.selectors.candidates import css_string
from bot.selectors.model import FIELD_TAGS, Anchor, Element, Fingerprint, Strategy
from bot.selectors.page_js import FIND_BY_FINGERPRINT_JS, INDEX_OF_JS

Scope = Page | FrameLocator | Locator


FINGERPRINT = "fingerprint"


@dataclass(frozen=True)
class Resolution:
    locator: Locator
    strategy_index: int  # len(strategies) when found by the fingerprint
    strategy: Strategy | None  # None when found by the fingerprint

    @property
    def drifted(self) -> bool:
        return self.strategy_index > 0

    def describe(self) -> str:
        return FINGERPRINT if self.strategy is None else self.strategy.describe()


class ElementNotFound(Exception):
    def __init__(self, screen: str, element: str, tried: list[str]) -> None:
        self.screen = screen
        self.element = element
        self.tried = tried
        super().__init__(f"screen '{screen}', element '{element}': no strategy matched exactly one visible "
                         f"element (tried {'; '.join(tried)})")


def locate(scope: Scope, strategy: Strategy) -> Locator:
    """The Playwright locator for one strategy (not yet checked for uniqueness)."""
    if strategy.role is not None:
        return scope.get_by_role(strategy.role, name=strategy.name, exact=strategy.exact)  # type: ignore[arg-type]
    if strategy.label is not None:
        return scope.get_by_label(strategy.label, exact=strategy.exact)
    if strategy.testid is not None:
        return scope.get_by_test_id(strategy.testid)
    if strategy.text is not None:
        return scope.get_by_text(strategy.text, exact=strategy.exact)
    if strategy.placeholder is not None:
        return scope.get_by_placeholder(strategy.placeholder, exact=strategy.exact)
    if strategy.anchor is not None:
        return scope.locator(anchor_xpath(strategy.anchor))
    assert strategy.css is not None
    return scope.locator(strategy.css)


def _literal(text: str) -> str:
    """An XPath 1.0 string literal for any text (XPath has no escapes: concat() joins the quote kinds)."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "concat(" + ", \"'\", ".join(f"'{part}'" for part in text.split("'")) + ")"


def anchor_xpath(anchor: Anchor) -> str:
    """The anchor as one XPath, re-evaluated on every use (never a stored position).

    The anchor node is the innermost element whose whole visible text is the anchor text (so a row whose only
    text is its label does not count as the label); its "box" is the table cell it sits in, or itself.
    """
    text = _literal(anchor.text)
    if anchor.relation == "header":
        # The table whose own first row (in <thead>, the body, or bare) has a cell reading the text.
        return f"xpath=//table[(./thead/tr | ./tbody/tr | ./tr)[1]/*[normalize-space(.)={text}]]"
    target = " or ".join(f"self::{tag}" for tag in anchor.target)
    fields = f"descendant-or-self::*[{target}]"
    node = f"//*[normalize-space(.)={text}][not(*[normalize-space(.)={text}])]"
    cell = "ancestor-or-self::*[self::td or self::th][1]"
    if anchor.relation == "left":
        box = f"({node}/{cell} | {node}[not({cell})])"
        return f"xpath={box}/following-sibling::*[1]/{fields}"
    if anchor.relation == "above":
        # The cell at the same position in the next row (count the cells before the anchor's own).
        return (f"xpath={node}/{cell}/parent::tr/following-sibling::tr[1]/*[count(preceding-sibling::*) = "
                f"count(({node}/{cell})[1]/preceding-sibling::*)]/{fields}")
    assert anchor.row is not None
    row = _literal(anchor.row)
    header = f"ancestor::table[1]//*[self::th or self::td][normalize-space(.)={text}]"
    return (f"xpath=//tr[*[1][normalize-space(.)={row}]]/*[count(preceding-sibling::*) = "
            f"count({header}/preceding-sibling::*)]/{fields}")


async def resolve(scope: Scope, screen: str, name: str, element: Element, timeout_s: float = 10.0,
                  poll_s: float = 0.05, on_drift: Callable[[str, str, Resolution], None] | None = None,
                  fingerprint: bool = True) -> Resolution:
    """Try the strategies in order until one matches exactly one visible element, polling until timeout; when
    none has by then, look for the element by its recorded fingerprint once.

    Polling (rather than waiting on the first strategy alone) lets a fallback win as soon as the page has
    rendered, so a changed screen costs one timeout per run at worst, not one per element.
    """
    deadline = time.monotonic() + timeout_s
    tried: list[str] = []
    while True:
        tried = []
        for index, strategy in enumerate(element.strategies):
            locator = locate(scope, strategy).filter(visible=True)
            count = await locator.count()
            tried.append(f"{strategy.describe()} → {count}")
            if count == 1:
                resolution = Resolution(locator, index, strategy)
                if resolution.drifted and on_drift is not None:
                    on_drift(screen, name, resolution)
                return resolution
        if time.monotonic() >= deadline:
            healing = await heal(scope, element.fingerprint) if fingerprint else None
            if healing is None or healing.locator is None:
                raise ElementNotFound(screen, name, tried + [_no_heal(healing)] if healing is not None else tried)
            resolution = Resolution(healing.locator, len(element.strategies), None)
            if on_drift is not None:
                on_drift(screen, name, resolution)
            return resolution
        await asyncio.sleep(poll_s)


def _no_heal(healing: Healing) -> str:
    return f"{FINGERPRINT} → no single match" if not healing.candidates else healing.describe()


def column_keys(element: Element, keys: list[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Logical column → the first of its listed keys that the table or list shows, and the columns none of whose
    keys it shows (those are broken: reading them would mean guessing)."""
    found: dict[str, str] = {}
    missing: dict[str, list[str]] = {}
    for column, wanted in element.columns.items():
        key = next((k for k in wanted if k in keys), None)
        if key is None:
            missing[column] = wanted
        else:
            found[column] = key
    return found, missing


# A fingerprint match must reach this share of what the recorded traits could score, or it heals nothing: the
# element is SELECTOR_MISSING with the best candidates named, never a guess.
MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Healing:
    locator: Locator | None  # re-resolvable: found again by a stable trait on every use, never by position
    confidence: float  # the best match's score ÷ the most the recorded traits could score
    candidates: tuple[str, ...]  # the best matches, for the message when nothing heals
    tie: bool = False  # two or more matched equally well

    def describe(self) -> str:
        named = "; ".join(self.candidates) or "none"
        if self.tie:
            return f"{FINGERPRINT} → no single match: equally good candidates {named}"
        return f"{FINGERPRINT} → best {self.confidence:.2f}, below {MIN_CONFIDENCE:.2f} (candidates: {named})"


def _relocators(scope: Page | FrameLocator, fingerprint: Fingerprint) -> list[Locator]:
    """Ways to find the healed element again by what it carries, strongest first."""
    tag = fingerprint.tag or "*"
    found = [scope.locator(f"{tag}[{k}={css_string(v)}]") for k, v in fingerprint.attributes.items() if k != "type"]
    beside = fingerprint.beside
    target = (fingerprint.tag,) if fingerprint.tag else FIELD_TAGS
    if beside.get("left"):
        found.append(scope.locator(anchor_xpath(Anchor(text=beside["left"], target=target))))
    if beside.get("column") and beside.get("row"):
        found.append(scope.locator(anchor_xpath(Anchor(text=beside["column"], relation="column",
                                                       row=beside["row"], target=target))))
    if beside.get("above"):
        found.append(scope.locator(anchor_xpath(Anchor(text=beside["above"], relation="above", target=target))))
    if fingerprint.label:
        found.append(scope.get_by_label(fingerprint.label, exact=True))
    if fingerprint.role and fingerprint.name:
        found.append(scope.get_by_role(fingerprint.role, name=fingerprint.name, exact=True))  # type: ignore[arg-type]
    return found


async def heal(scope: Scope, fingerprint: Fingerprint, min_confidence: float = MIN_CONFIDENCE) -> Healing:
    """The one visible element that still looks like the recorded one, scored; healed only when the score is
    high enough, and then by a locator that finds it again by a stable trait (checked to be that element)."""
    if isinstance(scope, Locator) or not (fingerprint.attributes or fingerprint.name or fingerprint.label
                                          or fingerprint.beside):
        return Healing(None, 0.0, ())  # a sub-element scope would need its own index space; drivers scope by page
    try:
        found = await scope.locator(":root").evaluate(FIND_BY_FINGERPRINT_JS, fingerprint.model_dump(),
                                                      timeout=2000)
    except Exception:  # noqa: BLE001 - a frame not there (yet) is "not found", reported by the caller
        return Healing(None, 0.0, ())
    confidence = found["score"] / found["max"] if found["max"] else 0.0
    named = tuple(f"{c['text'] or '?'} ({c['score'] / found['max']:.2f})" for c in found["top"]) \
        if found["max"] else ()
    if found["best"] < 0 or found["tie"] or confidence < min_confidence:
        return Healing(None, confidence, named, bool(found["tie"]))
    for locator in _relocators(scope, fingerprint):
        visible = locator.filter(visible=True)
        if await visible.count() != 1:
            continue
        if await visible.evaluate(INDEX_OF_JS, fingerprint.tag) == found["best"]:
            return Healing(visible, confidence, named)
    return Healing(None, confidence, named)
