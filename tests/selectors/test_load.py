"""Selector files are data admins edit: every shipped file loads, and a broken one names file, line and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ErrorCode
from bot.paths import SELECTORS_DIR
from bot.selectors.load import SelectorFileError, load_all, load_selector_file

GOOD = """portal: skv
screens:
  search:
    elements:
      submit:
        strategies:
          - {role: button, name: Sök}
          - {css: "form[role=search] button"}
"""


def write(tmp_path: Path, text: str, name: str = "skv.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_selector_file_loads() -> None:
    files = load_all(SELECTORS_DIR)
    assert set(files) == {"casesystem", "skv", "fk", "af", "csn"}
    assert all(f.portal == name for name, f in files.items())


def test_a_good_file_loads_with_its_fallbacks_in_order(tmp_path: Path) -> None:
    element = load_selector_file(write(tmp_path, GOOD)).element("search", "submit")
    assert [s.kind for s in element.strategies] == ["role", "css"]


@pytest.mark.parametrize(("text", "line", "words"), [
    (GOOD.replace("{role: button, name: Sök}", "{role: button, label: Sök}"), 7, "exactly one of"),
    (GOOD.replace("{css: \"form[role=search] button\"}", "{xpath: //button}"), 8, "unknown key"),
    (GOOD.replace("        strategies:\n", "        strategys:\n"), 6, "unknown key"),
    (GOOD + "  search:\n    elements: {}\n", 9, "duplicate key"),
    (GOOD.replace("- {role: button, name: Sök}", "- {role: button, name: Sök"), 8, "not valid YAML"),
])
def test_a_broken_file_names_file_line_and_problem(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SelectorFileError) as failure:
        load_selector_file(path)
    message = str(failure.value)
    assert f"{path}:{line}:" in message and words in message
    assert failure.value.code == ErrorCode.CONFIG_INVALID and "runbooks/CONFIG_INVALID.md" in message


def test_the_portal_must_match_the_file_name(tmp_path: Path) -> None:
    with pytest.raises(SelectorFileError, match=r"fk\.yaml:1: portal 'skv' does not match the file name 'fk'"):
        load_selector_file(write(tmp_path, GOOD, "fk.yaml"))
