"""Masking of personal data before it reaches a log, a report or the state store.

Personnummer: any date-shaped 10- or 12-digit number is masked, whether or not its check digit is valid.
A mistyped personnummer (bad Luhn digit) is still personal data, and the price of the rule is small: a rare
unrelated number that happens to look like YYMMDDNNNN (a phone number, say) is masked too. The date stays
readable (`19850101-XXXX`, `850101-XXXX`, `850101+XXXX`), which is what a caseworker needs to tell people in a
household apart. Samordningsnummer (day + 60) and temporary T-style ids (`880209-T050`) are masked the same way.

Names: callers register the names of the case at hand (`with masked_names(["Anna", "Svensson"])`) and every
whole-word occurrence, in any letter case, becomes `A***`. The registration lives in a context variable, so
parallel asyncio workers each mask their own case. Secrets (passwords) registered with `register_secret`
are masked as `***` everywhere, always.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

_MONTH = r"(?:0[1-9]|1[0-2])"
# 01-31, or 61-91 for samordningsnummer (the day plus 60).
_DAY = r"(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
_TAIL = r"(?:\d{4}|[A-Za-z]\d{3})"
# Digits on either side would make it part of a longer number (an account number, a timestamp): not a pnr.
PNR_RE = re.compile(
    rf"(?<!\d)(?P<date>(?:1[89]|20)\d\d{_MONTH}{_DAY}|\d\d{_MONTH}{_DAY})(?P<sep>[-+]?)(?P<tail>{_TAIL})(?!\d)"
)

_names: ContextVar[tuple[str, ...]] = ContextVar("casebot_masked_names", default=())
_secrets_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_MIN_SECRET = 4  # shorter strings would mask ordinary words and digits

# Names that left a `masked_names` block inside an exception travel with it, so the run loop that logs the
# exception outside the block still masks them.
EXC_NAMES_ATTR = "_casebot_masked_names"


def _pnr_sub(match: re.Match[str]) -> str:
    return f"{match['date']}{match['sep'] or '-'}XXXX"


def mask_pnrs_in(text: str) -> str:
    """Mask every personnummer-shaped number in free `text`, keeping the date part."""
    return PNR_RE.sub(_pnr_sub, text)


def mask_pnr(pnr: str) -> str:
    """One personnummer, in whatever shape it came: '19850312-2389' → '19850312-XXXX' (what a caseworker's report
    may show, domain.md, Personal data); anything that is not 10 or 12 digits → 'XXXX'."""
    digits = re.sub(r"\D", "", pnr)
    return f"{digits[:-4]}-XXXX" if len(digits) in (10, 12) else "XXXX"


def mask_name(name: str) -> str:
    """`Svensson` → `S***`."""
    return f"{name[:1]}***" if name else name


def _name_parts(names: Iterable[str]) -> tuple[str, ...]:
    parts: set[str] = set()
    for name in names:
        if not name:
            continue
        # "Anna-Karin Svensson" → each word ("Anna-Karin", "Svensson") and, since people get called by half a
        # double name, each half too. Longest first in the pattern keeps "Anna-Karin" one match.
        for word in re.split(r"[\s,]+", name.strip()):
            parts.add(word)
            parts.update(re.split(r"-", word))
    # Single letters (initials) would mask half the alphabet.
    return tuple(sorted((p for p in parts if len(p) >= 2), key=lambda p: (-len(p), p)))


@lru_cache(maxsize=256)
def _names_re(names: tuple[str, ...]) -> re.Pattern[str] | None:
    parts = _name_parts(names)
    if not parts:
        return None
    alternatives = "|".join(re.escape(p) for p in parts)  # longest first, so "Anna-Karin" beats "Anna"
    # Whole words only; a Swedish genitive s ("Annas") still counts as the name.
    return re.compile(rf"(?<!\w)(?:{alternatives})(?::?s)?(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=8)
def _secrets_re(secrets: frozenset[str]) -> re.Pattern[str] | None:
    if not secrets:
        return None
    return re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))


def current_names() -> tuple[str, ...]:
    return _names.get()


def mask_names_in(text: str, names: Iterable[str]) -> str:
    pattern = _names_re(tuple(names))
    if pattern is None:
        return text
    return pattern.sub(lambda m: mask_name(m[0]), text)


def mask_text(text: str, extra_names: Iterable[str] = ()) -> str:
    """Everything the logs need: secrets, personnummer, and the names registered for the current context."""
    secrets = _secrets_re(_secrets)
    if secrets is not None:
        text = secrets.sub("***", text)
    text = mask_pnrs_in(text)
    names = (*_names.get(), *extra_names)
    return mask_names_in(text, names) if names else text


def mask_value(value: Any, extra_names: Iterable[str] = ()) -> Any:
    """Mask strings inside plain data (dicts, lists, tuples); numbers that look like a pnr become masked strings;
    any other object is replaced by its masked `str()`, because a sink would print that anyway."""
    names = tuple(extra_names)
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, str):
        return mask_text(value, names)
    if isinstance(value, int):
        masked = mask_text(str(value), names)
        return value if masked == str(value) else masked
    if isinstance(value, dict):
        return {mask_value(k, names): mask_value(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(v, names) for v in value]
    return mask_text(str(value), names)


@contextmanager
def masked_names(names: Iterable[str]) -> Iterator[None]:
    """Mask these names (in addition to any already registered) in every log record made inside the block."""
    added = tuple(n for n in names if n)
    token = _names.set((*_names.get(), *added))
    try:
        yield
    except BaseException as exc:
        with suppress(AttributeError, TypeError):  # a few built-in exception types take no attributes
            setattr(exc, EXC_NAMES_ATTR, (*getattr(exc, EXC_NAMES_ATTR, ()), *added))
        raise
    finally:
        _names.reset(token)


def exception_names(exc: BaseException | None) -> tuple[str, ...]:
    """Names attached to an exception or anything in its cause/context chain."""
    found: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        found.extend(getattr(exc, EXC_NAMES_ATTR, ()))
        exc = exc.__cause__ or exc.__context__
    return tuple(found)


def register_secret(value: str | None) -> None:
    """Mask this exact string (a password) in every log from now on."""
    global _secrets
    if not value or len(value) < _MIN_SECRET:
        return
    with _secrets_lock:
        _secrets = _secrets | {value}


def clear_secrets() -> None:
    """For tests."""
    global _secrets
    with _secrets_lock:
        _secrets = frozenset()
