"""Money: whole kronor as int; Decimal only inside a division. The one rounding rule lives here.

Rule: half up to whole kronor (0.5 → 1), as Socialstyrelsen's worked example rounds 1 710 ÷ 5 = 342 and as the
contract rounds the ovrig_vuxen share and the jobbstimulans exemption.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

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


# A portal's amount, strictly: optional sign (hyphen or U+2212 minus), whole kronor written as plain digits or in
# groups of three separated by a (no-break, narrow or thin) space, optional öre after a decimal comma, optional
# "kr" or ":-". Anything else (a dot, a letter O for a zero, "ca", an exponent, "NaN") is not an amount: a guess
# here would become money paid out, so the caller hands the case to a human instead.
_GAP = "[ \u00a0\u202f\u2009]"
_AMOUNT_TEXT = re.compile(
    rf"(?P<sign>[-\u2212])?{_GAP}*(?P<whole>\d{{1,3}}(?:{_GAP}\d{{3}})+|\d+)(?:,(?P<ore>\d{{1,2}}))?"
    rf"(?:{_GAP}*(?:kr|:-))?", re.IGNORECASE | re.ASCII)
_SHOWN_MAX = 60  # characters of a refused text quoted in an error: a 10,000-character field stays readable


def shown(text: str) -> str:
    """A refused text as an error message quotes it: repr, shortened."""
    return repr(text) if len(text) <= _SHOWN_MAX else repr(text[:_SHOWN_MAX]) + f"… ({len(text)} characters)"


def parse_kr(text: str) -> int:
    """A portal's amount ('12 345 kr', '1 234,50', '−500', '1234') → whole kronor by the same rounding rule.
    Raises ValueError for anything that is not strictly an amount."""
    match = _AMOUNT_TEXT.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an amount in kronor: {shown(text)}")
    value = Decimal(re.sub(_GAP, "", match["whole"]) + "." + (match["ore"] or "0"))
    rounded = round_kr(value)
    return -rounded if match["sign"] and rounded else rounded
