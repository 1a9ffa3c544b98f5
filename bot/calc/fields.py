"""The case system's calculation form fields (docs/contract.md, "Calculation form fields"), in form order."""

from __future__ import annotations

from typing import Literal

Group = Literal["norm", "cost", "income"]

FORM_FIELDS: dict[str, tuple[str, Group]] = {
    "norm_personliga": ("Personliga kostnader (riksnorm)", "norm"),
    "norm_gemensamma": ("Gemensamma hushållskostnader", "norm"),
    "boende": ("Hyra/boendekostnad", "cost"),
    "hushallsel": ("Hushållsel", "cost"),
    "hemforsakring": ("Hemförsäkring", "cost"),
    "arbetsresor": ("Arbetsresor", "cost"),
    "fackavgift": ("Fackavgift", "cost"),
    "akasseavgift": ("A-kasseavgift", "cost"),
    "barnomsorg": ("Barnomsorgsavgift", "cost"),
    "lakarvard": ("Läkarvård och medicin", "cost"),
    "tandvard": ("Akut tandvård", "cost"),
    "lon": ("Lön efter skatt", "income"),
    "a_kassa": ("A-kassa", "income"),
    "sjukpenning": ("Sjukpenning", "income"),
    "foraldrapenning": ("Föräldrapenning", "income"),
    "aktivitetsstod": ("Aktivitetsstöd", "income"),
    "bostadsbidrag": ("Bostadsbidrag", "income"),
    "barnbidrag": ("Barnbidrag/flerbarnstillägg", "income"),
    "underhallsstod": ("Underhållsstöd", "income"),
    "studiestod": ("Studiestöd (CSN)", "income"),
    "pension": ("Pension", "income"),
    "ovriga_inkomster": ("Övriga inkomster", "income"),
}

ALL_FIELDS: tuple[str, ...] = tuple(FORM_FIELDS)
NORM_FIELDS: tuple[str, ...] = tuple(k for k, (_, g) in FORM_FIELDS.items() if g == "norm")
COST_FIELDS: tuple[str, ...] = tuple(k for k, (_, g) in FORM_FIELDS.items() if g == "cost")
INCOME_FIELDS: tuple[str, ...] = tuple(k for k, (_, g) in FORM_FIELDS.items() if g == "income")


def label(key: str) -> str:
    return FORM_FIELDS[key][0]


def in_form_order(keys: set[str] | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    wanted = set(keys)
    return tuple(k for k in ALL_FIELDS if k in wanted)
