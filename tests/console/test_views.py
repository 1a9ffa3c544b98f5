"""The console's pages' data, from a real SQLite store with two nights in it (tests/console/seed.py)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.console import views
from bot.schedule.pause import pause_scheduler
from bot.schedule.requests import beat
from bot.store import SqliteStore, Store
from tests.console.seed import PNRS, Seeded, seed, write_schedules

# A personnummer with its last four digits: 10 or 12 digits, with or without the dash (or a plus).
UNMASKED_PNR = re.compile(r"(?<!\d)(?:\d{2})?\d{6}[-+]?\d{4}(?!\d)")
LEASE_S = 120.0


@pytest.fixture(scope="module")
def seeded_once(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed(tmp_path_factory.mktemp("console-views"))


@pytest.fixture
def store(seeded_once: Seeded) -> Iterator[Store]:
    """The module's store, read only (tests that change it seed their own)."""
    with SqliteStore(seeded_once.store_path, clock=seeded_once.clock) as opened:
        yield opened


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[Seeded, Store]]:
    seeded = seed(tmp_path)
    with SqliteStore(seeded.store_path, clock=seeded.clock) as opened:
        yield seeded, opened


def assert_no_pnr(view: object) -> None:
    found = UNMASKED_PNR.findall(repr(view))
    assert not found, found


def test_the_nights_show_the_stores_counts_duration_throughput_and_drift(seeded_once: Seeded, store: Store) -> None:
    view = views.nights_view(store, now=seeded_once.clock.now)
    assert [n.run_id for n in view.nights] == [seeded_once.run2, seeded_once.run1]
    for night in view.nights:
        summary = store.run_summary(night.run_id)
        assert night.total == summary.total
        assert (night.auto, night.partial, night.manual) == tuple(summary.by_outcome.get(o, 0)
                                                                  for o in ("auto", "partial", "manual"))
        assert night.failed == summary.by_state.get("failed", 0)
        assert night.open == summary.open
    first = view.nights[1]
    assert (first.total, first.auto, first.partial, first.manual, first.failed, first.open) == (5, 1, 1, 1, 2, 0)
    assert first.duration_s == 600.0 and first.throughput_per_min == 0.5  # 5 cases in 10 minutes
    assert first.drift == 2  # one at the preflight, one during a case
    assert view.running is not None and view.running.run_id == seeded_once.run2
    # A running night is timed up to now.
    assert view.running.ended is None
    assert view.running.duration_s == (seeded_once.clock.now - view.running.started).total_seconds()
    assert view.running.finished == 1 and view.running.open == 4
    assert_no_pnr(view)


def test_the_live_panel_follows_the_night_and_judges_workers_by_their_process(fresh: tuple[Seeded, Store]) -> None:
    seeded, store = fresh
    now = seeded.clock.now
    live = views.live_view(store, now, LEASE_S)
    assert live.run_id == seeded.run2 and (live.finished, live.total, live.in_progress) == (1, 5, 2)
    by_id = {w.id: w for w in live.workers}
    assert by_id[seeded.live_worker].condition == "working" and by_id[seeded.live_worker].case_id == "EB-7"
    assert by_id[seeded.live_worker].done == 1
    # Heard from 30 s ago, well within the lease, but its process is gone: LOST, never working.
    assert by_id[seeded.dead_worker].condition == "LOST" and by_id[seeded.dead_worker].case_id == "EB-6"
    item = store.claim_next(seeded.run2, seeded.live_worker, 300)
    assert item is not None and item.case_id == "EB-8"
    store.complete(item, "partial", amount=10, pnr=PNRS["EB-8"])
    after = views.live_view(store, now, LEASE_S)
    assert (after.finished, after.partial) == (2, 1)
    assert {w.id: w.done for w in after.workers}[seeded.live_worker] == 2
    store.finish_run(seeded.run2, "finished")
    assert views.live_view(store, now, LEASE_S).run_id is None


