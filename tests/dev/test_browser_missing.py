"""A machine without Chromium (install.sh not run yet): the command says in one line what to install, no
traceback."""

from __future__ import annotations

import pytest

from bot.cli import main


def test_the_demo_without_a_browser_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CASEBOT_CHROMIUM", "/nonexistent/chromium")
    assert main(["demo", "--cases", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("casebot: Chromium not found at /nonexistent/chromium: apt-get install chromium "
                              "chromium-headless-shell")
    assert not any("Traceback" in line for line in err)
