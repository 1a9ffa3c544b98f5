"""A period whose year has no riksnorm table stops the night before its first case (NORM_TABLE_MISSING), with
nothing touched in the case system: every case of that month would fail the same way."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.calc.norms import NormTables, load_norms
from bot.credentials import resolve_all
from bot.dev.sandbox import Sandbox, sandbox_config, sandbox_environ
from bot.errors import ErrorCode
from bot.run.night import Night, RunOptions
from bot.store import SqliteStore
from tests.sandbox_proc import https_get

pytestmark = pytest.mark.browser


def test_a_year_without_a_table_stops_the_night_before_the_first_case(sandbox: Sandbox, tmp_path: Path) -> None:
    config = sandbox_config(tmp_path, sandbox, workers=1)
    period = sandbox.admin_get("casesystem", "/_admin/inbox")[0]["period"]  # type: ignore[index]
    year = int(period[:4])
    known = load_norms()
    without = NormTables({t.year: t for t in known.tables() if t.year != year})
    audit_before = len(https_get(sandbox.url("casesystem", "/_admin/audit"), timeout=30).json())
    store = SqliteStore(tmp_path / "store.db")
    try:
        night = Night(config, store, resolve_all(config, sandbox_environ()), norms=without,
                      options=RunOptions(run_id="no-table"))
        result = asyncio.run(night.run())
        assert result.stopped_by is not None and result.stopped_by.code == ErrorCode.NORM_TABLE_MISSING
        assert f"no riksnorm table for {year} (period {period})" in str(result.stopped_by)
        assert "runbooks/NORM_TABLE_MISSING.md" in str(result.stopped_by)
        assert store.items("no-table") == []  # no case taken, none to resume wrongly
        events = [e for e in store.events("no-table") if e.code == "NORM_TABLE_MISSING"]
        assert events and events[0].level == "CRITICAL" and events[0].data["step"] == "preflight"
        assert store.get_run("no-table").status == "failed"
    finally:
        store.close()
    audit_after = https_get(sandbox.url("casesystem", "/_admin/audit"), timeout=30).json()
    assert len(audit_after) == audit_before  # nothing written in the case system
