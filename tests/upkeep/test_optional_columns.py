"""An inbox column the robot can do without (the caseworker) that a screen no longer shows is "not shown" at
preflight, so the night starts; a column it needs (the status) that is gone is broken, and the night must not start.
An older module's inbox is the case: it never had a caseworker column, while the selector file lists one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bot.cli import main
from bot.config import Config, write_config
from bot.dev.sandbox import Sandbox, sandbox_config
from bot.paths import SELECTORS_DIR
from tests.own_sandbox import own_sandbox, robot_passwords

pytestmark = pytest.mark.browser

box = own_sandbox(cases=3, seed=23)


def _robot(tmp_path: Path, sandbox: Sandbox, column: str) -> Config:
    """A robot whose casesystem.yaml looks for `column` of the inbox under a header no screen shows."""
    selectors = tmp_path / "selectors"
    shutil.copytree(SELECTORS_DIR, selectors)
    yaml = YAML()
    path = selectors / "casesystem.yaml"
    data = yaml.load(path.read_text(encoding="utf-8"))
    data["screens"]["inbox"]["elements"]["table"]["columns"][column] = ["Kolumn som inte finns"]
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    config = sandbox_config(tmp_path / "robot", sandbox, selectors_dir=str(selectors), timeouts={"element_s": 5})
    write_config(config, tmp_path / "config.yaml")
    return config.model_copy(update={"source": tmp_path / "config.yaml"})


def _row(printed: str, element: str) -> list[str]:
    return next(line.split() for line in printed.splitlines() if line.split()[:3] == ["casesystem", "inbox", element])


def test_a_missing_optional_column_is_not_shown_and_the_check_passes(
        box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    robot_passwords(monkeypatch)
    robot = _robot(tmp_path, box, "caseworker")
    assert main(["check-selectors", "--config", str(robot.source)]) == 0
    printed = capsys.readouterr().out
    assert _row(printed, "table.columns.caseworker")[3:5] == ["not", "shown"]
    assert _row(printed, "table.columns.status")[3] == "ok"


def test_a_missing_required_column_is_broken(
        box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    robot_passwords(monkeypatch)
    robot = _robot(tmp_path, box, "status")
    assert main(["check-selectors", "--config", str(robot.source)]) == 1
    assert _row(capsys.readouterr().out, "table.columns.status")[3] == "broken"
