"""`casebot norms check`: the admin's check of next year's table, on good and bad tables.

The 2027 tables below are made up for the test (no 2027 norm exists yet): they are 2026's figures × 1,01
rounded up to the next ten, worked by hand: ensamstående 3 940 × 1,01 = 3 979,40 → 3 980; sambor 7 100 × 1,01 =
7 171 → 7 180; barn 7–10 3 820 → 3 858,20 → 3 860; barn 11–14 4 390 → 4 433,90 → 4 440; common 1 p 1 280 →
1 292,80 → 1 300; 2 p 1 410 → 1 424,10 → 1 430; 4 p 2 030 → 2 050,30 → 2 060; 5 p 2 330 → 2 353,30 → 2 360.
Totals: 3 980 + 1 300 = 5 280; 7 180 + 1 430 = 8 610.
"""

from __future__ import annotations

from pathlib import Path

from bot.calc.norm_check import check_norm_file
from bot.calc.norms import NORMS_DIR, load_norms
from bot.cli import main

GOOD_2027 = """\
year: 2027
status: official
uplift_percent: 1.0
headline: {single_total: 5280, cohabiting_total: 8610}
sources:
  - title: Förordning om ändring i socialtjänstförordningen (2001:937) för 2027 (test)
    url: https://example.org/sfs-2026-xxx
    covers: [adults.single, common.1]
adults:
  single: 3980
  cohabiting_pair: 7180
children:
  under_1: null
  age_1_2: null
  age_3: null
  age_4_6: null
  age_7_10: 3860
  age_11_14: 4440
  age_15_18: null
  age_19_20: null
children_without_lunch: null
common:
  1: 1300
  2: 1430
  3: null
  4: 2060
  5: 2360
  6: null
  7: null
"""


def _table(tmp_path: Path, text: str, name: str = "2027.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line(path: Path, needle: str) -> int:
    return next(i for i, ln in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in ln)


def test_a_good_table_passes_with_its_nulls_as_warnings(tmp_path: Path, norms) -> None:
    result = check_norm_file(_table(tmp_path, GOOD_2027), norms)
    assert result.errors == []
    assert result.ok
    assert any("common.3: null (no source gives it)" in w for w in result.warnings)
    # the proposal for a null figure is derived from 2026's derived 1 790: × 1,01 = 1 807,90 → 1 810
    assert any("common.3" in w and "derived proposal 1 810" in w for w in result.warnings)
    assert result.summary().endswith("OK: riksnorm 2027, partial, 8 of 21 figures given")


def test_the_shipped_2026_table_passes(norms) -> None:
    assert check_norm_file(NORMS_DIR / "2026.yaml", norms).ok


def test_a_typo_is_caught_by_the_uplift_and_the_headline(tmp_path: Path, norms) -> None:
    path = _table(tmp_path, GOOD_2027.replace("single: 3980", "single: 3890"))
    result = check_norm_file(path, norms)
    line = _line(path, "single: 3890")
    assert f"{path}:{line}: adults.single: 3 890 is not within ±10 kr of 2026's 3 940 × 1,01 = 3979,40" in result.errors
    head = _line(path, "headline:")
    assert (f"{path}:{head}: headline.single_total: 5 280 is not reproduced: adults.single 3 890 + common.1 1 300 "
            "= 5 190") in result.errors
    assert not result.ok


def test_a_figure_from_last_year_without_the_uplift_is_caught(tmp_path: Path, norms) -> None:
    # 2 030 is 2026's figure unchanged: 2 030 × 1,01 = 2 050,30, 20 kr away
    result = check_norm_file(_table(tmp_path, GOOD_2027.replace("  4: 2060", "  4: 2030")), norms)
    assert any("common.4: 2 030 is not within ±10 kr of 2026's 2 030 × 1,01 = 2050,30" in e for e in result.errors)


def test_a_band_left_out_is_an_error_not_a_null(tmp_path: Path, norms) -> None:
    path = _table(tmp_path, GOOD_2027.replace("  age_3: null\n", ""))
    result = check_norm_file(path, norms)
    assert any(e.endswith("children.age_3: missing (required)") for e in result.errors)
    assert result.table is None


def test_sources_must_be_given_and_name_real_figures(tmp_path: Path, norms) -> None:
    head, rest = GOOD_2027.split("sources:\n")
    no_sources = head + "sources: []\n" + rest.split("    covers: [adults.single, common.1]\n")[1]
    result = check_norm_file(_table(tmp_path, no_sources), norms)
    assert any("sources: List should have at least 1 item" in e for e in result.errors)
    bad_cover = check_norm_file(_table(tmp_path, GOOD_2027.replace("covers: [adults.single, common.1]",
                                                                   "covers: [adults.singel]")), norms)
    assert any("sources.0.covers: 'adults.singel' is not a figure of the table" in e for e in bad_cover.errors)


def test_without_uplift_or_totals_the_check_says_what_it_could_not_do(tmp_path: Path, norms) -> None:
    text = GOOD_2027.replace("uplift_percent: 1.0\n", "").replace(
        "headline: {single_total: 5280, cohabiting_total: 8610}\n", "")
    result = check_norm_file(_table(tmp_path, text), norms)
    assert result.ok
    assert any("uplift_percent: not given" in w for w in result.warnings)
    assert any("headline: not given" in w for w in result.warnings)


def test_the_command_exits_1_on_errors_and_0_on_a_good_table(tmp_path: Path, capsys) -> None:
    good = _table(tmp_path, GOOD_2027)
    assert main(["norms", "check", str(good)]) == 0
    assert "OK: riksnorm 2027" in capsys.readouterr().out
    (tmp_path / "bad").mkdir()
    bad = _table(tmp_path, GOOD_2027.replace("age_11_14: 4440", "age_11_14: 4000"), "bad/2027.yaml")
    assert main(["norms", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "error: " in out and "children.age_11_14: 4 000 is not within" in out and "NOT USABLE" in out


def test_list_shows_years_status_missing_and_sources(capsys) -> None:
    assert main(["norms", "list"]) == 0
    out = capsys.readouterr().out
    assert "2026  partial         8 of 21 figures" in out
    assert "2021  official       21 of 21 figures" in out
    assert "missing: children.under_1" in out and "regeringen.se/artiklar/2025/11/riksnorm-for-2026" in out


def test_an_admins_folder_adds_next_year(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "norms"
    folder.mkdir()
    _table(folder, GOOD_2027)
    tables = load_norms(extra=folder)
    assert tables.years[-1] == 2027
    assert tables.for_period("2027-01").adults(pair=False).amount == 3980
    config = tmp_path / "casebot.yaml"
    config.write_text("norms_dir: norms\nportals:\n" + "".join(
        f"  {p}: {{url: 'http://127.0.0.1:{8100 + i}', username: u}}\n"
        for i, p in enumerate(("casesystem", "skv", "fk", "af", "csn"))), encoding="utf-8")
    assert main(["norms", "list", "--config", str(config)]) == 0
    assert "2027  partial" in capsys.readouterr().out
