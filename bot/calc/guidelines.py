"""The municipality's local guidelines: rent caps, which costs and incomes count, exemptions and the triage
thresholds. Data, not code (`bot/calc/guidelines.yaml` holds the sandbox municipality's defaults); a malformed
file fails at load with `file:line: field: problem`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.calc.errors import GuidelineFigureMissing, GuidelinesError
from bot.calc.fields import COST_FIELDS, INCOME_FIELDS
from bot.calc.norms import SourceRef
from bot.yamlload import load_model

DEFAULT_PATH = Path(__file__).with_name("guidelines.yaml")

Kronor = Annotated[int, Field(strict=True, gt=0)]
Count = Annotated[int, Field(strict=True, ge=0)]
# A month, YYYY-MM; quoted or not (YAML reads 2026-01 as text).
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
_RANGE = re.compile(r"^\s*(\d+)\s*(?:(-|–)\s*(\d+)|(\+))?\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse_range(text: str | int) -> tuple[int, int | None]:
    """'1' → (1, 1); '1-2' → (1, 2); '5+' → (5, None)."""
    m = _RANGE.match(str(text))
    if not m:
        raise ValueError(f"expected a count like 1, 1-2 or 5+, got {text!r}")
    low = int(m.group(1))
    if m.group(4):
        return low, None
    high = int(m.group(3)) if m.group(3) else low
    if high < low:
        raise ValueError(f"range {text!r} runs backwards")
    return low, high


def _overlap(a: tuple[int, int | None], b: tuple[int, int | None]) -> bool:
    a_hi = a[1] if a[1] is not None else 10**6
    b_hi = b[1] if b[1] is not None else 10**6
    return a[0] <= b_hi and b[0] <= a_hi


def describe_household(adults: int, children: int) -> str:
    grown = "1 vuxen" if adults == 1 else f"{adults} vuxna"
    if children == 0:
        return f"{grown} utan barn"
    return f"{grown} och {children} barn"


def _inside(value: int, rng: tuple[int, int | None]) -> bool:
    return value >= rng[0] and (rng[1] is None or value <= rng[1])


class RentCapRow(_Strict):
    """Highest reasonable housing cost for `adults` adults and `children` children ('1', '1-2', '5+'), and where
    the municipality's rule depends on it, the sokande's age at the period's end (`applicant_age`, '0-28')."""

    adults: str | int
    children: str | int
    applicant_age: str | int = "0+"
    amount: Kronor

    @field_validator("adults", "children", "applicant_age")
    @classmethod
    def _range(cls, value: str | int) -> str:
        _parse_range(value)
        return str(value)

    def matches(self, adults: int, children: int, applicant_age: int) -> bool:
        return (_inside(adults, _parse_range(self.adults)) and _inside(children, _parse_range(self.children))
                and _inside(applicant_age, _parse_range(self.applicant_age)))

    def overlaps(self, other: RentCapRow) -> bool:
        return all(_overlap(_parse_range(getattr(self, k)), _parse_range(getattr(other, k)))
                   for k in ("adults", "children", "applicant_age"))


class RentCaps(_Strict):
    """One municipality's rent caps, in force from `valid_from` to `valid_to` (months, both included; no end:
    until further notice)."""

    name: str = Field(min_length=1)  # short, for rule texts: "Högsby kommun 2023"
    valid_from: Month
    valid_to: Month | None = None
    source: SourceRef
    rows: list[RentCapRow] = Field(min_length=1)

    @field_validator("rows")
    @classmethod
    def _no_overlap(cls, rows: list[RentCapRow]) -> list[RentCapRow]:
        for i, a in enumerate(rows):
            for j in range(i):
                b = rows[j]
                if a.overlaps(b):
                    raise ValueError(f"row {i} (adults {a.adults}, children {a.children}, applicant_age "
                                     f"{a.applicant_age}) overlaps row {j} (adults {b.adults}, children "
                                     f"{b.children}, applicant_age {b.applicant_age})")
        return rows

    @model_validator(mode="after")
    def _dates_in_order(self) -> RentCaps:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        return self

    def in_force(self, period: str) -> bool:
        return self.valid_from <= period and (self.valid_to is None or period <= self.valid_to)

    @property
    def validity(self) -> str:
        return f"{self.valid_from} – {self.valid_to or 'tills vidare'}"


class CostRule(_Strict):
    counts: bool = True


class IncomeType(_Strict):
    """A declared income type the rules know. `earned`: income from work (jobbstimulans; a child's exemption).
    `reported_by`: the agency whose figure is used; `reported_as`: its benefit keys (FK, default the type key)
    or payment kinds (CSN, default every kind)."""

    label: str = Field(min_length=1)
    counts: bool = True
    form_field: str | None = None
    earned: bool = False
    reported_by: Literal["fk", "csn"] | None = None
    reported_as: list[str] | None = None

    @field_validator("form_field")
    @classmethod
    def _known_field(cls, value: str | None) -> str | None:
        if value is not None and value not in INCOME_FIELDS:
            raise ValueError(f"{value!r} is not an income form field ({', '.join(INCOME_FIELDS)})")
        return value


