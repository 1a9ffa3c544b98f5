"""Riksnorm tables, one data file per year (`<year>.yaml`), chosen by the period's year.

A period whose year has no file is a `NormTableMissing` error, never last year's figures: the night stops
before its first case. Inside a table a figure may be `null`, meaning no source gives it (2025 has no amounts
at all; 2026 has eight). A household that needs such a figure is not a stop: the field that needs it is left
for the caseworker (NORM_FIGURE_MISSING), and the robot may show a *derived* figure as its unverified proposal:
last year's figure (or last year's derived one) plus the year's published uplift, rounded up to the next ten.
That rule reproduces every 2026 figure the sources give from the 2024 ones (shared/domain-research.md, § 7;
tests/calc/test_norm_tables.py), which is evidence, not proof, so a derived figure is never filled in.

The packaged tables live in `bot/calc/norms/`; an admin adds next year's table in the folder the config names
(`norms_dir`), checked first with `casebot norms check FILE` (bot/calc/norm_check.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.calc.errors import NormFileError, NormTableMissing
from bot.calc.money import format_num
from bot.facts import parse_month
from bot.yamlload import load_model

NORMS_DIR = Path(__file__).with_name("norms")

Kronor = Annotated[int, Field(strict=True, gt=0)]
MaybeKronor = Kronor | None  # None: no source gives the figure

# (file key, lowest age, highest age, Swedish label) — the age bands of the riksnorm.
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
STATUS_TEXT = {"official": "officiell", "municipal_copy": "kommunal kopia"}
DEFAULT_WHERE_TO_FIND = ("Socialstyrelsens sida om riksnormen för året, eller förordningen om ändring i "
                         "socialtjänstförordningen för året (SFS), eller ärendesystemets normkatalog")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRef(_Strict):
    title: str = Field(min_length=1)
    url: str = Field(min_length=1)
    # The figures this source gives (e.g. adults.single, common.1); empty: the whole table.
    covers: list[str] = Field(default_factory=list)


class _Adults(_Strict):
    single: MaybeKronor
    cohabiting_pair: MaybeKronor


class _Children(_Strict):
    under_1: MaybeKronor
    age_1_2: MaybeKronor
    age_3: MaybeKronor
    age_4_6: MaybeKronor
    age_7_10: MaybeKronor
    age_11_14: MaybeKronor
    age_15_18: MaybeKronor
    age_19_20: MaybeKronor


class _ChildrenWithoutLunch(_Strict):
    under_1: MaybeKronor
    age_1_2: MaybeKronor
    age_3: MaybeKronor
    age_4_6: MaybeKronor


class Headline(_Strict):
    """The totals the government publishes with the year's norm: personal + common costs."""

    single_total: MaybeKronor  # one adult: single + common.1
    cohabiting_total: MaybeKronor  # a couple: cohabiting_pair + common.2


class NormFile(_Strict):
    year: Annotated[int, Field(strict=True, ge=2000, le=2100)]
    status: Literal["official", "municipal_copy"]
    sources: list[SourceRef] = Field(min_length=1)
    note: str | None = None
    # The published uplift on last year's figures, e.g. 0.7; None where not published.
    uplift_percent: Annotated[Decimal, Field(gt=-50, lt=50)] | None = None
    headline: Headline | None = None
    where_to_find: str | None = None  # where a caseworker finds a figure this table lacks
    adults: _Adults
    children: _Children
    children_without_lunch: _ChildrenWithoutLunch | None  # null: none of the four figures is known
    common: dict[int, MaybeKronor]

    @field_validator("common")
    @classmethod
    def _sizes_one_to_seven(cls, value: dict[int, int | None]) -> dict[int, int | None]:
        expected = list(range(1, LARGEST_TABLED_HOUSEHOLD + 1))
        if sorted(value) != expected:
            raise ValueError(f"needs exactly the household sizes 1–7 (null where no source gives one), "
                             f"got {sorted(value)}")
        amounts = [a for a in (value[n] for n in expected) if a is not None]
        if amounts != sorted(amounts):
            raise ValueError("common costs must not fall as the household grows")
        return value

    def figures(self) -> dict[str, int | None]:
        """Every figure by key (`adults.single`, `children.age_3`, `common.4`, …), None where missing."""
        out: dict[str, int | None] = {f"adults.{k}": v for k, v in self.adults.model_dump().items()}
        out |= {f"children.{k}": v for k, v in self.children.model_dump().items()}
        lunch = self.children_without_lunch.model_dump() if self.children_without_lunch else {
            k: None for k in _ChildrenWithoutLunch.model_fields}
        out |= {f"children_without_lunch.{k}": v for k, v in lunch.items()}
        out |= {f"common.{k}": self.common[k] for k in sorted(self.common)}
        return out


