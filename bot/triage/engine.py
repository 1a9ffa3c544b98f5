"""Run every triage rule and combine what they say."""

from __future__ import annotations

from bot.calc.guidelines import Guidelines, load_guidelines
from bot.calc.norms import NormTables, load_norms
from bot.facts import CaseFacts
from bot.triage.changes import changes
from bot.triage.model import TriageResult, combine
from bot.triage.rules import RULES

# The triage table's rules, then the changes against last month's decision (docs/contract.md, in that order).
ALL_RULES = (*RULES, changes)


def triage(facts: CaseFacts, guidelines: Guidelines | None = None, norms: NormTables | None = None) -> TriageResult:
    """auto (fill everything), partial (leave `empty_fields` empty) or manual (fill nothing), with every reason.

    Raises `NormTableMissing` when the period has no norm table: a configuration gap, not a case to triage.
    """
    guidelines = guidelines if guidelines is not None else load_guidelines()
    norms = norms if norms is not None else load_norms()
    return combine(reason for rule in ALL_RULES for reason in rule(facts, guidelines, norms))
