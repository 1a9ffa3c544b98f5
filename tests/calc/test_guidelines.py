from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.calc.errors import GuidelineFigureMissing, GuidelinesError
from bot.calc.guidelines import DEFAULT_PATH, load_guidelines

CONTRACT_INCOME_TYPES = {"lon", "a_kassa", "sjukpenning", "foraldrapenning", "aktivitetsstod", "bostadsbidrag",
                         "barnbidrag", "underhallsstod", "studiestod", "pension", "ovriga_inkomster"}


def test_default_rent_caps_up_to_2025_are_hogsby_2023(guidelines) -> None:
    caps = {(a, c): guidelines.rent_cap("2025-12", a, c, 40).amount for a in (1, 2) for c in range(0, 8)}
    assert caps[(1, 0)] == 4474 and caps[(2, 0)] == 5581
    for adults in (1, 2):
        assert [caps[(adults, c)] for c in range(1, 8)] == [6192, 7416, 8046, 8650, 9255, 9255, 9255]
    assert guidelines.rent_cap("2025-12", 3, 0, 40) is None  # not in Högsby's table
    assert "hogsby.se" in guidelines.rent_caps_for("2019-01").source.url
    assert guidelines.rent_caps_for("2024-12").name == "Högsby kommun 2023"


def test_default_rent_caps_from_2026_are_sundsvalls_by_age_and_children(guidelines) -> None:
    def cap(adults: int, children: int, age: int) -> int:
        return guidelines.rent_cap("2026-12", adults, children, age).amount

    # No children: by the applicant's age (≤ 28 / ≥ 29), one or two adults alike.
    assert [cap(1, 0, 28), cap(1, 0, 29), cap(2, 0, 22), cap(2, 0, 60)] == [5800, 6800, 5800, 6800]
    assert [cap(1, c, 40) for c in range(1, 9)] == [7900, 7900, 9900, 9900, 11000, 11000, 14200, 14200]
    assert guidelines.rent_caps_for("2026-01").name == "Sundsvalls kommun 2026"
    assert guidelines.rent_caps_for("2026-01").validity == "2026-01 – tills vidare"


def test_a_period_before_every_set_has_no_caps(guidelines) -> None:
    assert guidelines.rent_caps_for("2013-12") is None
    assert guidelines.rent_cap("2013-12", 1, 0, 40) is None


def test_overlapping_validity_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t.replace('valid_to: "2025-12"', 'valid_to: "2026-02"'))
    with pytest.raises(GuidelinesError, match=r"rent_caps: Sundsvalls kommun 2026 \(2026-01 – tills vidare\) and "
                                              r"Högsby kommun 2023 \(2014-01 – 2026-02\) are both in force"):
        load_guidelines(path)


def test_validity_must_be_a_month(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t.replace('valid_from: "2026-01"', 'valid_from: "2026-13"'))
    with pytest.raises(GuidelinesError) as err:
        load_guidelines(path)
    assert f"{path}:{_line_of(path, '2026-13')}: rent_caps.1.valid_from:" in str(err.value)


def test_validity_must_not_run_backwards(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t.replace('valid_to: "2025-12"', 'valid_to: "2013-12"'))
    with pytest.raises(GuidelinesError, match=r"rent_caps\.0: valid_to 2013-12 is before valid_from 2014-01"):
        load_guidelines(path)


def test_default_income_types_are_the_contracts(guidelines) -> None:
    assert set(guidelines.income_types) == CONTRACT_INCOME_TYPES
    assert {k for k, t in guidelines.income_types.items() if t.reported_by == "fk"} == {
        "sjukpenning", "foraldrapenning", "aktivitetsstod", "bostadsbidrag", "barnbidrag", "underhallsstod"}
    assert guidelines.income_types["studiestod"].reported_by == "csn"
    assert [k for k, t in guidelines.income_types.items() if t.earned] == ["lon"]