def test_a_runs_cases(seeded_once: Seeded, store: Store) -> None:
    view = views.run_view(store, seeded_once.run1, now=seeded_once.clock.now)
    assert view is not None
    rows = {c.case_id: c for c in view.cases}
    assert [rows[c].outcome for c in ("EB-1", "EB-2", "EB-3", "EB-4", "EB-5")] == [
        "auto", "partial", "manual", "failed", "failed"]
    assert rows["EB-1"].outcome_label == "Klar för signering" and rows["EB-1"].amount == 8123
    assert rows["EB-1"].masked_pnr == "19850312-XXXX" and rows["EB-1"].caseworker == "Handläggare Ett"
    assert rows["EB-3"].masked_pnr is None  # forgotten: a protected identity
    assert rows["EB-4"].error_code == "SELECTOR_MISSING" and rows["EB-4"].attempts == 1
    assert rows["EB-1"].duration_ms == 16_000  # eight checkpoints two seconds apart
    assert view.night.total == 5
    assert_no_pnr(view)
    assert views.run_view(store, "no-such-run") is None


def test_a_failed_cases_timeline_runbook_history_and_artefacts(seeded_once: Seeded, store: Store) -> None:
    item_id = seeded_once.item(seeded_once.run1, "EB-4")
    view = views.case_view(store, item_id, seeded_once.config, True, now=seeded_once.clock.now)
    assert view is not None
    assert [s.step for s in view.steps] == ["collect", "triage"]
    assert [s.since_previous_s for s in view.steps] == [2.0, 2.0]
    assert view.error is not None and view.error.code == "SELECTOR_MISSING"
    assert view.error.runbook == "runbooks/SELECTOR_MISSING.md"
    assert view.error.summary and view.error.summary.startswith("Element saknas")
    assert view.error.runbook_html is not None and "<h3>SELECTOR_MISSING" in view.error.runbook_html
    assert "casebot check-selectors" in view.error.runbook_html
    assert view.error.message == "no strategy found park for 770707-XXXX"
    assert [e.code for e in view.events] == ["SELECTOR_MISSING"] and "770707-XXXX" in view.events[0].message
    assert [(h.run_id, h.outcome) for h in view.history] == [(seeded_once.run2, "auto")]
    assert view.retryable and not view.held and not view.protected
    # Within retention: two screenshots and a trace; the older screenshot (20 d > 14) and trace (9 d > 7) are
    # gone from the list, as are another case's file and a file that is neither.
    assert sorted(a.name for a in view.artefacts) == [
        "EB-4-20241201T003000-casesystem-trace.zip", "EB-4-20241201T003000-casesystem.png",
        "desktop-EB-4-20241201T003001.png"]
    assert {a.kind for a in view.artefacts} == {"screenshot", "trace"}
    assert all(a.path.parent == seeded_once.artefacts for a in view.artefacts)
    assert view.artefacts_note is None
    hidden = views.case_view(store, item_id, seeded_once.config, False, now=seeded_once.clock.now)
    assert hidden is not None and hidden.artefacts == [] and hidden.artefacts_note
    assert_no_pnr(view)


def test_a_protected_identity_never_shows_artefacts(seeded_once: Seeded, store: Store) -> None:
    view = views.case_view(store, seeded_once.item(seeded_once.run1, "EB-3"), seeded_once.config, True,
                           now=seeded_once.clock.now)
    assert view is not None and view.protected
    assert (seeded_once.artefacts / "EB-3-20241201T003000-casesystem.png").is_file()  # it is there ...
    assert view.artefacts == []  # ... and not listed
    assert view.artefacts_note is not None and "Skyddad identitet" in view.artefacts_note
    assert [r.code for r in view.reasons] == ["PROTECTED_IDENTITY"]
    assert view.item.outcome_label == "Manuell handläggning" and not view.retryable
    assert view.error is not None and view.error.runbook is None  # a triage code has no runbook


