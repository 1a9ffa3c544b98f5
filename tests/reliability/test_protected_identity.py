"""Protected identity (skyddade personuppgifter): such a person's data exists in as few copies as possible.

A failing attempt keeps screenshots and, on retry, a Playwright trace for the operator. Not for a case whose
household has a protected identity: no trace, no screenshot, and its morning-report row carries the case number
only. The other cases of the same night, failing the same way, are the control: they do keep their artefacts.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.browser.worker import WorkerBrowser
from bot.chaos import FAIL_AT_ENV
from bot.dev.sandbox import differences_from_oracle, sandbox_config, sandbox_environ
from bot.report.morning import CASE_HEADERS, CASES_SHEET
from bot.run.entry import run_once
from tests.artefacts import artefact_texts
from tests.sandbox_proc import start_sandbox

MASKED_PNR = re.compile(r"\d{6,8}-?(XXXX|\*{4})")


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_a_protected_case_leaves_no_trace_screenshot_or_personnummer(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    box = start_sandbox(tmp_path / "sandbox", cases=3, seed=43)
    try:
        expected = box.admin_get("casesystem", "/_admin/expected")
        assert isinstance(expected, list)
        (protected,) = [e["case_id"] for e in expected if e["kind"] == "protected_identity"]
        others = sorted(e["case_id"] for e in expected if e["case_id"] != protected)
        config = sandbox_config(tmp_path / "robot", box, workers=1, preflight={"enabled": False},
                                retries={"max_attempts": 2, "backoff_base_s": 0.2})
        artifacts = config.data_dir / "artifacts"

        # Night 1: every attempt fails just after triage (the household is known, protection included).
        monkeypatch.setenv(FAIL_AT_ENV, "triage")
        failing = asyncio.run(run_once(config, environ=sandbox_environ(), console=False))
        monkeypatch.delenv(FAIL_AT_ENV)
        assert failing.exit_code == 1
        assert {(i.case_id, i.state, i.attempts) for i in failing.items} == {
            (case_id, "failed", 2) for case_id in [protected, *others]}
        kept = sorted(p.name for p in artifacts.rglob("*") if p.is_file())
        for case_id in others:  # the control: a failing case keeps screenshots and its retry's trace
            assert any(n.startswith(f"{case_id}-") and n.endswith(".png") for n in kept), kept
            assert any(n.startswith(f"{case_id}-") and n.endswith("-trace.zip") for n in kept), kept
        assert not [n for n in kept if protected in n]

        # Night 2: all well; the protected case goes to manual handling, its report row without personnummer.
        night = asyncio.run(run_once(config, environ=sandbox_environ(), console=False))
        assert night.exit_code == 0 and differences_from_oracle(box) == {}
        sheet = load_workbook(night.report_path)[CASES_SHEET]
        rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
        pnr_column = CASE_HEADERS.index("Personnummer")
        assert rows[protected][pnr_column] is None
        assert not any(MASKED_PNR.search(str(v)) for v in rows[protected] if v is not None)
        assert all(rows[case_id][pnr_column] for case_id in others)  # the others do carry the masked number

        with sqlite3.connect(box.data_dir / "sandbox.db") as conn:
            pnrs = [r[0] for r in conn.execute("SELECT pnr FROM cs_household WHERE case_id = ?", (protected,))]
        for path, text in artefact_texts(config).items():
            for pnr in pnrs:
                assert pnr not in text and f"{pnr[:8]}-{pnr[8:]}" not in text, path
    finally:
        box.stop()


def test_artefacts_of_an_attempt_before_protection_was_known_are_deleted(tmp_path: Path) -> None:
    folder = tmp_path / "artifacts"
    folder.mkdir()
    for name in ("EB-2024-0001-20241201T010203-fk.png", "EB-2024-0001-20241201T010203-skv-trace.zip",
                 "EB-2024-00010-20241201T010203-fk.png"):
        (folder / name).write_bytes(b"x")
    worker = WorkerBrowser(browser=None, worker_id="w1", artifacts_dir=folder)  # type: ignore[arg-type]
    gone = worker.forget_case("EB-2024-0001")
    assert sorted(p.name for p in gone) == ["EB-2024-0001-20241201T010203-fk.png",
                                            "EB-2024-0001-20241201T010203-skv-trace.zip"]
    assert [p.name for p in folder.iterdir()] == ["EB-2024-00010-20241201T010203-fk.png"]
