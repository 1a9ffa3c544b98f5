"""The journal note: what a caseworker reads, within what the case system takes (4 000 characters)."""

from __future__ import annotations

from bot.note import (
    NOTE_MAX_CHARS,
    NoteLine,
    NoteReason,
    compose_note,
    note_from_preparation,
    note_marker,
    sent_length,
)
from bot.triage.prepare import prepare
from tests.calc.builders import build

LONG_SOURCE = "riksnorm: 2026 (kommunal kopia): " + "en mycket lång källtitel " * 10 + "https://example.org/x"


def test_a_large_household_with_missing_figures_fits_the_case_system() -> None:
    # 2 adults, children 0, 2, 4, 5, 16 and 19 in 2026: most figures missing, many lines, long sources.
    kids = {f"K{i}": ("barn", birth) for i, birth in enumerate(
        ("2026-06-01", "2024-03-01", "2022-03-01", "2021-03-01", "2010-03-01", "2007-03-01"))}
    facts = build("2026-12", {"A": ("sokande", "1980-05-05"), "B": ("medsokande", "1982-01-01"), **kids},
                  costs={"boende": 9000, "hushallsel": 600, "hemforsakring": 200, "barnomsorg": 300},
                  incomes=(("A", "lon", 5000), ("B", "a_kassa", 4000), ("A", "barnbidrag", 9000)),
                  fk=(("A", "barnbidrag", 9000),), bistand_sedan="2026-02")
    note = note_from_preparation("EB-2026-00001", "2026-12", prepare(facts), "natt 2026-12-05")
    assert sent_length(note) <= NOTE_MAX_CHARS
    assert "[NORM_FIGURE_MISSING]" in note and note.endswith(note_marker("EB-2026-00001", "2026-12"))


def test_a_note_too_long_loses_source_detail_first_then_rule_detail_never_the_reasons() -> None:
    reasons = [NoteReason("NORM_FIGURE_MISSING", "Uppgift saknas i Riksnorm 2026: barn 4–6 år")]
    lines = [NoteLine(f"Fält {i}", 100 * i, "regel " * 30, (LONG_SOURCE,)) for i in range(14)]
    full = compose_note("EB-1", "2026-12", "partial", lines, reasons, None, "test", max_chars=100_000)
    assert len(full) > NOTE_MAX_CHARS and "en mycket lång källtitel" in full
    short = compose_note("EB-1", "2026-12", "partial", lines, reasons, None, "test")
    assert sent_length(short) <= NOTE_MAX_CHARS
    assert "Uppgift saknas i Riksnorm 2026: barn 4–6 år [NORM_FIGURE_MISSING]" in short
    assert "en mycket lång källtitel" not in short and "Källa: riksnorm" in short
    assert "Fält 13: 1 300 kr." in short and short.endswith(note_marker("EB-1", "2026-12"))


def test_the_limit_counts_line_breaks_as_the_browser_sends_them() -> None:
    # Found by a night on seed 19: a 3 9xx-character note of many lines arrived at the case system as more than
    # 4 000 (a text area's line breaks are sent as CR LF) and was refused at the last step.
    assert sent_length("a\nb") == 4
    reasons = [NoteReason("INCOME_CHANGED", "Inkomsten har ändrats sedan förra beslutet") for _ in range(3)]
    lines = [NoteLine(f"Fält {i}", i, "regel", ("källa",)) for i in range(300)]
    full = compose_note("EB-1", "2026-12", "partial", lines, reasons, None, "test", max_chars=100_000)
    assert full.count("\n") > 300
    note = compose_note("EB-1", "2026-12", "partial", lines, reasons, None, "test")
    assert len(note) < sent_length(note) <= NOTE_MAX_CHARS
    assert sent_length(note) > NOTE_MAX_CHARS - 10  # cut to the limit, not far below it
    assert note.endswith(note_marker("EB-1", "2026-12"))
