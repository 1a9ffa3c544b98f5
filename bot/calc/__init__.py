"""The monthly calculation, pure: norm + reasonable costs − counted incomes, every line with its rule and sources.

`bot.calc.prepare.prepare` combines it with the triage; import it from there (this package does not import it,
so `bot.triage` can use the calculation's pieces without a cycle).
"""

from __future__ import annotations

from bot.calc.calculate import Calculation, Line, MissingFigure, calculate
from bot.calc.errors import (
                             AgencyAnswerMissing,
                             CalcError,
                             CalcInputError,
                             DataFileError,
                             GuidelineFigureMissing,
                             GuidelinesError,
                             NormFigureMissing,
                             NormFileError,
                             NormTableMissing,
                             UnknownIncomeType,
)
from bot.calc.guidelines import Guidelines, load_guidelines
from bot.calc.money import round_kr
from bot.calc.norms import NormTable, NormTables, load_norms

__all__ = [
    "AgencyAnswerMissing", "CalcError", "CalcInputError", "Calculation", "DataFileError", "GuidelineFigureMissing",
    "Guidelines", "GuidelinesError", "Line", "MissingFigure", "NormFigureMissing", "NormFileError", "NormTable",
    "NormTableMissing", "NormTables", "UnknownIncomeType", "calculate", "load_guidelines", "load_norms", "round_kr",
]
