"""Writing re-recorded elements into a selector file: comments kept, only the element changed, validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.paths import SELECTORS_DIR
from bot.selectors.load import SelectorFileError, load_selector_file
from bot.selectors.model import Fingerprint, Strategy
from bot.selectors.write import save_atomically, unified_diff, updated_text, validate_text


def test_a_rerecorded_element_replaces_only_itself_and_keeps_the_admins_comments(tmp_path: Path) -> None:
    path = SELECTORS_DIR / "csn.yaml"
    old = path.read_text(encoding="utf-8")
    current = load_selector_file(path)
    element = current.element("result", "download").model_copy(update={
        "strategies": [Strategy(role="button", name='Exportera "CSV"'), Strategy(css="form[action$='.csv'] button")],
        "fingerprint": Fingerprint(tag="button", role="button", name='Exportera "CSV"')})
    new = updated_text(old, {("result", "download"): element}, {}, layout="v2",
                       recorded={"at": "2026-11-25", "by": "admin"})
    assert [line for line in old.splitlines() if line.startswith("#")] == \
        [line for line in new.splitlines() if line.startswith("#")]
    diff = unified_diff(old, new, path)
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert all("download" not in line for line in changed)  # the key stays; its content changes
    assert len(changed) <= 10, diff
    saved = tmp_path / "csn.yaml"
    save_atomically(saved, new)
    loaded = load_selector_file(saved)
    assert loaded.layout == "v2" and loaded.recorded is not None and loaded.recorded.at == "2026-11-25"
    assert loaded.element("result", "download").strategies[0].name == 'Exportera "CSV"'
    assert loaded.element("result", "notice") == current.element("result", "notice")


def test_text_that_would_not_load_is_refused_with_file_and_line() -> None:
    bad = (SELECTORS_DIR / "csn.yaml").read_text(encoding="utf-8").replace("{role: alert}", "{role: alert, x: 1}", 1)
    with pytest.raises(SelectorFileError) as caught:
        validate_text(bad, Path("csn.yaml"))
    assert "csn.yaml:" in str(caught.value) and "x" in str(caught.value)
