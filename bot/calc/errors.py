"""Errors of the calculation. Each names the field or the data file entry that is wrong, so whoever reads the
message (a developer, an admin, the morning report) knows where to look."""

from __future__ import annotations


class CalcError(ValueError):
    """Base: `field` names what is wrong (a facts path like `incomes[1].type`, or `period`)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class CalcInputError(CalcError):
    """The case's facts cannot be calculated as they are (a caseworker must look)."""


class UnknownIncomeType(CalcInputError):
    pass


class AgencyAnswerMissing(CalcInputError):
    pass


class NormTableMissing(CalcError):
    """No norm table for the period's year: an admin adds `<year>.yaml` (runbook NORM_TABLE_MISSING). Never a silent
    fallback to last year's figures."""

    def __init__(self, period: str, year: int, available: list[int]) -> None:
        self.period = period
        self.year = year
        have = ", ".join(str(y) for y in available) or "none"
        super().__init__("period", f"no riksnorm table for {year} (period {period}); tables exist for {have}: "
                                   f"add {year}.yaml with its sources to the norms folder (norms_dir in the config), "
                                   f"checked first with `casebot norms check {year}.yaml`")


class NormFigureMissing(CalcError):
    """The year's table lacks a figure the household needs (e.g. 'utan lunch' for 2022–2024)."""

    def __init__(self, year: int, figure: str, figure_sv: str) -> None:
        self.year = year
        self.figure = figure
        self.figure_sv = figure_sv
        super().__init__(f"norms.{year}.{figure}", f"the {year} riksnorm table has no figure for {figure_sv}")


class GuidelineFigureMissing(CalcError):
    """The local guidelines lack a figure this case needs (e.g. the prisbasbelopp for the year)."""


class DataFileError(ValueError):
    """A norm or guidelines file is malformed: the message carries the file, the line and the field."""


class NormFileError(DataFileError):
    pass


class GuidelinesError(DataFileError):
    pass
