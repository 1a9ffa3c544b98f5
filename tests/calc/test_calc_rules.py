"""Calculation rules beyond the fixed households: missing figures, guidelines switches, exemptions, sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.calc import calculate
from bot.calc.errors import NormFigureMissing
from bot.calc.guidelines import DEFAULT_PATH, load_guidelines
from tests.calc.builders import build

A = ("sokande", "1980-05-05")


def test_missing_lunch_figure_raises_unless_allowed(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A, "K": ("barn", "2020-03-03", True)}, costs={"boende": 5000})
    with pytest.raises(NormFigureMissing, match=r"norms\.2024\.children_without_lunch\.age_4_6"):
        calculate(facts, guidelines, norms)
    calc = calculate(facts, guidelines, norms, allow_missing_figures=True)
    # No 2022–2024 "utan lunch" figure and no published 2022 uplift to derive one: no proposal at all, and the
    # line says what is missing. The common costs (2 persons, 1 360) are unaffected.
    assert calc.amount("norm_personliga") is None
    assert calc.amount("norm_gemensamma") == 1360
    assert [(m.field, m.figure) for m in calc.missing_figures] == [
        ("norm_personliga", "norms.2024.children_without_lunch.age_4_6")]
    rule = calc.line("norm_personliga").rule
    assert "barn 4–6 år utan lunch 5 dagar/vecka saknas (inget förslag)" in rule


def test_lunch_flag_on_an_older_child_changes_nothing(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A, "K": ("barn", "2015-03-03", True)})
    assert calculate(facts, guidelines, norms).amount("norm_personliga") == 3800 + 3680


def _custom(tmp_path: Path, edit):
    path = tmp_path / "guidelines.yaml"
    path.write_text(edit(DEFAULT_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    return load_guidelines(path)


def test_a_cost_the_guidelines_do_not_count(tmp_path: Path, norms) -> None:
    g = _custom(tmp_path, lambda t: t.replace("arbetsresor: {counts: true}", "arbetsresor: {counts: false}"))
    facts = build("2024-12", {"A": A}, costs={"boende": 4000, "arbetsresor": 800})
    calc = calculate(facts, g, norms)
    assert calc.amount("arbetsresor") == 0
    assert "räknas inte enligt lokala riktlinjer" in calc.line("arbetsresor").rule
    assert calc.summa_kostnader == 4000


def test_jobbstimulans_percent_comes_from_the_guidelines(tmp_path: Path, norms) -> None:
    g = _custom(tmp_path, lambda t: t.replace("  percent: 25", "  percent: 30"))
    facts = build("2024-12", {"A": A}, incomes=[("A", "lon", 10000)], bistand_sedan="2024-01")
    assert calculate(facts, g, norms).amount("lon") == 7000  # 10 000 − 30 % 3 000


def test_a_known_income_type_that_does_not_count(tmp_path: Path, norms) -> None:
    g = _custom(tmp_path, lambda t: t.replace("  pension: {label: Pension}",
                                              "  pension: {label: Pension}\n"
                                              "  handikappersattning: {label: Handikappersättning, counts: false}"))
    facts = build("2024-12", {"A": A}, incomes=[("A", "handikappersattning", 1500), ("A", "pension", 2000)])
    calc = calculate(facts, g, norms)
    assert calc.summa_inkomster == 2000
    assert calc.notes == ("Handikappersättning 1 500 kr (sökande) räknas inte enligt riktlinjerna",)


def test_child_work_income_above_one_prisbasbelopp(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A, "K": ("barn", "2006-01-01")}, incomes=[("K", "lon", 60000)])
    # 60 000 − 57 300 (prisbasbelopp 2024) = 2 700 counts
    assert calculate(facts, guidelines, norms).amount("lon") == 2700


def test_child_work_income_without_a_prisbasbelopp_for_the_year(tmp_path: Path, norms) -> None:
    # A guideline file without 2022's prisbasbelopp: the child's wage cannot be counted, so its line has no amount
    # and names the missing figure; nothing is raised (a case must never crash a worker).
    g = _custom(tmp_path, lambda t: t.replace("    2022: 48300\n", ""))
    facts = build("2022-06", {"A": A, "K": ("barn", "2006-01-01")}, incomes=[("K", "lon", 2000)])
    calc = calculate(facts, g, norms)
    assert calc.amount("lon") is None
    assert [(m.field, m.figure) for m in calc.missing_figures] == [("lon", "prisbasbelopp.amounts.2022")]
    assert "saknar prisbasbeloppet för 2022" in calc.line("lon").rule
    assert calc.summa_inkomster == 0  # nothing counted that is not known


def test_no_jobbstimulans_without_any_earlier_decision(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A}, incomes=[("A", "lon", 8000)], bistand_sedan=None)  # a complete, empty history
    calc = calculate(facts, guidelines, norms)
    assert calc.amount("lon") == 8000
    assert "ingen jobbstimulans: inget fönster enligt beslutshistoriken omfattar 2024-12" in calc.line("lon").rule


def test_a_history_not_read_leaves_the_wage_unknown(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A}, incomes=[("A", "lon", 8000)], history=None)
    calc = calculate(facts, guidelines, norms, allow_missing_figures=True)
    assert calc.amount("lon") is None
    assert [(m.field, m.kind) for m in calc.missing_figures] == [("lon", "history")]


def test_ovrig_vuxen_income_is_noted_not_counted(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A, "O": ("ovrig_vuxen", "1950-01-01")}, incomes=[("O", "pension", 9000)])
    calc = calculate(facts, guidelines, norms)
    assert calc.summa_inkomster == 0 and calc.line("pension") is None
    assert calc.notes and "övrig vuxen" in calc.notes[0]


def test_ovrig_vuxen_fk_payments_are_not_counted(guidelines, norms) -> None:
    # The builder asks FK only for the family; an ovrig_vuxen's benefits are theirs.
    facts = build("2024-12", {"A": A, "O": ("ovrig_vuxen", "1950-01-01")}, fk=[("O", "bostadsbidrag", 2000)])
    assert calculate(facts, guidelines, norms).summa_inkomster == 0


def test_several_entries_of_one_cost_are_summed(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A}, costs=[("lakarvard", 200), ("lakarvard", 150)])
    calc = calculate(facts, guidelines, norms)
    assert calc.amount("lakarvard") == 350
    assert calc.line("lakarvard").rule == "Enligt ansökan 200 + 150 = 350"


def test_only_the_period_month_counts(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A}, fk=[("A", "sjukpenning", 3000, "2024-11"), ("A", "sjukpenning", 1200)])
    assert calculate(facts, guidelines, norms).amount("sjukpenning") == 1200


def test_household_income_sums_the_members(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A, "B": ("medsokande", "1981-01-01")},
                  incomes=[("A", "sjukpenning", 2000), ("B", "sjukpenning", 1500)],
                  fk=[("A", "sjukpenning", 2000), ("B", "sjukpenning", 1500)])
    line = calculate(facts, guidelines, norms).line("sjukpenning")
    assert line.amount == 3500
    assert line.rule == "Försäkringskassan, utbetalt för 2024-12: sökande 2 000 + medsökande 1 500 = 3 500"


def test_every_line_has_a_rule_and_a_source(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A, "K": ("barn", "2015-01-01")}, costs={"boende": 5000, "hushallsel": 300},
                  incomes=[("A", "lon", 5000), ("A", "barnbidrag", 1250)], fk=[("A", "barnbidrag", 1250)])
    calc = calculate(facts, guidelines, norms)
    for line in calc.lines:
        assert line.rule and line.sources, line.field
    portals = {s.portal for s in calc.line("barnbidrag").sources}
    assert "fk" in portals
    assert {s.portal for s in calc.line("norm_personliga").sources} == {"casesystem", "riksnorm"}
    assert any("gotene.se" in s.screen for s in calc.line("norm_personliga").sources)
    # lines come in form order
    order = [ln.field for ln in calc.lines]
    assert order == ["norm_personliga", "norm_gemensamma", "boende", "hushallsel", "lon", "barnbidrag"]


def test_rule_texts_carry_no_personnummer(guidelines, norms) -> None:
    facts = build("2024-12", {"A": A, "K": ("barn", "2015-01-01")}, costs={"boende": 5000},
                  incomes=[("A", "lon", 5000), ("K", "lon", 500)], fk=[("A", "barnbidrag", 1250)])
    calc = calculate(facts, guidelines, norms)
    texts = " ".join(ln.rule for ln in calc.lines) + " ".join(calc.notes)
    for m in facts.members:
        assert m.pnr not in texts and m.pnr[2:8] not in texts
