from __future__ import annotations

import asyncio
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.masking import (
    current_names,
    exception_names,
    mask_name,
    mask_pnrs_in,
    mask_text,
    mask_value,
    masked_names,
    register_secret,
)


def luhn_digit(nine: str) -> str:
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


@pytest.mark.parametrize(("text", "expected"), [
    ("198501011234", "19850101-XXXX"),
    ("19850101-1234", "19850101-XXXX"),
    ("850101-1234", "850101-XXXX"),
    ("850101+1234", "850101+XXXX"),
    ("8501011234", "850101-XXXX"),
    ("880209-T050", "880209-XXXX"),
    ("19880209T050", "19880209-XXXX"),
    ("198501611234", "19850161-XXXX"),  # samordningsnummer: day + 60
    ("pnr=198501011234,", "pnr=19850101-XXXX,"),
    ("(850101-1234)", "(850101-XXXX)"),
])
def test_personnummer_forms_are_masked_keeping_the_date(text: str, expected: str) -> None:
    assert mask_pnrs_in(text) == expected


@pytest.mark.parametrize("text", [
    "EB-2024-00001",            # case id
    "12 345 kr", "1 234,50",    # amounts
    "2024-12-31",               # a date alone
    "20241124-023000-ab12",     # a run id: the tail is longer than four digits
    "12345678901234",           # a longer number
    "1732440000",               # month 32: not date-shaped
    "851301-1234",              # month 13
    "850100-1234",              # day 00
])
def test_numbers_that_are_not_personnummer_are_left_alone(text: str) -> None:
    assert mask_pnrs_in(text) == text


def test_a_personnummer_with_a_wrong_check_digit_is_still_masked() -> None:
    # Documented decision: a mistyped pnr is personal data too.
    nine = "850101123"
    wrong = str((int(luhn_digit(nine)) + 1) % 10)
    assert mask_pnrs_in(nine[:6] + "-" + nine[6:] + wrong) == "850101-XXXX"


@st.composite
def personnummer(draw: st.DrawFn) -> tuple[str, str]:
    year = draw(st.integers(1900, 2024))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28)) + draw(st.sampled_from([0, 60]))
    serial = f"{draw(st.integers(0, 999)):03d}"
    short = f"{year % 100:02d}{month:02d}{day:02d}"
    digits = short + serial + luhn_digit(short + serial)
    form = draw(st.sampled_from(["12", "12-", "10", "10-", "10+"]))
    century = f"{year // 100}"
    text = {"12": century + digits, "12-": f"{century}{digits[:6]}-{digits[6:]}", "10": digits,
            "10-": f"{digits[:6]}-{digits[6:]}", "10+": f"{digits[:6]}+{digits[6:]}"}[form]
    date = (century + short) if form.startswith("12") else short
    return text, date


@given(personnummer(), st.text(alphabet=st.characters(blacklist_categories=["Nd"]), max_size=20))
def test_every_valid_personnummer_is_masked_wherever_it_appears(pnr: tuple[str, str], around: str) -> None:
    text, date = pnr
    masked = mask_pnrs_in(f"{around} {text} {around}")
    assert text not in masked
    assert re.search(rf"{date}[-+]XXXX", masked)


@given(st.text(alphabet=st.characters(blacklist_categories=["Nd"])))
def test_text_without_digits_is_unchanged(text: str) -> None:
    assert mask_pnrs_in(text) == text


def test_names_are_masked_whole_word_in_any_case_within_the_block() -> None:
    with masked_names(["Anna-Karin Svensson"]):
        assert mask_text("ANNA-KARIN svensson") == "A*** s***"
        assert mask_text("Svenssons hyra, Karin ringde") == "S*** hyra, K*** ringde"
        assert mask_text("Svenssonska gatan") == "Svenssonska gatan"  # part of another word
    assert mask_text("Anna-Karin Svensson") == "Anna-Karin Svensson"
    assert current_names() == ()


def test_nested_name_blocks_add_up_and_unwind() -> None:
    with masked_names(["Anna"]):
        with masked_names(["Bertil"]):
            assert mask_text("Anna och Bertil") == "A*** och B***"
        assert mask_text("Anna och Bertil") == "A*** och Bertil"


def test_single_letters_are_not_treated_as_names() -> None:
    with masked_names(["A Svensson"]):
        assert mask_text("a b A") == "a b A"


def test_names_leaving_a_block_inside_an_exception_travel_with_it() -> None:
    with pytest.raises(ValueError) as caught, masked_names(["Svensson"]):
        raise ValueError("Svensson")
    assert exception_names(caught.value) == ("Svensson",)


async def test_parallel_tasks_mask_only_their_own_names() -> None:
    async def worker(name: str) -> str:
        with masked_names([name]):
            await asyncio.sleep(0.01)
            return mask_text("Anna Bertil")

    assert await asyncio.gather(worker("Anna"), worker("Bertil")) == ["A*** Bertil", "Anna B***"]


def test_registered_secrets_are_masked_everywhere() -> None:
    register_secret("s3cret-pass")
    register_secret("ab")  # too short to mask safely: ignored
    assert mask_text("login with s3cret-pass ab") == "login with *** ab"


def test_mask_value_walks_plain_data() -> None:
    with masked_names(["Svensson"]):
        value = {"pnr": 198501011234, "people": ["Svensson", ("8501011234",)], "n": 3, "ok": True, "x": None}
        assert mask_value(value) == {"pnr": "19850101-XXXX", "people": ["S***", ["850101-XXXX"]], "n": 3,
                                     "ok": True, "x": None}

        class Thing:
            def __str__(self) -> str:
                return "Svensson 850101-1234"

        assert mask_value(Thing()) == "S*** 850101-XXXX"


def test_mask_name() -> None:
    assert mask_name("Östen") == "Ö***"
    assert mask_name("") == ""
