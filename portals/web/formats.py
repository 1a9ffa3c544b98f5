"""Swedish number and date formats as legacy screens print them."""

from __future__ import annotations

import re

_NBSP = "\u00a0"


def fmt_kr(amount: int | str | None) -> str:
    """12345 -> '12 345' (space as thousands separator, as Swedish screens print money). A text is printed as
    the applicant typed it (legacy systems keep free-text amounts; see `portals.hostile`)."""
    if amount is None:
        return ""
    if isinstance(amount, str):
        return amount
    sign = "-" if amount < 0 else ""
    return sign + f"{abs(amount):,}".replace(",", " ")


def fmt_decimal(amount: int | float) -> str:
    """1234.5 -> '1 234,50' (comma decimals)."""
    whole, frac = f"{abs(amount):.2f}".split(".")
    sign = "-" if amount < 0 else ""
    return sign + f"{int(whole):,}".replace(",", " ") + "," + frac


_AMOUNT = re.compile(r"^-?\d+$")


def parse_whole_kronor(text: str) -> int:
    """'12 345' / '12345' / '12 345 kr' -> 12345. Raises ValueError with a Swedish message otherwise.

    The case system stores whole kronor only, as many legacy calculation screens do; öre are refused
    rather than rounded so a robot that types '1 234,50' is told, not silently corrected.
    """
    cleaned = text.strip().replace(_NBSP, " ").replace("\u2212", "-")
    if cleaned.lower().endswith("kr"):
        cleaned = cleaned[:-2].strip()
    cleaned = cleaned.replace(" ", "")
    if not _AMOUNT.match(cleaned):
        raise ValueError(f"'{text}' är inte ett belopp i hela kronor")
    return int(cleaned)