def test_default_thresholds_and_figures(guidelines) -> None:
    t = guidelines.triage
    assert (t.income_deviation_kr, t.income_deviation_percent) == (100, Decimal(5))
    assert (t.young_adult_min_age, t.young_adult_max_age) == (18, 20)
    js = guidelines.jobbstimulans
    assert (js.percent, js.qualifying_months, js.months) == (Decimal(25), 6, 24)
    assert [m for m in range(0, 40) if js.applies(m)] == list(range(6, 30))
    # The nine years the research found (shared/domain-research.md § 7), each with a source in the file.
    assert guidelines.prisbasbelopp.amounts == {2014: 44400, 2019: 46500, 2020: 47300, 2021: 47600, 2022: 48300,
                                                2023: 52500, 2024: 57300, 2025: 58800, 2026: 59200}
    with pytest.raises(GuidelineFigureMissing, match=r"prisbasbelopp\.amounts\.2018"):
        guidelines.prisbasbelopp_for(2018)
    assert guidelines.prisbasbelopp_or_none(2018) is None


def _write(tmp_path: Path, edit) -> Path:
    path = tmp_path / "guidelines.yaml"
    path.write_text(edit(DEFAULT_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, ln in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in ln)


def test_malformed_threshold_names_file_line_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t.replace("income_deviation_kr: 100", "income_deviation_kr: hundra"))
    with pytest.raises(GuidelinesError) as err:
        load_guidelines(path)
    assert f"{path}:{_line_of(path, 'income_deviation_kr: hundra')}: triage.income_deviation_kr:" in str(err.value)


def test_rent_cap_amount_must_be_positive_whole_kronor(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t.replace("amount: 5581", "amount: -5581"))
    with pytest.raises(GuidelinesError) as err:
        load_guidelines(path)
    assert f"{path}:{_line_of(path, '-5581')}: rent_caps.0.rows.1.amount:" in str(err.value)


def test_overlapping_rent_caps(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t.replace("{adults: 2, children: 0, amount: 5581}",
                                                "{adults: 1-2, children: 0, amount: 5581}"))
    with pytest.raises(GuidelinesError, match=r"rent_caps\.0\.rows: row 1 .* overlaps row 0"):
        load_guidelines(path)


def test_bad_range(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t.replace("children: 5+", "children: fem"))
    with pytest.raises(GuidelinesError, match=r"rent_caps\.0\.rows\.6\.children: expected a count"):
        load_guidelines(path)


def test_unknown_cost_field(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t.replace("  tandvard: {counts: true}", "  tandvard: {counts: true}\n"
                                                                               "  bredband: {counts: true}"))
    with pytest.raises(GuidelinesError, match=r"costs: unknown cost field\(s\) bredband"):
        load_guidelines(path)


def test_income_type_with_a_field_the_form_lacks(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t.replace("  pension: {label: Pension}",
                                                "  pension: {label: Pension, form_field: pensioner}"))
    with pytest.raises(GuidelinesError) as err:
        load_guidelines(path)
    assert f":{_line_of(path, 'pensioner')}: income_types.pension.form_field:" in str(err.value)


def test_counted_new_type_needs_a_form_field(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t.replace("  pension: {label: Pension}",
                                                "  pension: {label: Pension}\n  barnpension: {label: Barnpension}"))
    with pytest.raises(GuidelinesError, match=r"income_types: barnpension: a counted income type"):
        load_guidelines(path)


def test_missing_section(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t[:t.index("# Triage thresholds")])
    # a missing top-level section points at the document's first line of content
    with pytest.raises(GuidelinesError, match=r"guidelines\.yaml:3: triage: missing \(required\)"):
        load_guidelines(path)


def test_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "guidelines.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(GuidelinesError, match=r"guidelines\.yaml:1: expected a mapping"):
        load_guidelines(path)


def test_unreadable(tmp_path: Path) -> None:
    with pytest.raises(GuidelinesError, match="file not found"):
        load_guidelines(tmp_path / "nope.yaml")