def figure_label(key: str) -> str:
    """The Swedish name of a figure key, for notes and reasons."""
    group, _, part = key.partition(".")
    if group == "adults":
        return "ensamstående vuxen" if part == "single" else "sammanboende (paret)"
    if group in ("children", "children_without_lunch"):
        band = next(b for b in CHILD_BANDS if b[0] == part)
        return f"barn {band[3]}" + (" utan lunch 5 dagar/vecka" if group == "children_without_lunch" else "")
    if group == "common":
        return f"gemensamma hushållskostnader, {part} person" + ("" if part == "1" else "er")
    raise KeyError(key)


def round_up_to_ten(value: Decimal) -> int:
    return int((value / 10).to_integral_value(rounding=ROUND_CEILING)) * 10


@dataclass(frozen=True)
class Derived:
    """A figure the sources do not give, computed from last year's: a proposal to show, never to fill in."""

    amount: int
    text: str  # the working, e.g. "2024 2 940 × 1,028 → 3 030; × 1,007 → 3 060"


@dataclass(frozen=True)
class NormFigure:
    key: str  # e.g. children.age_4_6
    label: str  # Swedish, e.g. "barn 4–6 år"
    amount: int | None  # None: the table does not have it
    derived: Derived | None = None  # the robot's unverified proposal where amount is None

    @property
    def missing(self) -> bool:
        return self.amount is None

    @property
    def proposal(self) -> int | None:
        """The amount, or the derived proposal for a missing figure."""
        return self.amount if self.amount is not None else (self.derived.amount if self.derived else None)


@dataclass(frozen=True)
class NormTable:
    year: int
    status: str
    sources: tuple[SourceRef, ...]
    figures: dict[str, int | None]
    path: Path
    uplift_percent: Decimal | None = None
    headline: Headline | None = None
    where_to_find: str | None = None
    derived: dict[str, Derived] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        """'officiell' or 'kommunal kopia' (and 'ofullständig' when figures are missing): how far to trust it."""
        text = STATUS_TEXT.get(self.status, self.status)
        return f"{text}, ofullständig" if self.missing_keys else text

    @property
    def missing_keys(self) -> list[str]:
        return [k for k, v in self.figures.items() if v is None]

    @property
    def citation(self) -> str:
        return f"Riksnorm {self.year} ({self.origin}): " + "; ".join(f"{s.title} {s.url}" for s in self.sources)

    @property
    def where(self) -> str:
        return self.where_to_find or DEFAULT_WHERE_TO_FIND

    def figure(self, key: str) -> NormFigure:
        return NormFigure(key, figure_label(key), self.figures[key], self.derived.get(key))

    def adults(self, *, pair: bool) -> NormFigure:
        return self.figure("adults.cohabiting_pair" if pair else "adults.single")

    def child(self, age: int, *, without_lunch: bool = False) -> NormFigure:
        """The personal cost of a child of `age` (completed years at the period)."""
        band = next((b for b in CHILD_BANDS if b[1] <= age <= b[2]), None)
        if band is None:
            raise ValueError(f"no child norm band for age {age} (children are 0–{OLDEST_CHILD_AGE})")
        group = "children_without_lunch" if without_lunch and age <= LUNCH_MAX_AGE else "children"
        return self.figure(f"{group}.{band[0]}")

    def common_for(self, size: int) -> list[NormFigure]:
        """The figures household-common costs need: common(size) up to 7 persons, common(6) and common(7) above
        (each person over 7 adds the 6→7 difference)."""
        if size < 1:
            raise ValueError("a household has at least one person")
        if size <= LARGEST_TABLED_HOUSEHOLD:
            return [self.figure(f"common.{size}")]
        return [self.figure(f"common.{n}") for n in (LARGEST_TABLED_HOUSEHOLD - 1, LARGEST_TABLED_HOUSEHOLD)]


