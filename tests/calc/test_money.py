from __future__ import annotations

from decimal import Decimal

import pytest

from bot.calc.money import format_kr, parse_kr, percent_of, round_kr, share


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("342"), 342), (Decimal("0.5"), 1), (Decimal("2.5"), 3), (Decimal("447.5"), 448),
    (Decimal("1146.6666"), 1147), (Decimal("1146.4999"), 1146), (Decimal("2500.5"), 2501), (7, 7),
])
def test_round_half_up_to_whole_kronor(value, expected) -> None:
    assert round_kr(value) == expected


def test_float_is_refused() -> None:
    with pytest.raises(TypeError, match="never float"):
        round_kr(2.5)  # type: ignore[arg-type]


def test_share_rounds_once() -> None:
    assert share(1710, 1, 5) == 342          # Socialstyrelsen's example
    assert share(1720, 2, 3) == 1147         # 1 146,67
    assert share(1790, 1, 4) == 448          # 447,50 → half up


def test_percent_of() -> None:
    assert percent_of(10002, 25) == 2501     # 2 500,50
    assert percent_of(10001, 25) == 2500     # 2 500,25
    assert percent_of(1000, Decimal("12.5")) == 125


def test_portal_formats() -> None:
    assert parse_kr("12 345 kr") == 12345
    assert parse_kr("1 234,50") == 1235
    assert parse_kr("1\u00a0234,49 kr") == 1234
    assert format_kr(12345) == "12 345 kr"
    with pytest.raises(ValueError, match="not an amount"):
        parse_kr("tolv kronor")


@pytest.mark.parametrize(("text", "expected"), [
    ("1 234,50 kr", 1235), ("−500", -500), ("-1 200", -1200), ("12\u202f345", 12345), ("3 564,00", 3564),
    ("12 345:-", 12345), ("0", 0), ("1,5", 2), ("  42 kr ", 42),
])
def test_amounts_as_portals_print_them(text: str, expected: int) -> None:
    assert parse_kr(text) == expected


@pytest.mark.parametrize("text", [
    "", " ", "1.234", "1,234", "1e5", "NaN", "Infinity", "4 5OO", "ca 4 500", "12  345", "1 2345", "--5",
    "1 234,5 kr kr", "٣٤٥", "１２３", "12 345 SEK", "=1+1",
])
def test_anything_else_is_not_an_amount(text: str) -> None:
    # Never a guess and never 0: the caller turns this into a case for a human.
    with pytest.raises(ValueError, match="not an amount"):
        parse_kr(text)


def test_a_huge_field_is_quoted_short() -> None:
    with pytest.raises(ValueError) as caught:
        parse_kr("9" * 5000 + "x" * 5000)
    assert len(str(caught.value)) < 120 and "10000 characters" in str(caught.value)