def test_a_protected_reason_alone_hides_artefacts(fresh: tuple[Seeded, Store]) -> None:
    # The personnummer is still there (the case failed before the robot forgot it), but its triage checkpoint
    # found a protected identity.
    seeded, store = fresh
    item = store.claim_next(seeded.run2, seeded.live_worker, 300)
    assert item is not None and item.case_id == "EB-8"
    store.checkpoint(item, "triage", {"reasons": [{"code": "PROTECTED_IDENTITY", "text": "Skyddade"}]})
    store.fail(item, "PORTAL_DOWN", "down", retryable=False, max_attempts=1)
    folder = seeded.config.data_dir / "artifacts"
    shutil.copy(folder / "EB-4-20241201T003000-casesystem.png", folder / "EB-8-20241202T003000-fk.png")
    view = views.case_view(store, item.id, seeded.config, True, now=seeded.clock.now)
    assert view is not None and view.item.masked_pnr == "19900909-XXXX"
    assert view.protected and view.artefacts == []


def test_a_held_case_and_a_partial_cases_reasons_and_empty_fields(seeded_once: Seeded, store: Store) -> None:
    held = views.case_view(store, seeded_once.item(seeded_once.run1, "EB-5"), seeded_once.config, False)
    assert held is not None and held.held and held.retryable
    assert held.error is not None and held.error.runbook_html is not None
    partial = views.case_view(store, seeded_once.item(seeded_once.run1, "EB-2"), seeded_once.config, False)
    assert partial is not None and partial.error is None
    assert [(r.code, r.text) for r in partial.reasons] == [
        ("NORM_FIGURE_MISSING", "Riksnormen saknas för sökande 19900101-XXXX")]
    assert partial.empty_fields == [("norm_personliga", "Personliga kostnader (riksnorm)")]
    assert len(partial.steps) == 2 and partial.steps[0].since_previous_s == 2.0
    assert views.case_view(store, 99_999, seeded_once.config, True) is None


def test_workers_alive_and_lost_with_their_leases(seeded_once: Seeded, store: Store) -> None:
    now = seeded_once.clock.now
    view = views.workers_view(store, now, LEASE_S)
    by_id = {w.id: w for w in view.workers}
    assert (view.alive, view.lost) == (1, 1)
    live, dead = by_id[seeded_once.live_worker], by_id[seeded_once.dead_worker]
    assert (live.condition, live.case_id, live.heartbeat_age_s) == ("working", "EB-7", 30.0)
    assert (dead.condition, dead.case_id) == ("LOST", "EB-6")
    assert dead.lease_until is not None and dead.lease_left_s == (dead.lease_until - now).total_seconds()
    assert dead.pid is not None and dead.pid != live.pid
    assert view.hosts == [live.host]
    # A day later nobody is alive: the live worker's heartbeat is older than a lease.
    later = views.workers_view(store, now + timedelta(hours=2), LEASE_S)
    assert later.alive == 0 and all(w.condition != "working" for w in later.workers)


def test_schedules_next_fires_blackouts_skips_and_pause(fresh: tuple[Seeded, Store], tmp_path: Path) -> None:
    seeded, store = fresh
    folder = write_schedules(tmp_path / "schedules")
    view = views.schedules_view(seeded.config, store, seeded.clock.now, schedules_dir=folder, count=25)
    assert view.problem is None and view.paused is None
    (job,) = view.jobs
    assert (job.name, job.cron, job.timezone, str(job.window_until)) == ("natt", "0 1 * * *", "Europe/Stockholm",
                                                                         "05:30:00")
    days = [f.date().isoformat() for f in job.next_fires]
    assert days[0] == "2024-12-03"  # 01:00 Stockholm on the 2nd had passed (now: 01:01 Stockholm)
    assert all(f.hour == 1 and f.minute == 0 for f in job.next_fires) and len(days) == 25
    assert not {"2024-12-24", "2024-12-25", "2024-12-27"} & set(days)
    assert [(s.at.date().isoformat(), s.why) for s in job.skipped_days] == [
        ("2024-12-24", "Julafton"), ("2024-12-25", "Juldagen"), ("2024-12-27", "stängt enligt schemat")]
    assert [(f.outcome, f.detail) for f in view.skipped] == [
        ("not_leader", "another host's scheduler leads"), ("blackout", "2024-12-24: Julafton")]
    assert [(f.outcome, f.run_id) for f in view.fired] == [("ran", seeded.run2)]
    pause_scheduler(store, "drift1", "patchning av databasen", now=seeded.clock.now)
    paused = views.schedules_view(seeded.config, store, seeded.clock.now, schedules_dir=folder).paused
    assert paused is not None and (paused.by, paused.reason) == ("drift1", "patchning av databasen")
    # Whether a scheduler is there to take the fires: its heartbeat, and silence once it is 30 s old.
    assert view.heard is None
    beat(store, "robot1:4711", seeded.clock.now)
    heard = views.schedules_view(seeded.config, store, seeded.clock.now, schedules_dir=folder).heard
    assert heard is not None and heard["owner"] == "robot1:4711"
    later = seeded.clock.now + timedelta(seconds=31)
    assert views.schedules_view(seeded.config, store, later, schedules_dir=folder).heard is None


