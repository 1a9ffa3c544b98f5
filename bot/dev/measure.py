"""What the benchmark and its two reference measurements (the plain-HTTP floor, the Selenium peer) share."""

from __future__ import annotations

import math
from collections.abc import Sequence

AGENCIES = ("skv", "fk", "af", "csn")


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]
