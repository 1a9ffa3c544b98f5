"""2025 and 2026 households worked out by hand, through the whole decision (triage + calculation).

Every expected figure is a literal typed from the sources, not from the code under test:
- Riksnorm 2026 (shared/domain-research.md § 7): the government's totals 5 220 (single) and 8 510 (couple);
  Lifecare's catalogue in Sundsvall's code: ensamstående 3 940, sambor 7 100 (2 × 3 550), barn 7–10 3 820,
  barn 11–14 4 390, gemensamma 1 p 1 280, 2 p 1 410 (8 510 − 7 100), 4 p 2 030, 5 p 2 330. No other 2026 figure.
- Riksnorm 2025: no amounts in any source (only "+2,8 %"), so every 2025 norm figure is missing.
- A missing figure leaves its field for the caseworker (NORM_FIGURE_MISSING, partial). The robot's derived
  proposal, shown in the reason only: last year's figure × (1 + uplift), rounded UP to the next ten, e.g.
  barn 4–6 år: 2024 2 940 × 1,028 = 3 022,32 → 3 030; × 1,007 = 3 051,21 → 3 060.
- Rent caps (contract, "Rent caps"): Högsby 2023 up to 2025-12; Sundsvall 2026 from 2026-01 (no children: sokande
  ≤ 28 → 5 800, ≥ 29 → 6 800; 1–2 children 7 900; 3–4 9 900; 5–6 11 000; 7+ 14 200).
- Prisbasbelopp 2025 58 800, 2026 59 200 (a child's own work income is exempt up to one a year).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.calc.guidelines import DEFAULT_PATH, load_guidelines
from bot.triage.prepare import prepare
from tests.calc.builders import build

ADULT = "1980-05-05"  # 46 at the end of 2026, 45 in 2025


@dataclass(frozen=True)
class Case:
    name: str
    period: str
    members: dict
    outcome: str
    codes: tuple[str, ...]
    filled: dict[str, int]  # what the robot writes (non-zero fields; every other field it fills gets 0)
    empty: tuple[str, ...] = ()
    costs: dict = field(default_factory=dict)
    incomes: tuple = ()
    fk: tuple = ()
    bistand_sedan: str | None = "same"
    reason_has: tuple[str, ...] = ()  # phrases the reasons must carry (figures, proposals, where to look)


CASES = [
    Case("k01_single_2026_the_governments_total", "2026-12", {"A": ("sokande", ADULT)},
         costs={"boende": 6500, "hushallsel": 300}, incomes=(("A", "a_kassa", 4000),),
         # norm 3 940 + 1 280 = 5 220 (the government's own total); rent 6 500 ≤ 6 800 (46 years, no children)
         # 5 220 + 6 800 − 4 000 = 8 020
         outcome="auto", codes=(),
         filled={"norm_personliga": 3940, "norm_gemensamma": 1280, "boende": 6500, "hushallsel": 300,
                 "a_kassa": 4000}),

    Case("k02_couple_2026_rent_above_the_29_plus_cap", "2026-12",
         {"A": ("sokande", ADULT), "B": ("medsokande", "1984-01-01")},
         costs={"boende": 7000},
         # 7 100 + 1 410 = 8 510 (the government's couple total); 7 000 > 6 800 → boende left empty
         outcome="partial", codes=("RENT_ABOVE_CAP",),
         filled={"norm_personliga": 7100, "norm_gemensamma": 1410}, empty=("boende",),
         reason_has=("7 000 kr är över högsta godtagbara 6 800 kr", "Sundsvalls kommun 2026")),

    Case("k03_couple_children_8_and_12_2026", "2026-12",
         {"A": ("sokande", ADULT), "B": ("medsokande", "1984-01-01"), "K1": ("barn", "2018-03-01"),
          "K2": ("barn", "2014-07-01")},
         costs={"boende": 7800, "hushallsel": 500},
         incomes=(("A", "barnbidrag", 2650),), fk=(("A", "barnbidrag", 2650),),
         # personal 7 100 + 3 820 (8 år) + 4 390 (12 år) = 15 310; common 4 persons 2 030
         # rent 7 800 ≤ 7 900 (1–2 children); 17 340 + 8 300 − 2 650 = 22 990
         outcome="auto", codes=(),
         filled={"norm_personliga": 15310, "norm_gemensamma": 2030, "boende": 7800, "hushallsel": 500,
                 "barnbidrag": 2650}),

    Case("k04_single_parent_two_school_children_2026_common_3_missing", "2026-12",
         {"A": ("sokande", ADULT), "K1": ("barn", "2017-02-01"), "K2": ("barn", "2013-02-01")},
         costs={"boende": 7500},
         # personal 3 940 + 3 820 (9 år) + 4 390 (13 år) = 12 150, filled; common for 3 persons: no source →
         # left empty; proposal 2024 1 720 × 1,028 = 1 768,16 → 1 770; × 1,007 = 1 782,39 → 1 790
         outcome="partial", codes=("NORM_FIGURE_MISSING",),
         filled={"norm_personliga": 12150, "boende": 7500}, empty=("norm_gemensamma",),
         reason_has=("Uppgift saknas i Riksnorm 2026: gemensamma hushållskostnader, 3 personer", "1 790 kr",
                     "2024 1 720 × 1,028 → 1 770 × 1,007 → 1 790", "ej verifierat", "Finns i:",
                     "normkatalog")),

    Case("k05_single_with_a_four_year_old_2026_personal_missing", "2026-12",
         {"A": ("sokande", ADULT), "K1": ("barn", "2022-05-01")},
         costs={"boende": 7000},
         # barn 4–6 år 2026: no source → personal left empty; proposal 2 940 → 3 030 → 3 060.
         # common 2 persons 1 410 is known and filled.
         outcome="partial", codes=("NORM_FIGURE_MISSING",),
         filled={"norm_gemensamma": 1410, "boende": 7000}, empty=("norm_personliga",),
         reason_has=("Riksnorm 2026: barn 4–6 år (barn 20220501-XXXX)", "barn 4–6 år 3 060 kr",
                     "2024 2 940 × 1,028 → 3 030 × 1,007 → 3 060")),

    Case("k06_single_2025_no_amounts_at_all", "2025-06", {"A": ("sokande", ADULT)},
         costs={"boende": 4000},
         # 2025: no source gives an amount → both norm fields empty; proposals 3 800 → 3 910 and 1 230 → 1 270
         # (1 230 × 1,028 = 1 264,44 → 1 270). Rent: Högsby 2023 still in force, 4 000 ≤ 4 474.
         outcome="partial", codes=("NORM_FIGURE_MISSING",),
         filled={"boende": 4000}, empty=("norm_personliga", "norm_gemensamma"),
         reason_has=("Uppgift saknas i Riksnorm 2025: ensamstående vuxen", "ensamstående vuxen 3 910 kr",
                     "2024 3 800 × 1,028 → 3 910",
                     "1 270 kr")),

    Case("k07_couple_five_school_children_2026_common_7_missing", "2026-12",
         {"A": ("sokande", ADULT), "B": ("medsokande", "1984-01-01"), "K1": ("barn", "2018-01-01"),
          "K2": ("barn", "2017-01-01"), "K3": ("barn", "2015-01-01"), "K4": ("barn", "2014-01-01"),
          "K5": ("barn", "2013-01-01")},
         costs={"boende": 10500},
         # personal 7 100 + 3 820 × 2 (8, 9 år) + 4 390 × 3 (11, 12, 13 år) = 7 100 + 7 640 + 13 170 = 27 910
         # common 7 persons: no source → empty (proposal 2 730 → 2 810 → 2 830). Rent 10 500 ≤ 11 000 (5–6 children)
         outcome="partial", codes=("NORM_FIGURE_MISSING",),
         filled={"norm_personliga": 27910, "boende": 10500}, empty=("norm_gemensamma",),
         reason_has=("7 personer", "2 830 kr")),

    Case("k08_young_applicant_28_rent_above_5800", "2026-12", {"A": ("sokande", "1998-12-31")},
         costs={"boende": 6000},
         # 28 on 2026-12-31 → the ≤ 28 limit 5 800; 6 000 is above → boende empty
         outcome="partial", codes=("RENT_ABOVE_CAP",),
         filled={"norm_personliga": 3940, "norm_gemensamma": 1280}, empty=("boende",),
         reason_has=("över högsta godtagbara 5 800 kr", "sökande 28 år")),

    Case("k09_applicant_29_same_rent_is_within_6800", "2026-12", {"A": ("sokande", "1997-12-31")},
         costs={"boende": 6000},
         # 29 on 2026-12-31 → 6 800; 6 000 counts. 5 220 + 6 000 = 11 220
         outcome="auto", codes=(),
         filled={"norm_personliga": 3940, "norm_gemensamma": 1280, "boende": 6000}),

    Case("k10_child_14_own_wage_2026_exempt", "2026-12",
         {"A": ("sokande", ADULT), "K1": ("barn", "2012-06-01")},
         costs={"boende": 7000}, incomes=(("K1", "lon", 2000),),
         # 3 940 + 4 390 (14 år) = 8 330; common 2 p 1 410; the child's 2 000 is under one prisbasbelopp
         # (59 200 for 2026) → 0 counts
         outcome="auto", codes=(),
         filled={"norm_personliga": 8330, "norm_gemensamma": 1410, "boende": 7000}),

    Case("k11_child_17_wage_above_the_2025_prisbasbelopp", "2025-08",
         {"A": ("sokande", ADULT), "K1": ("barn", "2008-02-01")},
         costs={"boende": 4000}, incomes=(("K1", "lon", 60000),),
         # 60 000 − 58 800 (prisbasbelopp 2025) = 1 200 counts; both norm fields empty (2025)
         outcome="partial", codes=("NORM_FIGURE_MISSING",),
         filled={"boende": 4000, "lon": 1200}, empty=("norm_personliga", "norm_gemensamma")),

    Case("k12_jobbstimulans_month_9_in_2026", "2026-12", {"A": ("sokande", ADULT)},
         costs={"boende": 6000}, incomes=(("A", "lon", 8000),), bistand_sedan="2026-03",
         # month 9 of the spell (6..29): 25 % of 8 000 = 2 000 exempt → 6 000 counts
         outcome="auto", codes=(),
         filled={"norm_personliga": 3940, "norm_gemensamma": 1280, "boende": 6000, "lon": 6000}),

    Case("k13_ovrig_vuxen_shares_2026", "2026-12",
         {"A": ("sokande", ADULT), "O": ("ovrig_vuxen", "1955-01-01")},
         costs={"boende": 6000},
         # 2 persons in the household: 1 410 × 1 ÷ 2 = 705 for the applicant's family of one
         outcome="auto", codes=(),
         filled={"norm_personliga": 3940, "norm_gemensamma": 705, "boende": 6000}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hand_worked_2025_2026(case: Case, guidelines, norms) -> None:
    facts = build(case.period, case.members, costs=case.costs, incomes=case.incomes, fk=case.fk,
                  bistand_sedan=case.bistand_sedan)
    prep = prepare(facts, guidelines, norms)
    assert prep.outcome == case.outcome
    assert prep.triage.codes == case.codes
    assert set(prep.left_empty) == set(case.empty)
    assert {k: v for k, v in prep.to_fill.items() if v} == case.filled
    assert not set(prep.to_fill) & set(case.empty)  # a field left empty is never written, not even as 0
    reasons = " | ".join(r.text_sv for r in prep.triage.reasons)
    for phrase in case.reason_has:
        assert phrase in reasons


def test_a_derived_proposal_is_never_filled_in(guidelines, norms) -> None:
    # k05: the note shows 3 060 as the robot's unverified proposal for the personal costs; the form gets nothing.
    facts = build("2026-12", {"A": ("sokande", ADULT), "K1": ("barn", "2022-05-01")})
    prep = prepare(facts, guidelines, norms)
    assert "norm_personliga" not in prep.to_fill
    line = prep.calculation.line("norm_personliga")
    assert line.amount == 3940 + 3060  # the proposal, kept on the line for the note
    assert "barn 4–6 år saknas (förslag 3 060)" in line.rule
    [reason] = prep.triage.reasons
    assert "Robotens förslag härlett, ej verifierat: barn 4–6 år 3 060 kr" in reason.text_sv


def test_a_year_without_a_prisbasbelopp_leaves_the_childs_wage(tmp_path: Path, norms) -> None:
    # Guidelines without 2026's prisbasbelopp: the child's wage field is left empty with GUIDELINE_FIGURE_MISSING;
    # the rest is filled (3 940 + 4 390 = 8 330; 1 410).
    path = tmp_path / "guidelines.yaml"
    path.write_text(DEFAULT_PATH.read_text(encoding="utf-8").replace("    2026: 59200\n", ""), encoding="utf-8")
    g = load_guidelines(path)
    facts = build("2026-12", {"A": ("sokande", ADULT), "K1": ("barn", "2012-06-01")}, incomes=(("K1", "lon", 2000),))
    prep = prepare(facts, g, norms)
    assert (prep.outcome, prep.triage.codes, prep.left_empty) == ("partial", ("GUIDELINE_FIGURE_MISSING",), ("lon",))
    assert prep.to_fill["norm_personliga"] == 8330 and prep.to_fill["norm_gemensamma"] == 1410
    [reason] = prep.triage.reasons
    assert "prisbasbeloppet för 2026" in reason.text_sv and "SCB" in reason.text_sv


def test_a_period_no_rent_caps_cover_leaves_the_rent(tmp_path: Path, norms) -> None:
    # Guidelines whose newest set ends 2025-12 and no 2026 set: rent is a missing guideline figure in 2026.
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    head, sundsvall = text.split("  - name: Sundsvalls kommun 2026\n")
    rest = sundsvall[sundsvall.index("\n# Reasonable costs"):]
    path = tmp_path / "guidelines.yaml"
    path.write_text(head + rest, encoding="utf-8")
    g = load_guidelines(path)
    facts = build("2026-12", {"A": ("sokande", ADULT)}, costs={"boende": 6000})
    prep = prepare(facts, g, norms)
    assert (prep.outcome, prep.triage.codes, prep.left_empty) == ("partial", ("GUIDELINE_FIGURE_MISSING",),
                                                                  ("boende",))
    assert "högsta godtagbara boendekostnad för 2026-12" in prep.triage.reasons[0].text_sv


@pytest.mark.parametrize(("period", "norm", "stimulans", "child"), [
    # SFS 2025:400 replaced SFS 2001:453 on 2025-07-01 (its transitional provisions); the paragraph numbers are
    # read in each act: old 4 kap. 3 §, 1 b §, 1 a §; new 12 kap. 7 §, 8 §, 9 §.
    ("2025-06", "4 kap. 3 § socialtjänstlagen (2001:453)", "4 kap. 1 b § socialtjänstlagen (2001:453)",
     "4 kap. 1 a § socialtjänstlagen (2001:453)"),
    ("2025-07", "12 kap. 7 § socialtjänstlagen (2025:400)", "12 kap. 8 § socialtjänstlagen (2025:400)",
     "12 kap. 9 § socialtjänstlagen (2025:400)"),
    ("2024-12", "4 kap. 3 § socialtjänstlagen (2001:453)", "4 kap. 1 b § socialtjänstlagen (2001:453)",
     "4 kap. 1 a § socialtjänstlagen (2001:453)"),
])
def test_the_law_cited_is_the_one_in_force_for_the_period(guidelines, norms, period, norm, stimulans, child) -> None:
    facts = build(period, {"A": ("sokande", ADULT), "K1": ("barn", "2012-06-01")},
                  incomes=(("A", "lon", 4000), ("K1", "lon", 1000)), bistand_sedan="2024-01")
    calc = prepare(facts, guidelines, norms).calculation
    assert f"enligt {norm}" in calc.line("norm_personliga").rule
    lon = calc.line("lon").rule
    # granted from 2024-01: six in a row by 2024-06, so the window is 2024-07 … 2026-06
    assert "jobbstimulans gäller 2024-07–2026-06" in lon and f"av 24 ({stimulans})" in lon
    assert f"per år ({child})" in lon
