"""The calculation form's fields, statuses and screen texts, per layout version.

The `name=` of every input (the key) is the server's form contract and is identical in v1 and v2; only
labels, order and grouping change with the vendor upgrade (layout v2), as they do in real upgrades. Layout v3,
an older-generation screen module of the same system, prints v1's texts (its entries below are v1's) in layout
tables, and names its inputs afresh on every render (`portals.web.generated_names`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    key: str
    label_v1: str
    label_v2: str
    group: str  # norm | cost | income

    def label(self, layout: str) -> str:
        """The field's label in `layout` (v3 prints v1's)."""
        return self.label_v2 if layout == "v2" else self.label_v1


FIELDS: tuple[Field, ...] = (
    Field("norm_personliga", "Personliga kostnader (riksnorm)", "Riksnorm – personliga kostnader", "norm"),
    Field("norm_gemensamma", "Gemensamma hushållskostnader", "Riksnorm – gemensamma kostnader", "norm"),
    Field("boende", "Hyra/boendekostnad", "Boendekostnad", "cost"),
    Field("hushallsel", "Hushållsel", "El (hushåll)", "cost"),
    Field("hemforsakring", "Hemförsäkring", "Hemförsäkring", "cost"),
    Field("arbetsresor", "Arbetsresor", "Resor till och från arbetet", "cost"),
    Field("fackavgift", "Fackavgift", "Fackavgift", "cost"),
    Field("akasseavgift", "A-kasseavgift", "Avgift till a-kassa", "cost"),
    Field("barnomsorg", "Barnomsorgsavgift", "Förskola/fritidshem (avgift)", "cost"),
    Field("lakarvard", "Läkarvård och medicin", "Läkarvård/medicin", "cost"),
    Field("tandvard", "Akut tandvård", "Akut tandvård", "cost"),
    Field("lon", "Lön efter skatt", "Lön (netto)", "income"),
    Field("a_kassa", "A-kassa", "Ersättning från a-kassa", "income"),
    Field("sjukpenning", "Sjukpenning", "Sjukpenning", "income"),
    Field("foraldrapenning", "Föräldrapenning", "Föräldrapenning", "income"),
    Field("aktivitetsstod", "Aktivitetsstöd", "Aktivitetsstöd", "income"),
    Field("bostadsbidrag", "Bostadsbidrag", "Bostadsbidrag", "income"),
    Field("barnbidrag", "Barnbidrag/flerbarnstillägg", "Barnbidrag inkl. flerbarnstillägg", "income"),
    Field("underhallsstod", "Underhållsstöd", "Underhållsstöd", "income"),
    Field("studiestod", "Studiestöd (CSN)", "Studiemedel (CSN)", "income"),
    Field("pension", "Pension", "Pension", "income"),
    Field("ovriga_inkomster", "Övriga inkomster", "Övriga inkomster", "income"),
)
FIELD_KEYS: tuple[str, ...] = tuple(f.key for f in FIELDS)
BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
TOTAL_KEYS: tuple[str, ...] = ("summa_norm", "summa_kostnader", "summa_inkomster", "att_betala")
TOTAL_LABELS: dict[str, dict[str, str]] = {
    "v1": {"summa_norm": "Summa norm", "summa_kostnader": "Summa skäliga kostnader",
           "summa_inkomster": "Summa inkomster", "att_betala": "Att betala ut"},
    "v2": {"summa_norm": "Norm totalt", "summa_kostnader": "Kostnader totalt",
           "summa_inkomster": "Inkomster totalt", "att_betala": "Beviljat belopp"},
}

MAX_AMOUNT = 1_000_000

# (legend, field keys) per fieldset, in screen order. v2 puts incomes first and splits the costs in two,
# the kind of reshuffle a vendor upgrade brings.
SECTIONS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "v1": (
        ("Riksnorm", ("norm_personliga", "norm_gemensamma")),
        ("Skäliga kostnader", ("boende", "hushallsel", "hemforsakring", "arbetsresor", "fackavgift",
                               "akasseavgift", "barnomsorg", "lakarvard", "tandvard")),
        ("Inkomster", tuple(f.key for f in FIELDS if f.group == "income")),
    ),
    "v2": (
        ("Hushållets inkomster", ("lon", "a_kassa", "aktivitetsstod", "sjukpenning", "foraldrapenning",
                                  "barnbidrag", "underhallsstod", "bostadsbidrag", "studiestod", "pension",
                                  "ovriga_inkomster")),
        ("Norm enligt riksnormen", ("norm_gemensamma", "norm_personliga")),
        ("Boende", ("boende", "hushallsel", "hemforsakring")),
        ("Övriga skäliga kostnader", ("arbetsresor", "barnomsorg", "lakarvard", "tandvard", "fackavgift",
                                      "akasseavgift")),
    ),
}
# Layout v3 has v1's section titles, field order and total labels: the same entries, not copies.
SECTIONS["v3"] = SECTIONS["v1"]
TOTAL_LABELS["v3"] = TOTAL_LABELS["v1"]

STATUSES: tuple[str, ...] = ("inkommen", "under_behandling", "klar_for_signering", "manuell", "beslutad")
STATUS_TEXT: dict[str, str] = {
    "inkommen": "Inkommen",
    "under_behandling": "Under behandling",
    "klar_for_signering": "Klar för signering",
    "manuell": "Manuell handläggning",
    "beslutad": "Beslutad",
}
EDITABLE_STATUSES = frozenset({"inkommen", "under_behandling"})
APPLICATION_TYPES: tuple[str, ...] = ("Återansökan", "Nyansökan")
# The decision history: what "Äldre beslut" says (complete history / older decisions thinned out), per layout.
OLDER_DECISIONS: dict[str, str] = {"finns_inte": "Finns inte", "gallrade": "Gallrade"}

ROLE_TEXT: dict[str, str] = {
    "sokande": "Sökande",
    "medsokande": "Medsökande",
    "barn": "Barn",
    "ovrig_vuxen": "Övrig vuxen i hushållet",
}

# Tab paths and their texts per layout (the paths are the same in both: only the texts change).
TABS: tuple[tuple[str, str, str], ...] = (
    ("sokande", "Sökande och hushåll", "Hushåll"),
    ("ansokan", "Ansökan", "Ansökan/underlag"),
    ("berakning", "Beräkning", "Ekonomisk beräkning"),
    ("historik", "Historik", "Tidigare beslut"),
    ("journal", "Journal", "Anteckningar"),
    ("beslut", "Beslut", "Beslut och attest"),
)


def fmt_pnr(pnr: str) -> str:
    """'197911269988' -> '19791126-9988', as the case system prints personnummer; other forms as stored."""
    return f"{pnr[:8]}-{pnr[8:]}" if len(pnr) == 12 and pnr.isdigit() else pnr


def income_label(income_type: str, layout: str) -> str:
    """Declared income types outside the form (e.g. `inkomst_utland`) are shown by their raw key."""
    field = BY_KEY.get(income_type)
    return field.label(layout) if field else income_type


def compute_totals(values: dict[str, int | None]) -> dict[str, int]:
    """The read-only totals; an empty (NULL) field counts as 0 here but stays NULL in the store."""

    def total(group: str) -> int:
        return sum(values.get(f.key) or 0 for f in FIELDS if f.group == group)

    norm, costs, incomes = total("norm"), total("cost"), total("income")
    return {"summa_norm": norm, "summa_kostnader": costs, "summa_inkomster": incomes,
            "att_betala": max(0, norm + costs - incomes)}
