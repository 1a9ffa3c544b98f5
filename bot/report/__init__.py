"""Reports built from the state store. `build_morning_report` writes the caseworkers' morning .xlsx."""

from __future__ import annotations

from bot.report.morning import OUTCOME_LABELS, SHEETS, RunNotFound, build_morning_report

__all__ = ["OUTCOME_LABELS", "SHEETS", "RunNotFound", "build_morning_report"]
