"""Issue 19's "done when": the case system's older module (layout v3: labels in the cell beside each field,
generated names that change on every render, tables with no header of their own, a calculation form that saves in
place) gets its selector file from the recorder alone, from nothing, through scripted clicks in a real headed
Chromium; the night then runs on that file and every case ends as the oracle expects."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.config import Config, write_config
from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_config, sandbox_environ
from bot.paths import SELECTORS_DIR
from bot.run.entry import run_once
from bot.selectors.load import load_selector_file
from bot.selectors.model import Outcome
from tests.sandbox_proc import start_sandbox

CLICKS = Path(__file__).parent / "v3_clicks" / "casesystem.yaml"
PNR = re.compile(r"(19|20)\d{6}-?\d{4}")
GENERATED_NAME = re.compile(r"name[=:][^\n]*f[0-9a-f]{10}")
CASES = 22  # more than one inbox page (20 a page), so the next-page link shows and is recorded


@pytest.fixture(scope="module")
def v3_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = start_sandbox(tmp_path_factory.mktemp("v3-sandbox"), cases=CASES, seed=19)
    try:
        box.set_knobs("casesystem", layout="v3")
        yield box
    finally:
        box.stop()


@pytest.fixture
def robot(tmp_path: Path, v3_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Config:
    """A robot whose selector folder has the agencies' files and no file at all for the case system."""
    selectors = tmp_path / "selectors"
    selectors.mkdir()
    for portal in ("skv", "fk", "af", "csn"):
        shutil.copy(SELECTORS_DIR / f"{portal}.yaml", selectors)
    config = sandbox_config(tmp_path / "robot", v3_sandbox, workers=2, selectors_dir=str(selectors),
                            timeouts={"element_s": 5})
    write_config(config, tmp_path / "config.yaml")
    for key, value in sandbox_environ().items():
        monkeypatch.setenv(key, value)
    return config.model_copy(update={"source": tmp_path / "config.yaml"})


@pytest.mark.browser
def test_a_file_recorded_from_nothing_on_the_older_module_carries_a_whole_night(
        robot: Config, v3_sandbox: Sandbox, tmp_path: Path, xvfb_display: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    made = Path(str(robot.selectors_dir)) / "casesystem.yaml"
    assert not made.exists()
    recordings = tmp_path / "recordings"
    code = main(["record", "casesystem", "--config", str(robot.source), "--script", str(CLICKS), "--yes",
                 "--layout", "v3", "--by", "test-admin", "--recordings", str(recordings)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert f"{made}: made" in printed
    # What it could not record, it says: the conditional elements the reference case does not bring up.
    assert "! not recorded (it did not show or was skipped): login/error" in printed
    assert "still missing" not in printed

    text = made.read_text(encoding="utf-8")
    selectors = load_selector_file(made)
    assert selectors.layout == "v3" and selectors.recorded is not None and selectors.recorded.by == "test-admin"
    assert not PNR.search(text) and not GENERATED_NAME.search(text)
    # Unlabelled fields and value cells by the text beside them, tables by their header row; never by a name.
    boende = selectors.element("calc_form", "boende")
    assert boende.strategies[0].anchor is not None and boende.strategies[0].anchor.text == "Hyra/boendekostnad"
    assert selectors.element("case", "status").strategies[0].anchor is not None
    assert selectors.element("inbox", "table").strategies[0].anchor is not None
    assert selectors.element("history", "rows").columns["month"] == ["Månad"]
    assert selectors.element("calc_form", "save").outcome == Outcome(changes="message", ok_text="Sparat")
    assert "error" not in selectors.screens["login"].elements
    recording = json.loads(next(recordings.glob("casesystem-*.json")).read_text())
    assert recording["saved"] and recording["mode"] == "script" and "login/error" in recording["not_recorded"]
    for click in recording["clicks"]:
        chosen = [c for c in click["candidates"] if c["chosen"]]
        assert chosen and all(c["matches"] == 1 and c["is_clicked"] for c in chosen), click["element"]

    assert main(["check-selectors", "--config", str(robot.source), "--portal", "casesystem"]) == 0
    checked = capsys.readouterr().out
    assert " broken " not in checked and "healed" not in checked.split("\n")[-3]

    night = asyncio.run(run_once(robot, console=False))
    assert night.exit_code == 0, [(i.case_id, i.state, i.last_error_code, i.last_error_message)
                                  for i in night.items if i.state != "done"]
    assert night.result.summary.total == CASES - 1 or night.result.summary.total == CASES
    assert differences_from_oracle(v3_sandbox) == {}
    assert not night.result.drift  # every element found by what was recorded, on every render's new names
    # The save in place was waited for, not timed out and retried: one attempt per case.
    assert all(item.attempts == 1 for item in night.items)


def test_the_script_clicks_what_an_admin_reads_never_a_generated_name() -> None:
    script = yaml.safe_load(CLICKS.read_text(encoding="utf-8"))
    assert "name=" not in CLICKS.read_text(encoding="utf-8")
    assert set(script["screens"]) >= {"login", "inbox", "calc_form", "decision"}