def test_a_broken_schedule_file_is_shown_not_raised(seeded_once: Seeded, store: Store, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("jobs:\n  - name: x\n    cron: 'not a cron'\n", encoding="utf-8")
    view = views.schedules_view(seeded_once.config, store, seeded_once.clock.now, schedules_dir=tmp_path)
    assert view.jobs == [] and view.problem is not None and "bad.yaml" in view.problem


def test_drift_from_the_nights_preflight_with_the_next_step(seeded_once: Seeded, store: Store) -> None:
    view = views.drift_view(store)
    assert (view.source, view.run_id) == ("run", seeded_once.run2)
    assert [(d.kind, d.portal, d.screen, d.element) for d in view.preflight] == [
        ("drift", "fk", "login", "user"), ("broken", "csn", "search", "pnr")]
    (broken,) = view.broken
    assert "casebot check-selectors" in broken.next_step and "casebot record csn search" in broken.next_step
    assert view.drifted[0].next_step.startswith("works for now")
    assert view.runbook == "runbooks/SELECTOR_MISSING.md"
    assert view.runbook_html is not None and "casebot record" in view.runbook_html
    assert view.during_night == []  # the running night met none yet


def test_drift_from_a_console_preflight_and_a_clean_one_after(fresh: tuple[Seeded, Store]) -> None:
    seeded, store = fresh
    seeded.clock.advance(600)
    store.record_audit("admin1", "admin", "run_preflight", result="ok")
    seeded.clock.advance(40)
    store.record_event(None, "WARNING", "selector drift at preflight: af/search/pnr found by text",
                       code="SELECTOR_DRIFT", data={"kind": "drift", "portal": "af", "screen": "search",
                                                    "element": "pnr", "strategy": "text"})
    view = views.drift_view(store)
    assert view.source == "console" and view.run_id is None
    assert [(d.kind, d.portal) for d in view.preflight] == [("drift", "af")]
    seeded.clock.advance(3600)
    store.record_audit("admin1", "admin", "run_preflight", result="ok")
    clean = views.drift_view(store)
    assert clean.source == "console" and clean.preflight == [] and clean.at == seeded.clock.now


def test_the_automation_rate_counts_each_application_once(seeded_once: Seeded, store: Store) -> None:
    view = views.automation_view(store, seeded_once.config, seeded_once.clock.now, months=2)
    assert [m.month for m in view.rate.months] == ["2024-11", "2024-12"]
    december = view.rate.months[1]
    # EB-4 failed in the first night and was prepared in the second: its latest item counts.
    assert (december.full, december.partial, december.manual, december.failed, december.open) == (2, 1, 1, 1, 4)
    bar = view.bars[1]
    assert (bar.full, bar.partial, bar.manual, bar.failed) == (40.0, 20.0, 20.0, 20.0)
    assert view.bars[0].full == 0.0
    assert view.minutes_saved == 2 * 20 + 1 * 8 and view.saved_text == "48 min"
    assert view.rate.assumption
