"""Finding a template image on a screenshot: exact pixels, as a remote desktop draws the same text the same way.

Not OpenCV's fuzzy matching: an anchor that matches "nearly" is how a robot types into the wrong field. A template
must be found exactly once; zero or several matches are both "not found" for the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

Pixels = NDArray[np.uint8]  # height × width × 3 (RGB)


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    width: int
    height: int

    def point(self, dx: int, dy: int) -> tuple[int, int]:
        return self.left + dx, self.top + dy


def load(path: Path) -> Pixels:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def save(pixels: Pixels, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, "RGB").save(path, optimize=True)
    return path


def locate_all(haystack: Pixels, needle: Pixels, limit: int = 5) -> list[Box]:
    """Every place (up to `limit`) where `needle` appears pixel for pixel in `haystack`.

    Candidates come from the needle's rarest colour (an anti-aliased text edge, seldom the background), so a
    full-screen search checks a few hundred spots rather than every pixel."""
    h, w = needle.shape[:2]
    hh, hw = haystack.shape[:2]
    if h > hh or w > hw or h == 0 or w == 0:
        return []
    flat = needle.reshape(-1, 3)
    _, inverse, counts = np.unique(flat, axis=0, return_inverse=True, return_counts=True)
    index = int(np.argmin(counts[inverse.ravel()]))
    ny, nx = divmod(index, w)
    ys, xs = np.nonzero(np.all(haystack == flat[index], axis=2))
    ys, xs = ys - ny, xs - nx
    inside = (ys >= 0) & (xs >= 0) & (ys + h <= hh) & (xs + w <= hw)
    found: list[Box] = []
    for y, x in zip(ys[inside].tolist(), xs[inside].tolist(), strict=True):
        if np.array_equal(haystack[y:y + h, x:x + w], needle):
            found.append(Box(x, y, w, h))
            if len(found) >= limit:
                break
    return found


def crop(pixels: Pixels, box: Box) -> Pixels:
    return pixels[box.top:box.top + box.height, box.left:box.left + box.width].copy()
