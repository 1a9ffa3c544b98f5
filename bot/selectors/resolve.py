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

from bot.selectors.model import Element, Strategy

Scope = Page | FrameLocator | Locator


@dataclass(frozen=True)
class Resolution:
    locator: Locator
    strategy_index: int
    strategy: Strategy

    @property
    def drifted(self) -> bool:
        return self.strategy_index > 0


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
    assert strategy.css is not None
    return scope.locator(strategy.css)


async def resolve(scope: Scope, screen: str, name: str, element: Element, timeout_s: float = 10.0,
                  poll_s: float = 0.05, on_drift: Callable[[str, str, Resolution], None] | None = None
                  ) -> Resolution:
    """Try the strategies in order until one matches exactly one visible element, polling until timeout.

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
            raise ElementNotFound(screen, name, tried)
        await asyncio.sleep(poll_s)
