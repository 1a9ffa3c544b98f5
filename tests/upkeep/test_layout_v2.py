"""Issue 5's "done when": every portal upgraded to layout v2 at once.

- `check-selectors` names exactly the elements no fallback finds, and the night stops at preflight without
  touching a case;
- re-recording those screens (the clicks scripted, captured in a real headed Chromium under Xvfb) repairs the
  selector files; the next night completes every case as the oracle expects and reports the healed elements.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.config import Config, write_config
from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_config, sandbox_environ
from bot.errors import ErrorCode
from bot.paths import SELECTORS_DIR
from bot.report.morning import EVENTS_SHEET
from bot.run.entry import run_once
from bot.upkeep.record import load_script
from tests.sandbox_proc import shared_client, start_sandbox

CLICKS = Path(__file__).parent / "v2_clicks"
PORTALS = ("casesystem", "skv", "fk", "af", "csn")

# What v2 changes beyond every fallback (docs/sandbox-*.md, "v1 → v2"): a link instead of the park button, a
# renamed manual button, a save button renamed with its test id gone from v1's list, columns renamed, a list of
# cards instead of a table, a table of row headers instead of a definition list, a button instead of a link.
BROKEN_IN_V2 = {
    "casesystem/decision/park", "casesystem/decision/manual",
    "skv/result/residents.columns.pnr", "skv/result/residents.columns.registered_from",
    "fk/result/payments",
    "af/status/registered", "af/status/activity", "af/status/registered_from",
    "csn/result/download",
}
PNR = re.compile(r"(19|20)\d{6}-?\d{4}")


@pytest.fixture(scope="module")
def v2_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = start_sandbox(tmp_path_factory.mktemp("v2-sandbox"), cases=8, seed=11)
    try:
        for portal in PORTALS:
            box.set_knobs(portal, layout="v2")
        yield box
    finally:
        box.stop()


@pytest.fixture
def robot(tmp_path: Path, v2_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Config:
    """A robot with its own copy of the v1 selector files, its config on disk, passwords in the environment."""
    selectors = tmp_path / "selectors"
    shutil.copytree(SELECTORS_DIR, selectors)
    config = sandbox_config(tmp_path / "robot", v2_sandbox, workers=2, selectors_dir=str(selectors),
                            timeouts={"element_s": 5})  # localhost answers at once: a missing element is missing
    write_config(config, tmp_path / "config.yaml")
    for key, value in sandbox_environ().items():
        monkeypatch.setenv(key, value)
    return config.model_copy(update={"source": tmp_path / "config.yaml"})


def _broken_rows(output: str) -> set[str]:
    rows = (line.split() for line in output.splitlines())
    return {"/".join(r[:3]) for r in rows if len(r) >= 4 and r[3] == "broken"}


def _robot_audit(box: Sandbox) -> list[dict[str, object]]:
    rows = box.admin_get("casesystem", "/_admin/audit")
    assert isinstance(rows, list)
    return [r for r in rows if r["username"] == "robot"]


@pytest.mark.browser
def test_v2_stops_at_preflight_naming_exactly_the_broken_elements(
        robot: Config, v2_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-selectors", "--config", str(robot.source), "--problems"]) == 1
    printed = capsys.readouterr().out
    assert _broken_rows(printed) == BROKEN_IN_V2
    assert "healed" in printed  # the fallbacks that do find v2's elements are listed, not hidden

    night = asyncio.run(run_once(robot, console=False))
    assert night.exit_code == 2
    assert night.result.stopped_by is not None and night.result.stopped_by.code is ErrorCode.PREFLIGHT_FAILED
    assert all(where in str(night.result.stopped_by) for where in BROKEN_IN_V2)
    assert night.items == []  # not one case was even taken
    assert _robot_audit(v2_sandbox) == []  # and nothing was written anywhere in the case system

    sheet = load_workbook(night.report_path)[EVENTS_SHEET]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    named = {f"{r['Portal']}/{r['Skärm']}/{r['Element']}" for r in rows if r["Felkod"] == "SELECTOR_MISSING"}
    assert named == BROKEN_IN_V2
    assert any(r["Felkod"] == "PREFLIGHT_FAILED" and r["Runbook"] == "runbooks/PREFLIGHT_FAILED.md" for r in rows)


@pytest.mark.browser
def test_rerecording_the_broken_screens_repairs_the_files_and_the_next_night_passes(
        robot: Config, v2_sandbox: Sandbox, tmp_path: Path, xvfb_display: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    recordings = tmp_path / "recordings"
    selectors = Path(str(robot.selectors_dir))
    for portal in PORTALS:
        script = CLICKS / f"{portal}.yaml"
        screens = list(load_script(script).screens)
        code = main(["record", portal, *screens, "--config", str(robot.source), "--script", str(script), "--yes",
                     "--layout", "v2", "--by", "test-admin", "--recordings", str(recordings)])
        assert code == 0, capsys.readouterr()
        assert "+layout: v2" in capsys.readouterr().out  # the diff was shown before saving

    made = sorted(recordings.glob("*.json"))
    assert [p.name.split("-")[0] for p in made] == sorted(PORTALS)
    for path in made:
        recording = json.loads(path.read_text())
        assert recording["saved"] and recording["by"] == "test-admin" and recording["mode"] == "script"
        for click in recording["clicks"]:
            chosen = [c for c in click["candidates"] if c["chosen"]]
            assert chosen and all(c["matches"] == 1 and c["is_clicked"] for c in chosen)
    for artefact in [*made, *selectors.glob("*.yaml")]:
        assert not PNR.search(artefact.read_text()), f"a personnummer in {artefact}"

    assert main(["check-selectors", "--config", str(robot.source)]) == 0
    printed = capsys.readouterr().out
    assert _broken_rows(printed) == set()
    for element in BROKEN_IN_V2:
        portal, screen, name = element.split("/")
        assert any(line.split()[:4] == [portal, screen, name, "ok"] for line in printed.splitlines()), element

    night = asyncio.run(run_once(robot, console=False))
    assert night.exit_code == 0, [(i.case_id, i.last_error_code, i.last_error_message) for i in night.items]
    assert night.result.summary.total == 8
    assert differences_from_oracle(v2_sandbox) == {}
    assert night.result.drift  # the screens not re-recorded still work by their fallbacks, and say so
    reference = v2_sandbox.reference()["reference_case"]
    assert not [r for r in _robot_audit(v2_sandbox) if r["case_id"] == reference]
    with shared_client() as client:  # the reference case is only ever looked at
        case = client.get(v2_sandbox.url("casesystem", f"/_admin/cases/{reference}")).json()
    assert case["status"] == "under_behandling"
