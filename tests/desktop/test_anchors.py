"""Anchor images and files, without a screen: exact matching, uniqueness, and clear errors for bad data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.desktop import images
from bot.desktop.anchors import load_desktop
from bot.desktop.images import Box
from bot.desktop.record import RecordingRefused, Target, record_screen
from bot.paths import SELECTORS_DIR
from bot.selectors.load import SelectorFileError


def screen_with(*patches: tuple[int, int, np.ndarray]) -> np.ndarray:
    shot = np.full((200, 300, 3), 230, dtype=np.uint8)
    for x, y, patch in patches:
        shot[y:y + patch.shape[0], x:x + patch.shape[1]] = patch
    return shot


def glyph(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, size=(9, 14, 3), dtype=np.uint8)


def test_a_template_is_found_exactly_where_it_is_and_nowhere_else() -> None:
    a, b = glyph(1), glyph(2)
    shot = screen_with((40, 30, a), (200, 150, b))
    assert images.locate_all(shot, a) == [Box(40, 30, 14, 9)]
    assert images.locate_all(shot, b) == [Box(200, 150, 14, 9)]
    nearly = a.copy()
    nearly[4, 7] ^= 1  # one pixel off by one: not the same anchor
    assert images.locate_all(shot, nearly) == []
    assert len(images.locate_all(screen_with((10, 10, a), (100, 100, a)), a)) == 2


def test_recording_refuses_an_area_that_is_not_unique(tmp_path: Path) -> None:
    a = glyph(3)
    shot = screen_with((10, 10, a), (150, 120, a), (60, 60, glyph(4)))
    with pytest.raises(RecordingRefused, match="found 2 times"):
        record_screen(shot, "dialog", {"ok": Target(Box(10, 10, 14, 9), (17, 14))}, tmp_path)
    screen = record_screen(shot, "dialog", {"ok": Target(Box(60, 60, 14, 9), (67, 64))}, tmp_path)
    assert screen.elements["ok"].click == (7, 4)
    assert (images.load(tmp_path / "images/dialog/ok.png") == glyph(4)).all()


def test_the_committed_anchors_load_and_name_every_element_the_driver_uses() -> None:
    from bot.desktop.screens import ELEMENTS

    anchors = load_desktop(SELECTORS_DIR / "casesystem")
    assert {s: set(e.elements) for s, e in anchors.screens.items()} == {s: set(e) for s, e in ELEMENTS.items()}


def test_a_missing_anchor_image_or_a_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "desktop.yaml").write_text(
        "portal: casesystem\nchannel: desktop\nlayout: v1\nrecorded: {at: 2026-11-26, by: x}\n"
        "screens:\n  dialog:\n    elements:\n      ok: {image: images/dialog/ok.png, click: [1, 2]}\n",
        encoding="utf-8")
    with pytest.raises(SelectorFileError, match="anchor images missing: dialog/ok: images/dialog/ok.png"):
        load_desktop(tmp_path)
    (tmp_path / "desktop.yaml").write_text("portal: casesystem\nchannel: web\n", encoding="utf-8")
    with pytest.raises(SelectorFileError, match="desktop.yaml:2"):
        load_desktop(tmp_path)
