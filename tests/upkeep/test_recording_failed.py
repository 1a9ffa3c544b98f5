"""The recorder's own failures carry their code and runbook (RECORDING_FAILED), not a configuration error's."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from bot.errors import ErrorCode
from bot.paths import SELECTORS_DIR
from bot.selectors.load import load_all
from bot.upkeep.record import RecordingError, record_portal


def test_a_screen_the_file_does_not_have_is_recording_failed_with_its_runbook() -> None:
    selectors = load_all(SELECTORS_DIR)["casesystem"]
    driver = SimpleNamespace(portal="casesystem", selectors=selectors)  # only what the first check reads
    with pytest.raises(RecordingError) as caught:
        asyncio.run(record_portal(driver, None, ["kalkyl"], script=None, interactive=False,  # type: ignore[arg-type]
                                  say=print))
    error = caught.value
    assert error.code is ErrorCode.RECORDING_FAILED and not error.retryable
    assert "selectors/casesystem.yaml has no screen kalkyl" in str(error)
    assert str(error).endswith("runbook: runbooks/RECORDING_FAILED.md")
