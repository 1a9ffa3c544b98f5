"""Money: whole kronor as int; Decimal only inside a division. The one rounding rule lives here.

Rule: half up to whole kronor (0.5 → 1), as Socialstyrelsen's worked example rounds 1 710 ÷ 5 = 342 and as the
contract rounds the ovrig_vuxen share and the jobbstimulans exemption.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_ONE = Decimal(1)


def round_kr(value: Decimal | int) -> int:
    """Half up to whole kronor. Amounts here are never negative; half up is also what kronor rounding means."""
    if isinstance(value, float):
        raise TypeError("money is never float; pass Decimal or int")
    return int(Decimal(value).quantize(_ONE, rounding=ROUND_HALF_UP))


def share(amount: int, numerator: int, denominator: int) -> int:
    """amount × numerator ÷ denominator, rounded once (not per person)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    return round_kr(Decimal(amount) * numerator / denominator)


def percent_of(amount: int, percent: Decimal | int) -> int:
    """`percent` % of `amount`, rounded."""
    return round_kr(Decimal(amount) * Decimal(percent) / 100)


def format_kr(amount: int) -> str:
    """12345 → '12 345 kr' (the portals' own format)."""
    return f"{amount:,}".replace(",", " ") + " kr"


def format_num(amount: int) -> str:
    """12345 → '12 345' (inside a rule text)."""
    return f"{amount:,}".replace(",", " ")


def parse_kr(text: str) -> int:
    """A portal's amount ('12 345 kr', '1 234,50', '1234') → whole kronor by the same rounding rule."""
    cleaned = re.sub(r"(?i)\s|kr|:-|\u00a0|\u202f", "", text).replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not an amount in kronor: {text!r}") from None
    return round_kr(value)