class Jobbstimulans(_Strict):
    """SoL 4:1 b: after `qualifying_months` in a row, `percent` of earned income is exempt for `months` months."""

    percent: Annotated[Decimal, Field(gt=0, le=100)]
    qualifying_months: Annotated[int, Field(strict=True, ge=0)]
    months: Annotated[int, Field(strict=True, gt=0)]
    sources: list[SourceRef] = Field(min_length=1)

    def applies(self, months_on_assistance: int) -> bool:
        first = self.qualifying_months
        return first <= months_on_assistance <= first + self.months - 1


class Prisbasbelopp(_Strict):
    amounts: dict[int, Kronor]
    sources: list[SourceRef] = Field(min_length=1)


class ChangeRules(_Strict):
    """This month against last month's decision (docs/contract.md, "Changes against last month's decision")."""

    # An income that moved by more than this share of last month's is INCOME_CHANGED (Lifecare warns at 12 %).
    income_change_percent: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(12)
    # A rent rise over last month's approved rent above this is capped at last month's figure (RENT_RISE_CAPPED);
    # None: the municipality has no such rule.
    rent_rise_limit_kr: Annotated[int, Field(strict=True, ge=0)] | None = 500
    sources: list[SourceRef] = Field(default_factory=list)


class Thresholds(_Strict):
    income_deviation_kr: Count
    income_deviation_percent: Annotated[Decimal, Field(ge=0, le=100)]
    young_adult_min_age: Count
    young_adult_max_age: Count

    @model_validator(mode="after")
    def _ages_in_order(self) -> Thresholds:
        if self.young_adult_max_age < self.young_adult_min_age:
            raise ValueError("young_adult_max_age is below young_adult_min_age")
        return self


class Guidelines(_Strict):
    municipality: str = Field(min_length=1)
    rent_caps: list[RentCaps] = Field(min_length=1)
    costs: dict[str, CostRule] = Field(default_factory=dict)
    income_types: dict[str, IncomeType] = Field(min_length=1)
    jobbstimulans: Jobbstimulans
    prisbasbelopp: Prisbasbelopp
    triage: Thresholds
    changes: ChangeRules = ChangeRules()

    @field_validator("costs")
    @classmethod
    def _known_costs(cls, value: dict[str, CostRule]) -> dict[str, CostRule]:
        unknown = sorted(set(value) - set(COST_FIELDS))
        if unknown:
            raise ValueError(f"unknown cost field(s) {', '.join(unknown)}; known: {', '.join(COST_FIELDS)}")
        return value

    @field_validator("rent_caps")
    @classmethod
    def _one_set_in_force(cls, value: list[RentCaps]) -> list[RentCaps]:
        for i, a in enumerate(value):
            for j in range(i):
                b = value[j]
                a_end, b_end = a.valid_to or "9999-12", b.valid_to or "9999-12"
                if a.valid_from <= b_end and b.valid_from <= a_end:
                    raise ValueError(f"{a.name} ({a.validity}) and {b.name} ({b.validity}) are both in force "
                                     "for some months: a period must have one set of rent caps")
        return value

    @field_validator("income_types")
    @classmethod
    def _counted_types_have_a_field(cls, value: dict[str, IncomeType]) -> dict[str, IncomeType]:
        for key, rule in value.items():
            if rule.counts and rule.form_field is None and key not in INCOME_FIELDS:
                raise ValueError(f"{key}: a counted income type needs a form_field")
        return value

    # -- reading ---------------------------------------------------------------------------------------

    def income_type(self, key: str) -> IncomeType | None:
        return self.income_types.get(key)

    def income_field(self, key: str) -> str | None:
        rule = self.income_types.get(key)
        if rule is None or not rule.counts:
            return None
        return rule.form_field or key

    def reported_keys(self, key: str) -> list[str] | None:
        """FK benefit keys or CSN kinds that make up this type; None = every CSN kind."""
        rule = self.income_types[key]
        if rule.reported_as is not None:
            return rule.reported_as
        return [key] if rule.reported_by == "fk" else None

    def cost_counts(self, field: str) -> bool:
        rule = self.costs.get(field)
        return rule.counts if rule else True

    def rent_caps_for(self, period: str) -> RentCaps | None:
        """The rent caps in force for the period month, if any."""
        return next((caps for caps in self.rent_caps if caps.in_force(period)), None)

    def rent_cap(self, period: str, adults: int, children: int, applicant_age: int) -> RentCapRow | None:
        caps = self.rent_caps_for(period)
        if caps is None:
            return None
        return next((r for r in caps.rows if r.matches(adults, children, applicant_age)), None)

    def prisbasbelopp_or_none(self, year: int) -> int | None:
        return self.prisbasbelopp.amounts.get(year)

    def prisbasbelopp_for(self, year: int) -> int:
        try:
            return self.prisbasbelopp.amounts[year]
        except KeyError:
            have = ", ".join(str(y) for y in sorted(self.prisbasbelopp.amounts)) or "none"
            raise GuidelineFigureMissing(f"prisbasbelopp.amounts.{year}",
                                         f"no prisbasbelopp for {year} in the guidelines (have {have})") from None


def load_guidelines(path: Path | None = None) -> Guidelines:
    """The guidelines file at `path` (default: the packaged sandbox defaults)."""
    if path is None:
        return _default_guidelines()
    return load_model(path, Guidelines, error=GuidelinesError)


@lru_cache(maxsize=1)
def _default_guidelines() -> Guidelines:
    return load_model(DEFAULT_PATH, Guidelines, error=GuidelinesError)
