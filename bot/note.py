"""The journal note a caseworker reads: every figure, where it came from, and why the case was or was not
fully prepared. Pure text, so it is tested without a browser and reads the same in every channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

NOTE_MARKER_PREFIX = "casebot-ref:"

OUTCOME_TEXT = {
    "auto": "Fullständigt förberedd – alla fält ifyllda",
    "partial": "Delvis förberedd – vissa fält lämnade tomma för handläggare",
    "manual": "Manuell handläggning – roboten har inte fyllt i beräkningen",
}


@dataclass(frozen=True)
class NoteLine:
    label: str
    amount: int | None  # None: left empty for the caseworker
    rule: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class NoteReason:
    code: str
    text: str
    warning: bool = False  # a change to see that does not stop the case from being Klar för signering


def note_marker(case_id: str, period: str) -> str:
    """A line that identifies the robot's note for this case and period, so it is never written twice."""
    return f"{NOTE_MARKER_PREFIX}{case_id}:{period}"


def _kr(amount: int) -> str:
    return f"{amount:,}".replace(",", " ") + " kr"


# The legacy case system refuses a journal note over 4 000 characters (the sandbox mimics it): a note that does
# not fit would stop the case at its last step, so a long one is shortened, the reasons kept whole.
NOTE_MAX_CHARS = 4000
SHORT_RULE_CHARS = 160


def sent_length(text: str) -> int:
    """The note's length as the case system counts it: a browser sends a text area's line breaks as CR LF, two
    characters each (HTML's form submission rules), so a note of 4 000 characters with 40 lines arrives as 4 040."""
    return len(text) + text.count("\n")


def compose_note(case_id: str, period: str, outcome: str, lines: Sequence[NoteLine],
                 reasons: Sequence[NoteReason], totals: dict[str, int] | None, run_label: str,
                 max_chars: int = NOTE_MAX_CHARS) -> str:
    """The note; when it is longer than the case system takes, first the sources lose their titles and addresses
    (the morning report and the run log keep them), then each line's rule is cut short."""
    note = _compose(case_id, period, outcome, lines, reasons, totals, run_label)
    if sent_length(note) <= max_chars:
        return note
    lines = [NoteLine(ln.label, ln.amount, ln.rule, tuple(dict.fromkeys(s.split(":")[0] for s in ln.sources)))
             for ln in lines]
    note = _compose(case_id, period, outcome, lines, reasons, totals, run_label)
    if sent_length(note) <= max_chars:
        return note
    lines = [NoteLine(ln.label, ln.amount, _cut(ln.rule, SHORT_RULE_CHARS), ln.sources) for ln in lines]
    note = _compose(case_id, period, outcome, lines, reasons, totals, run_label)
    if sent_length(note) <= max_chars:
        return note
    tail = "…\n" + note_marker(case_id, period)
    end = max_chars - sent_length(tail)
    while sent_length(note[:end]) > max_chars - sent_length(tail):
        end -= 1
    return note[:end] + tail


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _compose(case_id: str, period: str, outcome: str, lines: Sequence[NoteLine],
             reasons: Sequence[NoteReason], totals: dict[str, int] | None, run_label: str) -> str:
    parts = [f"Förberett av casebot ({run_label}) för period {period}.",
             f"Utfall: {OUTCOME_TEXT[outcome]}."]
    needs = [r for r in reasons if not r.warning]
    warnings = [r for r in reasons if r.warning]
    if needs:
        parts.append("Skäl till att en handläggare behöver titta:")
        parts.extend(f"  - {r.text} [{r.code}]" for r in needs)
    if warnings:
        parts.append("Att observera (ändringar mot förra beslutet):")
        parts.extend(f"  - {r.text} [{r.code}]" for r in warnings)
    if lines:
        parts.append("Belopp och källor:")
        for line in lines:
            shown = _kr(line.amount) if line.amount is not None else "lämnat tomt"
            source = "; ".join(line.sources) if line.sources else "–"
            parts.append(f"  - {line.label}: {shown}. {line.rule}. Källa: {source}")
    if totals:
        parts.append(
            "Summa norm {}, kostnader {}, inkomster {}; att betala enligt beräkningen {}.".format(
                _kr(totals["summa_norm"]), _kr(totals["summa_kostnader"]), _kr(totals["summa_inkomster"]),
                _kr(totals["att_betala"])))
    parts.append("Roboten har varken signerat eller avslagit något; beslutet fattas av handläggaren.")
    parts.append(note_marker(case_id, period))
    return "\n".join(parts)


def _beside_last_month(previous: Any, field: str, amount: int | None) -> str:
    """'; förra beslutet (2026-11): 5 000 kr' where this month's row differs from last month's decided one."""
    if previous is None or amount is None:
        return ""
    before = previous.amounts.get(field, 0)
    return "" if before == amount else f"; förra beslutet ({previous.month}): {_kr(before)}"


def note_from_preparation(case_id: str, period: str, preparation: Any, run_label: str) -> str:
    """The note for a prepared case: every calculation line (left-empty ones marked), the triage reasons and,
    for a fully prepared case, the totals. `preparation` is a `bot.triage.prepare.Preparation`."""
    calc = preparation.calculation
    left_empty = set(preparation.left_empty)
    lines = []
    if calc is not None:
        for line in calc.lines:
            shown = None if line.field in left_empty else line.amount
            if shown is not None or line.amount is None:
                rule = line.rule
            elif calc.missing_for(line.field):
                rule = f"Robotens förslag {_kr(line.amount)} (ej ifyllt, ej verifierat): {line.rule}"
            else:
                rule = f"Robotens förslag {_kr(line.amount)}: {line.rule}"
            rule += _beside_last_month(preparation.previous, line.field, line.amount)
            lines.append(NoteLine(line.label, shown, rule, tuple(str(s) for s in line.sources)))
    reasons = [NoteReason(r.code, r.text_sv, r.outcome == "auto") for r in preparation.triage.reasons]
    totals = calc.totals if calc is not None and preparation.outcome == "auto" else None
    return compose_note(case_id, period, preparation.outcome, lines, reasons, totals, run_label)
