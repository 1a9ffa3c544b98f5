"""Which law the period falls under, for the notes' citations (`bot/calc/law.yaml`).

A caseworker checks a note against the law in force for the application month: a 2025-06 application is
decided under the old Social Services Act (2001:453), a 2025-07 one under the new (2025:400), whose paragraphs
have other numbers. The citation is chosen by the period, never hard-coded in a rule text.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.calc.errors import GuidelinesError
from bot.calc.guidelines import Month
from bot.calc.norms import SourceRef
from bot.yamlload import load_model

LAW_PATH = Path(__file__).with_name("law.yaml")
Provision = Literal["forsorjningsstod", "jobbstimulans", "child_work_income"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provisions(_Strict):
    forsorjningsstod: str = Field(min_length=1)  # försörjningsstöd: riksnorm + reasonable costs
    jobbstimulans: str = Field(min_length=1)
    child_work_income: str = Field(min_length=1)  # a child's own work income up to one prisbasbelopp


class Act(_Strict):
    name: str = Field(min_length=1)
    valid_from: Month
    valid_to: Month | None = None
    sources: list[SourceRef] = Field(min_length=1)
    provisions: Provisions

    def in_force(self, period: str) -> bool:
        return self.valid_from <= period and (self.valid_to is None or period <= self.valid_to)


class Law(_Strict):
    acts: list[Act] = Field(min_length=1)

    def act_for(self, period: str) -> Act | None:
        return next((a for a in self.acts if a.in_force(period)), None)

    def cite(self, period: str, provision: Provision) -> str:
        """'12 kap. 8 § socialtjänstlagen (2025:400)'; empty where no act in the file covers the period."""
        act = self.act_for(period)
        if act is None:
            return ""
        return f"{getattr(act.provisions, provision)} {act.name}"


@lru_cache(maxsize=1)
def load_law(path: Path = LAW_PATH) -> Law:
    return load_model(path, Law, error=GuidelinesError)


def cite(period: str, provision: Provision) -> str:
    return load_law().cite(period, provision)
