"""The recorder's own failures carry their code and runbook (RECORDING_FAILED), not a configuration error's."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from bot.drivers.casesystem import CaseSystem
from bot.errors import ErrorCode
from bot.paths import SELECTORS_DIR
from bot.selectors.load import load_all
from bot.upkeep.record import RecordingError, record_portal


def test_a_screen_the_file_does_not_have_is_recording_failed_with_its_runbook() -> None:
    selectors = load_all(SELECTORS_DIR)["casesystem"]
    # Only what the first check reads: the file's screens and the screens the driver's code uses.
    driver = SimpleNamespace(portal="casesystem", selectors=selectors, needs=CaseSystem.needs)
    with pytest.raises(RecordingError) as caught:
        asyncio.run(record_portal(driver, None, ["kalkyl"], script=None, interactive=False,  # type: ignore[arg-type]
                                  say=print))
    error = caught.value
    assert error.code is ErrorCode.RECORDING_FAILED and not error.retryable
    assert "casesystem has no screen kalkyl" in str(error) and "calc_form" in str(error)
    assert str(error).endswith("runbook: runbooks/RECORDING_FAILED.md")
