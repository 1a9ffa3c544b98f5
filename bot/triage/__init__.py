"""Which cases a human must see, and which form fields to leave for them. Pure: no browser, no I/O."""

from __future__ import annotations

from bot.triage.engine import triage
from bot.triage.model import Outcome, Reason, TriageResult
from bot.triage.prepare import Preparation, prepare
from bot.triage.rules import RULES

__all__ = ["RULES", "Outcome", "Preparation", "Reason", "TriageResult", "prepare", "triage"]
