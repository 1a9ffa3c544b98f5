"""The latency knob, seen from a real browser: every portal page is that much slower, and only while it is set."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.browser


def load_time(page, url: str) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    response = page.goto(url)
    assert response is not None and response.status == 200
    return time.monotonic() - started


@pytest.mark.parametrize("portal", ["casesystem", "fk"])
def test_latency_knob_slows_every_page_until_reset(fresh_sandbox, page, portal: str) -> None:  # type: ignore[no-untyped-def]
    url = fresh_sandbox.url(portal, "/login")
    baseline = min(load_time(page, url) for _ in range(3))
    fresh_sandbox.set_knobs(portal, latency_ms=600)
    slowed = load_time(page, url)
    fresh_sandbox.set_knobs(portal, latency_ms=0)
    after = min(load_time(page, url) for _ in range(3))
    assert slowed >= 0.6 > baseline
    assert after < 0.6
