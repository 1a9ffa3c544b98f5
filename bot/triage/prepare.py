"""One call from collected facts to what the robot fills in: triage + calculation → the fields to fill and the
fields to leave for the caseworker."""

from __future__ import annotations

from dataclasses import dataclass

from bot.calc.calculate import Calculation, calculate
from bot.calc.errors import CalcInputError
from bot.calc.fields import ALL_FIELDS
from bot.calc.guidelines import Guidelines, load_guidelines
from bot.calc.norms import NormTables, load_norms
from bot.facts import CaseFacts
from bot.triage.changes import Previous, previous_figures
from bot.triage.engine import triage
from bot.triage.model import Outcome, TriageResult


@dataclass(frozen=True)
class Preparation:
    """`to_fill`: form field → whole kronor; for auto and partial every form field not in `left_empty`, with 0
    where nothing is declared or reported (so a stale value from an earlier save cannot survive; the sandbox's
    oracle expects the same); empty for manual. `left_empty`: the fields the caseworker must fill (all for manual).
    `calculation` is the robot's full proposal (also for partial and, where it can be computed, manual cases);
    None for a manual case whose facts cannot be calculated (e.g. an unknown income type)."""

    calculation: Calculation | None
    triage: TriageResult
    to_fill: dict[str, int]
    left_empty: tuple[str, ...]
    previous: Previous | None = None  # last month's decided figures, for the note

    @property
    def outcome(self) -> Outcome:
        return self.triage.outcome

def prepare(facts: CaseFacts, guidelines: Guidelines | None = None, norms: NormTables | None = None) -> Preparation:
    """Raises `NormTableMissing` (configuration) always, and a `CalcInputError` when the facts cannot be calculated
    although no manual rule fired (e.g. a barn aged 21): the run loop treats that as a case for a human."""
    guidelines = guidelines if guidelines is not None else load_guidelines()
    norms = norms if norms is not None else load_norms()
    result = triage(facts, guidelines, norms)
    try:
        calc: Calculation | None = calculate(facts, guidelines, norms, allow_missing_figures=True)
    except CalcInputError:
        if result.outcome != "manual":
            raise
        calc = None
    if result.outcome == "manual" or calc is None:
        to_fill: dict[str, int] = {}
    else:
        values = calc.values
        to_fill = {f: values.get(f, 0) for f in ALL_FIELDS if f not in result.empty_fields}
    return Preparation(calc, result, to_fill, result.empty_fields, previous_figures(facts))
