"""Synthetic Swedish personnummer for the sandbox seed: generate, validate, format, mask.

A personnummer is YYMMDD-NNNC (display) or YYYYMMDDNNNC (storage, as Skatteverket keeps it); C is a Luhn
check digit over the 10-digit form YYMMDDNNN, the ninth digit is odd for men and even for women, and a
samordningsnummer adds 60 to the day. The seed draws the three serial digits from a narrow high band
(980–999) and never looks at any real register: every number is made up, only its check digit is right.
"""

from __future__ import annotations

import datetime as dt
import random
import re

SERIAL_BAND = range(980, 1000)

_FORM = re.compile(r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<serial>\d{3})(?P<check>\d)$")


def luhn_check_digit(nine_digits: str) -> int:
    """The check digit for YYMMDDNNN: weights 2,1,2,1,… from the left, digits of each product summed."""
    if len(nine_digits) != 9 or not nine_digits.isdigit():
        raise ValueError("need exactly nine digits (YYMMDDNNN)")
    total = 0
    for i, ch in enumerate(nine_digits):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def make_pnr(birth: dt.date, serial: int, coordination: bool = False) -> str:
    """The 12-digit storage form for a birth date and a three-digit serial (day + 60 for a samordningsnummer)."""
    if not 0 <= serial <= 999:
        raise ValueError("serial must be 0..999")
    day = birth.day + (60 if coordination else 0)
    ten_without_check = f"{birth:%y%m}{day:02d}{serial:03d}"
    return f"{birth:%Y%m}{day:02d}{serial:03d}{luhn_check_digit(ten_without_check)}"


def _parse(text: str) -> re.Match[str] | None:
    return _FORM.match(re.sub(r"\s+", "", text or ""))


def is_valid(text: str) -> bool:
    """A real calendar date (samordningsnummer allowed) and a right check digit; 10 or 12 digits, '-'/'+'."""
    match = _parse(text)
    if match is None:
        return False
    yymmdd = match["yymmdd"]
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if day > 60:
        day -= 60
    year = int(match["century"] + yymmdd[:2]) if match["century"] else 2000  # 2000: a leap year, so 29 Feb passes
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return luhn_check_digit(yymmdd + match["serial"]) == int(match["check"])


def birth_date(pnr12: str) -> dt.date:
    """The birth date of a 12-digit number (a samordningsnummer's day + 60 taken back off)."""
    digits = re.sub(r"\D", "", pnr12)
    if len(digits) != 12:
        raise ValueError("need the 12-digit form")
    day = int(digits[6:8])
    return dt.date(int(digits[:4]), int(digits[4:6]), day - 60 if day > 60 else day)


def is_female(pnr12: str) -> bool:
    return int(re.sub(r"\D", "", pnr12)[10]) % 2 == 0


def to_display(pnr12: str, on: dt.date | None = None) -> str:
    """YYMMDD-NNNC; with `on`, '+' instead of '-' for a person aged 100 or more on that day."""
    digits = re.sub(r"\D", "", pnr12)
    if len(digits) != 12:
        raise ValueError("need the 12-digit form")
    sep = "-"
    if on is not None:
        born = birth_date(digits)
        if (on.year - born.year - ((on.month, on.day) < (born.month, born.day))) >= 100:
            sep = "+"
    return f"{digits[2:8]}{sep}{digits[8:]}"


def to_dashed(pnr12: str) -> str:
    """YYYYMMDD-NNNC, the long form most case systems print."""
    digits = re.sub(r"\D", "", pnr12)
    return f"{digits[:8]}-{digits[8:]}"


def mask(pnr: str) -> str:
    """`19850101-XXXX`: the birth date stays (needed to tell people apart on a report), the rest goes."""
    digits = re.sub(r"\D", "", pnr)
    if len(digits) != 12:
        raise ValueError("need the 12-digit form")
    return f"{digits[:8]}-XXXX"


class PnrAllocator:
    """Hands out unique synthetic numbers; deterministic for a given `random.Random` and call order."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def allocate(self, birth: dt.date, female: bool, rng: random.Random | None = None) -> str:
        """A number not handed out before; `rng` (default: the allocator's own) shuffles the serials, so a second
        random stream can take numbers from the same allocator without drawing from the first."""
        parity = 0 if female else 1
        serials = [s for s in SERIAL_BAND if s % 2 == parity]  # the gender digit is the serial's last
        (rng or self._rng).shuffle(serials)
        # Twenty serials per birth date are ample for a sandbox; the full range is the fallback, never the norm.
        fallback = [s for s in range(1000) if s % 2 == parity and s not in SERIAL_BAND]
        for serial in serials + fallback:
            pnr = make_pnr(birth, serial)
            if pnr not in self._used:
                self._used.add(pnr)
                return pnr
        raise RuntimeError(f"no free personnummer left for {birth}")
