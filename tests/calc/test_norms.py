from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.calc.errors import NormFileError, NormTableMissing
from bot.calc.norms import NORMS_DIR, common_amount, load_norm_file, load_norms, status_of


def test_the_years_from_the_research_are_there(norms) -> None:
    assert norms.years == [2014, 2019, 2021, 2022, 2023, 2024, 2025, 2026]


def test_every_table_cites_its_source_and_says_how_primary_it_is(norms) -> None:
    for year in norms.years:
        table = norms.for_year(year)
        assert table.sources and all(s.url.startswith("http") for s in table.sources)
        assert table.status in ("official", "municipal_copy")
    assert status_of(norms.for_year(2019)) == "official"
    assert status_of(norms.for_year(2021)) == "official"
    assert status_of(norms.for_year(2024)) == "partial"  # no "utan lunch" figures
    assert status_of(norms.for_year(2026)) == "partial"


def test_picked_by_the_period(norms) -> None:
    assert norms.for_period("2024-01").adults(pair=False).amount == 3800
    assert norms.for_period("2023-12").adults(pair=False).amount == 3490
    assert [f.amount for f in norms.for_period("2023-12").common_for(2)] == [1250]  # the corrected Ängelholm figure


def test_no_table_is_an_error_naming_the_period(norms) -> None:
    with pytest.raises(NormTableMissing) as err:
        norms.for_period("2020-06")
    assert err.value.field == "period"
    assert "2020-06" in str(err.value) and "2014, 2019, 2021, 2022, 2023, 2024, 2025, 2026" in str(err.value)


def test_common_costs_over_seven(norms) -> None:
    # 2019: printed +170; 2024: 2 730 − 2 540 = 190
    def common(year: int, size: int) -> int:
        return common_amount(size, [f.amount for f in norms.for_year(year).common_for(size)])

    assert common(2019, 8) == 2390
    assert common(2019, 10) == 2220 + 3 * 170
    assert common(2024, 9) == 2730 + 2 * 190


def test_child_bands(norms) -> None:
    t = norms.for_year(2024)
    assert [t.child(a).amount for a in (0, 1, 2, 3, 4, 6, 7, 10, 11, 14, 15, 18, 19, 20)] == [
        2640, 2940, 2940, 2620, 2940, 2940, 3680, 3680, 4230, 4230, 4780, 4780, 4820, 4820]
    with pytest.raises(ValueError, match="age 21"):
        t.child(21)


def test_without_lunch_where_the_table_has_it(norms) -> None:
    assert norms.for_year(2021).child(5, without_lunch=True).amount == 2170
    assert norms.for_year(2014).child(0, without_lunch=True).amount == 1610
    # 7 and older have no reduced figure: the full one applies
    assert norms.for_year(2024).child(8, without_lunch=True).amount == 3680


@pytest.mark.parametrize("year", [2022, 2023, 2024])
def test_without_lunch_missing_is_a_missing_figure_without_a_proposal(norms, year: int) -> None:
    # 2022's uplift is not published and 2021's figures are the last known: nothing to derive from.
    fig = norms.for_year(year).child(4, without_lunch=True)
    assert fig.key == "children_without_lunch.age_4_6" and fig.missing
    assert fig.amount is None and fig.derived is None and fig.proposal is None


def _copy(tmp_path: Path, year: int, edit) -> Path:
    target = tmp_path / f"{year}.yaml"
    target.write_text(edit(Path(NORMS_DIR / f"{year}.yaml").read_text(encoding="utf-8")), encoding="utf-8")
    return target


def test_malformed_table_names_file_line_and_field(tmp_path: Path) -> None:
    path = _copy(tmp_path, 2024, lambda t: t.replace("  age_7_10: 3680", "  age_7_10: '3 680'"))
    with pytest.raises(NormFileError) as err:
        load_norm_file(path)
    msg = str(err.value)
    line = next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if "age_7_10" in ln)
    assert f"{path}:{line}: children.age_7_10:" in msg


def test_missing_figure_and_unknown_key(tmp_path: Path) -> None:
    path = _copy(tmp_path, 2019, lambda t: t.replace("  single: 3090\n", "  singel: 3090\n"))
    with pytest.raises(NormFileError) as err:
        load_norm_file(path)
    assert "2019.yaml:9: adults.single: missing (required)" in str(err.value)
    assert "2019.yaml:10: adults.singel: unknown key (misspelt?)" in str(err.value)


def test_common_sizes_must_be_one_to_seven(tmp_path: Path) -> None:
    path = _copy(tmp_path, 2019, lambda t: t.replace("  7: 2220\n", ""))
    with pytest.raises(NormFileError, match=r"common: needs exactly the household sizes 1–7"):
        load_norm_file(path)


def test_year_must_match_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "2025.yaml"
    shutil.copy(NORMS_DIR / "2024.yaml", path)
    with pytest.raises(NormFileError, match=r"2025\.yaml:1: year: 2024 does not match"):
        load_norm_file(path)


def test_no_sources_is_refused(tmp_path: Path) -> None:
    def drop_sources(text: str) -> str:
        head, rest = text.split("sources:\n", 1)
        return head + "sources: []\n" + rest[rest.index("note:"):]
    path = _copy(tmp_path, 2021, drop_sources)
    with pytest.raises(NormFileError, match=r"sources: List should have at least 1 item"):
        load_norm_file(path)


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "2024.yaml"
    path.write_text("year: 2024\nadults: [unclosed\n", encoding="utf-8")
    with pytest.raises(NormFileError, match=r"2024\.yaml:\d+: not valid YAML"):
        load_norm_file(path)


def test_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(NormFileError, match="no norm tables"):
        load_norms(tmp_path)


def test_rounding_each_uplift_up_reproduces_every_sourced_2026_figure(norms) -> None:
    # shared/domain-research.md § 7: 2024 × 1,028 rounded up to ten, then × 1,007 rounded up again, gives all eight
    # 2026 figures the sources give, e.g. single 3 800 → 3 906,40 → 3 910 → 3 937,37 → 3 940. Blank 2026 and derive.
    from dataclasses import replace

    from bot.calc.norms import NormTables

    real = norms.for_year(2026)
    blank = replace(real, figures=dict.fromkeys(real.figures), derived={})
    tables = NormTables({2024: norms.for_year(2024), 2025: norms.for_year(2025), 2026: blank})
    derived = tables.for_year(2026).derived
    sourced = {k: v for k, v in real.figures.items() if v is not None}
    assert sourced == {"adults.single": 3940, "adults.cohabiting_pair": 7100, "children.age_7_10": 3820,
                       "children.age_11_14": 4390, "common.1": 1280, "common.2": 1410, "common.4": 2030,
                       "common.5": 2330}
    assert {k: derived[k].amount for k in sourced} == sourced
    # rounding to the NEAREST ten would miss: 7–10 år 3 680 × 1,028 = 3 783,04 → 3 780; × 1,007 = 3 806,46 → 3 810


def test_a_missing_2026_figure_carries_the_derived_proposal_and_its_working(norms) -> None:
    fig = norms.for_year(2026).child(4)
    assert fig.missing and fig.proposal == 3060
    assert fig.derived.text == "2024 2 940 × 1,028 → 3 030 × 1,007 → 3 060"
    assert norms.for_year(2026).common_for(3)[0].proposal == 1790
