"""Riksnorm tables, one data file per year (`bot/calc/norms/<year>.yaml`), chosen by the period's year.

A period whose year has no file is a `NormTableMissing` error, never last year's figures. A table may lack a
figure (the "utan lunch" child figures were not found for 2022–2024): asking for it raises `NormFigureMissing`,
which the triage reports as NORM_FIGURE_MISSING.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.calc.errors import NormFigureMissing, NormFileError, NormTableMissing
from bot.facts import parse_month
from bot.yamlload import load_model

NORMS_DIR = Path(__file__).with_name("norms")

Kronor = Annotated[int, Field(strict=True, gt=0)]

# (file key, lowest age, highest age, Swedish label) — the age bands of 2 kap. 1 § socialtjänstförordningen.
CHILD_BANDS: tuple[tuple[str, int, int, str], ...] = (
    ("under_1", 0, 0, "under 1 år"),
    ("age_1_2", 1, 2, "1–2 år"),
    ("age_3", 3, 3, "3 år"),
    ("age_4_6", 4, 6, "4–6 år"),
    ("age_7_10", 7, 10, "7–10 år"),
    ("age_11_14", 11, 14, "11–14 år"),
    ("age_15_18", 15, 18, "15–18 år"),
    ("age_19_20", 19, 20, "19–20 år"),
)
OLDEST_CHILD_AGE = 20
# Only ages 0–6 have a lower figure for a child who eats lunch at preschool five days a week.
LUNCH_MAX_AGE = 6
LARGEST_TABLED_HOUSEHOLD = 7


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRef(_Strict):
    title: str = Field(min_length=1)
    url: str = Field(min_length=1)


class _Adults(_Strict):
    single: Kronor
    cohabiting_pair: Kronor


class _Children(_Strict):
    under_1: Kronor
    age_1_2: Kronor
    age_3: Kronor
    age_4_6: Kronor
    age_7_10: Kronor
    age_11_14: Kronor
    age_15_18: Kronor
    age_19_20: Kronor


class _ChildrenWithoutLunch(_Strict):
    under_1: Kronor
    age_1_2: Kronor
    age_3: Kronor
    age_4_6: Kronor


class NormFile(_Strict):
    year: Annotated[int, Field(strict=True, ge=2000, le=2100)]
    status: Literal["primary", "municipal_copy"]
    sources: list[SourceRef] = Field(min_length=1)
    note: str | None = None
    adults: _Adults
    children: _Children
    children_without_lunch: _ChildrenWithoutLunch | None = None
    common: dict[int, Kronor]

    @field_validator("common")
    @classmethod
    def _sizes_one_to_seven(cls, value: dict[int, int]) -> dict[int, int]:
        expected = list(range(1, LARGEST_TABLED_HOUSEHOLD + 1))
        if sorted(value) != expected:
            raise ValueError(f"needs exactly the household sizes 1–7, got {sorted(value)}")
        amounts = [value[n] for n in expected]
        if amounts != sorted(amounts):
            raise ValueError("common costs must not fall as the household grows")
        return value


@dataclass(frozen=True)
class NormFigure:
    key: str
    label: str  # Swedish, e.g. "barn 4–6 år utan lunch"
    amount: int


@dataclass(frozen=True)
class NormTable:
    year: int
    status: str
    sources: tuple[SourceRef, ...]
    single: int
    pair: int
    children: dict[str, int]
    without_lunch: dict[str, int] | None
    common: dict[int, int]
    path: Path

    @property
    def origin(self) -> str:
        """'primärkälla' or 'kommunal kopia': how far to trust the figures."""
        return "primärkälla" if self.status == "primary" else "kommunal kopia"

    @property
    def citation(self) -> str:
        return f"Riksnorm {self.year} ({self.origin}): " + "; ".join(f"{s.title} {s.url}" for s in self.sources)

    def child(self, age: int, *, without_lunch: bool = False) -> NormFigure:
        """The personal cost of a child of `age` (completed years at the period)."""
        band = next((b for b in CHILD_BANDS if b[1] <= age <= b[2]), None)
        if band is None:
            raise ValueError(f"no child norm band for age {age} (children are 0–{OLDEST_CHILD_AGE})")
        key, label = band[0], band[3]
        if without_lunch and age <= LUNCH_MAX_AGE:
            if self.without_lunch is None:
                raise NormFigureMissing(self.year, f"children_without_lunch.{key}",
                                        f"barn {label} utan lunch 5 dagar/vecka")
            return NormFigure(key, f"barn {label} utan lunch", self.without_lunch[key])
        return NormFigure(key, f"barn {label}", self.children[key])

    def common_for(self, size: int) -> int:
        """Household-common costs; over 7 persons add the 6→7 difference per extra person (contract)."""
        if size < 1:
            raise ValueError("a household has at least one person")
        if size <= LARGEST_TABLED_HOUSEHOLD:
            return self.common[size]
        step = self.common[LARGEST_TABLED_HOUSEHOLD] - self.common[LARGEST_TABLED_HOUSEHOLD - 1]
        return self.common[LARGEST_TABLED_HOUSEHOLD] + (size - LARGEST_TABLED_HOUSEHOLD) * step

    def over_seven_step(self) -> int:
        return self.common[LARGEST_TABLED_HOUSEHOLD] - self.common[LARGEST_TABLED_HOUSEHOLD - 1]


class NormTables:
    def __init__(self, tables: dict[int, NormTable]) -> None:
        self._tables = dict(sorted(tables.items()))

    @property
    def years(self) -> list[int]:
        return list(self._tables)

    def for_year(self, year: int, period: str | None = None) -> NormTable:
        try:
            return self._tables[year]
        except KeyError:
            raise NormTableMissing(period or str(year), year, self.years) from None

    def for_period(self, period: str) -> NormTable:
        year, _ = parse_month(period, "period")
        return self.for_year(year, period)


def load_norm_file(path: Path) -> NormTable:
    data = load_model(path, NormFile, error=NormFileError)
    if str(data.year) != path.stem:
        raise NormFileError(f"{path}:1: year: {data.year} does not match the file name {path.name}")
    return NormTable(
        year=data.year, status=data.status, sources=tuple(data.sources),
        single=data.adults.single, pair=data.adults.cohabiting_pair,
        children=data.children.model_dump(),
        without_lunch=data.children_without_lunch.model_dump() if data.children_without_lunch else None,
        common=dict(data.common), path=path)


def load_norms(folder: Path | None = None) -> NormTables:
    """All tables in `folder` (default: the packaged `bot/calc/norms/`)."""
    if folder is None:
        return _default_norms()
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise NormFileError(f"{folder}: no norm tables (<year>.yaml)")
    tables = [load_norm_file(f) for f in files]
    return NormTables({t.year: t for t in tables})


@lru_cache(maxsize=1)
def _default_norms() -> NormTables:
    return load_norms(NORMS_DIR)
