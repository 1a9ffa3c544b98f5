"""The example in docs/calc.md runs and its by-hand figures hold."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "calc.md"


def test_the_documented_example_runs(capsys) -> None:
    block = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block, "docs/calc.md has no python example"
    exec(compile(block.group(1), str(DOC), "exec"), {})
    assert "INCOME_DEVIATION partial Bostadsbidrag" in capsys.readouterr().out


README = DOC.parents[1] / "README.md"


def test_the_readme_example_prints_what_its_comments_say(capsys) -> None:
    block = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert block, "README.md has no python example"
    exec(compile(block.group(1), str(README), "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "partial ('boende',)"
    assert "över högsta godtagbara 4 474 kr" in lines[1]
    assert lines[2] == "3800 1230"