def common_amount(size: int, figures: list[int]) -> int:
    """Household-common costs from `common_for`'s figures (amounts or proposals)."""
    if size <= LARGEST_TABLED_HOUSEHOLD:
        return figures[0]
    six, seven = figures
    return seven + (size - LARGEST_TABLED_HOUSEHOLD) * (seven - six)


def _derive(tables: dict[int, NormTable]) -> dict[int, NormTable]:
    """Each table with derived proposals for its missing figures, year by year so a derivation can chain."""
    out: dict[int, NormTable] = {}
    for year in sorted(tables):
        table = tables[year]
        before = out.get(year - 1)
        derived: dict[str, Derived] = {}
        if before is not None and table.uplift_percent is not None:
            factor = 1 + table.uplift_percent / 100
            factor_text = f"{factor:f}".rstrip("0").replace(".", ",")
            for key in table.missing_keys:
                last = before.figures.get(key)
                last_text = f"{year - 1} {format_num(last)}" if last is not None else None
                if last is None and key in before.derived:
                    last, last_text = before.derived[key].amount, before.derived[key].text
                if last is None or last_text is None:
                    continue
                amount = round_up_to_ten(Decimal(last) * factor)
                derived[key] = Derived(amount, f"{last_text} × {factor_text} → {format_num(amount)}")
        out[year] = NormTable(table.year, table.status, table.sources, table.figures, table.path,
                              table.uplift_percent, table.headline, table.where_to_find, derived)
    return out


class NormTables:
    def __init__(self, tables: dict[int, NormTable]) -> None:
        self._tables = _derive(dict(sorted(tables.items())))

    @property
    def years(self) -> list[int]:
        return list(self._tables)

    def tables(self) -> list[NormTable]:
        return list(self._tables.values())

    def for_year(self, year: int, period: str | None = None) -> NormTable:
        try:
            return self._tables[year]
        except KeyError:
            raise NormTableMissing(period or str(year), year, self.years) from None

    def for_period(self, period: str) -> NormTable:
        year, _ = parse_month(period, "period")
        return self.for_year(year, period)

    def missing_for(self, periods: Iterable[str]) -> NormTableMissing | None:
        """The first period whose year has no table, as the error that stops the night; None if all have one."""
        for period in sorted(set(periods)):
            try:
                self.for_period(period)
            except NormTableMissing as exc:
                return exc
        return None


def read_norm_file(path: Path) -> NormFile:
    data = load_model(path, NormFile, error=NormFileError)
    if str(data.year) != path.stem:
        raise NormFileError(f"{path}:1: year: {data.year} does not match the file name {path.name}")
    return data


def table_from(data: NormFile, path: Path) -> NormTable:
    return NormTable(year=data.year, status=data.status, sources=tuple(data.sources), figures=data.figures(),
                     path=path, uplift_percent=data.uplift_percent, headline=data.headline,
                     where_to_find=data.where_to_find)


def load_norm_file(path: Path) -> NormTable:
    return table_from(read_norm_file(path), path)


def load_norms(folder: Path | None = None, *, extra: Path | None = None) -> NormTables:
    """All tables in `folder` (default: the packaged `bot/calc/norms/`), then those in `extra` (the admin's
    `norms_dir`), which add years and replace a packaged year's table."""
    if folder is None and extra is None:
        return _default_norms()
    tables: dict[int, NormTable] = {}
    for place in (folder or NORMS_DIR, extra):
        if place is None:
            continue
        if not place.is_dir():
            raise NormFileError(f"{place}: not a folder of norm tables")
        files = sorted(place.glob("*.yaml"))
        if not files and place != extra:
            raise NormFileError(f"{place}: no norm tables (<year>.yaml)")
        tables |= {t.year: t for t in (load_norm_file(f) for f in files)}
    return NormTables(tables)


@lru_cache(maxsize=1)
def _default_norms() -> NormTables:
    return NormTables({t.year: t for t in (load_norm_file(f) for f in sorted(NORMS_DIR.glob("*.yaml")))})


def status_of(table: NormTable) -> Literal["official", "municipal copy", "partial"]:
    """What `casebot norms list` shows: partial when any figure is missing, else the source kind."""
    if table.missing_keys:
        return "partial"
    return "official" if table.status == "official" else "municipal copy"
