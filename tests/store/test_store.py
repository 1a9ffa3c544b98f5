from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.errors import ErrorCode, SystemException
from bot.masking import masked_names
from bot.store import LeaseExpired, NewWorkItem, SqliteStore, Store, open_store
from tests.clock import FakeClock

PERIOD = "2024-12"


def cases(n: int, start: int = 1) -> list[NewWorkItem]:
    return [NewWorkItem(f"EB-2024-{i:05d}", PERIOD) for i in range(start, start + n)]


def claim_all(url: str, run_id: str, worker: str, barrier: Any) -> list[str]:
    claimed = []
    with open_store(url) as s:
        barrier.wait()
        while (item := s.claim_next(run_id, worker, lease_seconds=600)) is not None:
            claimed.append(item.case_id)
            time.sleep(0.001)  # "work": without it, the first worker to get the lock drains the queue alone
    return claimed


def test_claims_are_exclusive_across_threads(url: str) -> None:
    with open_store(url) as s:
        run = s.open_run()
        s.add_work_items(run.id, cases(120))
    barrier = threading.Barrier(4)
    results: dict[str, list[str]] = {}

    def work(name: str) -> None:
        results[name] = claim_all(url, run.id, name, barrier)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    claimed = [c for r in results.values() for c in r]
    assert len(claimed) == 120 and len(set(claimed)) == 120
    # They really competed. (Not "every thread won some": SQLite's busy wait is not fair, and need not be.)
    assert sum(1 for r in results.values() if r) >= 2


def _process_worker(url: str, run_id: str, worker: str, barrier: Any, out: Any) -> None:
    out.put((worker, claim_all(url, run_id, worker, barrier)))


def test_claims_are_exclusive_across_processes(url: str) -> None:
    with open_store(url) as s:
        run = s.open_run()
        s.add_work_items(run.id, cases(60))
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(url, run.id, f"p{i}", barrier, out)) for i in range(2)]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    claimed = results["p0"] + results["p1"]
    assert sorted(claimed) == sorted(c.case_id for c in cases(60))
    with open_store(url) as s:
        items = s.items(run.id)
        assert {i.lease_owner for i in items} <= {"p0", "p1"}
        assert all(i.state == "in_progress" and i.attempts == 1 for i in items)


def test_add_work_items_is_idempotent_and_claims_go_in_order(store: Store) -> None:
    run = store.open_run()
    assert store.add_work_items(run.id, cases(3)) == 3
    assert store.add_work_items(run.id, cases(4)) == 1
    assert [store.claim_next(run.id, "w").case_id for _ in range(4)] == [c.case_id for c in cases(4)]  # type: ignore[union-attr]
    assert store.claim_next(run.id, "w") is None


def test_an_expired_lease_is_reclaimed_and_the_old_worker_is_shut_out(url: str, clock: FakeClock) -> None:
    with open_store(url, clock=clock) as a, open_store(url, clock=clock) as b:
        run = a.open_run()
        a.add_work_items(run.id, cases(1))
        mine = a.claim_next(run.id, "host:1:w1", lease_seconds=60)
        assert mine is not None
        clock.advance(30)
        assert b.claim_next(run.id, "host:2:w1", lease_seconds=60) is None  # still leased
        mine = a.heartbeat(mine, lease_seconds=60)  # renewed at t=30 until t=90
        clock.advance(59)
        assert b.claim_next(run.id, "host:2:w1", lease_seconds=60) is None
        clock.advance(2)
        theirs = b.claim_next(run.id, "host:2:w1", lease_seconds=60)
        # The cut-off attempt was given back and counted as a crash: this is still the first real attempt.
        assert theirs is not None and theirs.id == mine.id and (theirs.attempts, theirs.crashes) == (1, 1)
        for stale_write in (lambda: a.checkpoint(mine, "collect", {}), lambda: a.complete(mine, "auto"),
                            lambda: a.heartbeat(mine)):
            with pytest.raises(LeaseExpired) as caught:
                stale_write()
            assert caught.value.code is ErrorCode.LEASE_EXPIRED
        b.complete(theirs, "auto", amount=100)
        [event] = b.events(run.id)
        assert (event.code, event.level, event.case_id) == ("LEASE_EXPIRED", "WARNING", mine.case_id)
        assert "lease of host:1:w1 expired" in event.message and event.data["crashes"] == 1


# -- crashes and quarantine ---------------------------------------------------------------------------------
def test_a_crash_gives_the_attempt_back_and_is_counted_apart(store: Store, clock: FakeClock) -> None:
    """Killing the whole robot (found at resume) or a worker that hangs (found when its lease runs out) costs the
    case in hand no retry: the attempt is given back and counted as a crash."""
    run = store.open_run()
    store.add_work_items(run.id, cases(1))
    item = store.claim_next(run.id, "host:1:w1", lease_seconds=10, max_crashes=3)
    assert item is not None and (item.attempts, item.crashes) == (1, 0)
    store.checkpoint(item, "triage", {})
    assert store.release_leases(run.id, max_crashes=3) == 1  # the robot was killed and is started again
    after = store.get_item(item.id)
    assert after is not None and (after.state, after.attempts, after.crashes) == ("new", 0, 1)
    assert (after.lease_owner, after.worked_by, after.step) == (None, "host:1:w1", "triage")
    again = store.claim_next(run.id, "host:2:w1", lease_seconds=10, max_crashes=3)
    assert again is not None and (again.attempts, again.crashes) == (1, 1)
    clock.advance(11)  # this one hangs past its lease
    taken = store.claim_next(run.id, "host:3:w1", lease_seconds=10, max_crashes=3)
    assert taken is not None and (taken.attempts, taken.crashes, taken.lease_owner) == (1, 2, "host:3:w1")
    store.complete(taken, "auto")
    warnings = store.events(run.id, level="WARNING")
    assert [(e.code, e.data["crashes"]) for e in warnings] == [("LEASE_EXPIRED", 1), ("LEASE_EXPIRED", 2)]
    assert "crash 1 of 3" in warnings[0].message and "left in progress by host:1:w1" in warnings[0].message


def test_a_case_that_keeps_crashing_is_quarantined(store: Store, clock: FakeClock) -> None:
    run = store.open_run()
    store.add_work_items(run.id, cases(2))
    doomed = None
    for crash in range(1, 4):
        doomed = store.claim_next(run.id, "w", lease_seconds=10, max_crashes=3)
        assert doomed is not None and doomed.case_id == "EB-2024-00001" and doomed.crashes == crash - 1
        store.checkpoint(doomed, "collect", {})
        if crash == 2:  # a crash is a crash however it is found: the lease running out, or a resume
            clock.advance(11)
        else:
            assert store.release_leases(run.id, max_crashes=3) == 1
        if crash == 1:  # behind the case that did not crash, which is done in between
            other = store.claim_next(run.id, "w", lease_seconds=10, max_crashes=3)
            assert other is not None and other.case_id == "EB-2024-00002"
            store.complete(other, "auto")
    assert store.claim_next(run.id, "w", lease_seconds=10, max_crashes=3) is None  # not taken again
    assert doomed is not None
    item = store.get_item(doomed.id)
    assert item is not None and (item.state, item.last_error_code, item.step) == ("failed", "CASE_QUARANTINED",
                                                                                   "collect")
    assert (item.attempts, item.crashes, item.lease_owner) == (0, 3, None) and item.ended == clock.now
    assert "crash 3 of 3" in (item.last_error_message or "") and "quarantined" in (item.last_error_message or "")
    [error] = store.events(run.id, level="ERROR")
    assert (error.code, error.case_id) == ("CASE_QUARANTINED", item.case_id)
    assert error.data["runbook"] == "runbooks/CASE_QUARANTINED.md" and error.data["crashes"] == 3
    assert not store.has_open_items(run.id)
    assert store.run_summary(run.id).errors_by_code == {"CASE_QUARANTINED": 1}


def test_without_a_limit_crashes_never_quarantine(store: Store) -> None:
    run = store.open_run()
    store.add_work_items(run.id, cases(1))
    for _ in range(5):
        assert store.claim_next(run.id, "w") is not None
        assert store.release_leases(run.id) == 1
    [item] = store.items(run.id)
    assert (item.state, item.attempts, item.crashes) == ("new", 0, 5)


def test_a_real_failure_after_crashes_still_gets_its_retries(store: Store, clock: FakeClock) -> None:
    run = store.open_run()
    store.add_work_items(run.id, cases(1))
    for _ in range(2):
        assert store.claim_next(run.id, "w", max_crashes=3) is not None
        store.release_leases(run.id, max_crashes=3)
    item = store.claim_next(run.id, "w", max_crashes=3)
    assert item is not None and (item.attempts, item.crashes) == (1, 2)
    retried = store.fail(item, ErrorCode.PORTAL_DOWN, "skv: HTTP 503", retryable=True, max_attempts=2)
    assert (retried.state, retried.last_error_code) == ("new", "PORTAL_DOWN")  # its retry, crashes or not
    item = store.claim_next(run.id, "w", max_crashes=3)
    assert item is not None and (item.attempts, item.crashes) == (2, 2)
    final = store.fail(item, ErrorCode.PORTAL_DOWN, "skv: HTTP 503", retryable=True, max_attempts=2)
    assert (final.state, final.last_error_code) == ("failed", "PORTAL_DOWN")


def test_crashed_items_are_claimed_after_the_others(store: Store, clock: FakeClock) -> None:
    run = store.open_run()
    store.add_work_items(run.id, cases(4))
    first = store.claim_next(run.id, "w1", lease_seconds=10, max_crashes=3)
    second = store.claim_next(run.id, "w2", lease_seconds=600, max_crashes=3)
    assert first is not None and second is not None
    clock.advance(11)  # w1 hung: its item goes behind the two cases nobody started yet
    order = []
    while (item := store.claim_next(run.id, "w3", lease_seconds=600, max_crashes=3)) is not None:
        order.append(item.case_id)
        store.complete(item, "auto")
    assert order == ["EB-2024-00003", "EB-2024-00004", "EB-2024-00001"]
    assert store.release_leases(run.id, max_crashes=3) == 1  # w2's process is gone: the last one again
    last = store.claim_next(run.id, "w3", max_crashes=3)
    assert last is not None and (last.case_id, last.crashes, last.attempts) == ("EB-2024-00002", 1, 1)


# -- cases held for an operator -----------------------------------------------------------------------------
def test_a_held_case_is_left_alone_until_an_operator_releases_it(store: Store, clock: FakeClock) -> None:
    night1 = store.open_run()
    store.add_work_items(night1.id, cases(3))
    bug = store.claim_next(night1.id, "w")
    flaky = store.claim_next(night1.id, "w")
    fine = store.claim_next(night1.id, "w")
    assert bug is not None and flaky is not None and fine is not None
    store.fail(bug, ErrorCode.INTERNAL_ERROR, "KeyError in step triage: 'boende'", retryable=False,
               max_attempts=3, step="triage")
    store.fail(flaky, ErrorCode.PORTAL_DOWN, "down", retryable=False, max_attempts=3)  # tried again next night
    store.complete(fine, "auto")
    store.finish_run(night1.id)
    assert [(i.case_id, i.last_error_code) for i in store.held_items()] == [(bug.case_id, "INTERNAL_ERROR")]
    assert store.release_held(fine.case_id) is None and store.release_held(flaky.case_id) is None

    clock.advance(3600)
    released = store.release_held(bug.case_id, by="operator anna")
    assert released is not None and released.released == clock.now and released.state == "failed"
    assert store.held_items() == []
    [event] = store.events(night1.id, case_id=bug.case_id, level="INFO")
    assert event.code == "CASE_RELEASED" and "released by operator anna after INTERNAL_ERROR" in event.message
    assert "the next run takes it" in event.message

    # The next night takes it; a case fixed by a later item is not held, whatever an earlier one says.
    clock.advance(3600)
    night2 = store.open_run()
    store.add_work_items(night2.id, cases(1))
    again = store.claim_next(night2.id, "w")
    assert again is not None and again.case_id == bug.case_id
    clock.advance(1)
    store.fail(again, ErrorCode.INTERNAL_ERROR, "still broken", retryable=False, max_attempts=3)
    assert [i.id for i in store.held_items()] == [again.id]  # held again: the release was for one more try


def test_a_held_case_of_a_run_still_open_goes_back_to_its_queue(store: Store, clock: FakeClock) -> None:
    run = store.open_run()
    store.add_work_items(run.id, cases(1))
    for _ in range(2):
        assert store.claim_next(run.id, "w", max_crashes=2) is not None
        store.release_leases(run.id, max_crashes=2)
    [item] = store.items(run.id)
    assert (item.state, item.last_error_code) == ("failed", "CASE_QUARANTINED")
    assert [i.id for i in store.held_items()] == [item.id]
    clock.advance(60)
    released = store.release_held(item.case_id, period=PERIOD)
    assert released is not None and (released.state, released.attempts, released.crashes) == ("new", 0, 0)
    assert store.held_items() == [] and store.has_open_items(run.id)
    retry = store.claim_next(run.id, "w", max_crashes=2)
    assert retry is not None and retry.id == item.id and (retry.attempts, retry.crashes) == (1, 0)
    assert store.complete(retry, "auto").state == "done"


# -- outcomes and retries -----------------------------------------------------------------------------------
def test_retryable_failures_wait_for_their_back_off_then_fail_for_good(store: Store, clock: FakeClock) -> None:
    run = store.open_run()
    store.add_work_items(run.id, cases(1))
    item = store.claim_next(run.id, "w")
    assert item is not None
    after = store.fail(item, ErrorCode.PORTAL_DOWN, "skv: HTTP 503", retryable=True, max_attempts=2, retry_in_s=30,
                       step="collect")
    assert (after.state, after.step, after.last_error_code) == ("new", "collect", "PORTAL_DOWN")
    assert after.lease_owner is None and after.worked_by == "w"
    assert store.claim_next(run.id, "w") is None
    clock.advance(30)
    item = store.claim_next(run.id, "w")
    assert item is not None and item.attempts == 2
    assert store.fail(item, "PORTAL_DOWN", "again", retryable=True, max_attempts=2).state == "failed"


def test_a_non_retryable_failure_is_final(store: Store) -> None:
    run = store.open_run()
    store.add_work_items(run.id, cases(1))
    item = store.claim_next(run.id, "w")
    assert item is not None
    assert store.fail(item, "SELECTOR_MISSING", "gone", retryable=False, max_attempts=5).state == "failed"


def test_complete_and_business_exception_record_the_outcome(store: Store, clock: FakeClock) -> None:
    run = store.open_run()
    store.add_work_items(run.id, [NewWorkItem("EB-1", PERIOD, pnr="198501011234"), NewWorkItem("EB-2", PERIOD)])
    first = store.claim_next(run.id, "w")
    assert first is not None
    clock.advance(1.5)
    done = store.complete(first, "partial", amount=4321, reasons=[{"code": "RENT_ABOVE_CAP"}], empty_fields=["boende"])
    assert (done.state, done.outcome, done.amount, done.duration_ms) == ("done", "partial", 4321, 1500)
    assert done.reasons == [{"code": "RENT_ABOVE_CAP"}] and done.empty_fields == ["boende"]
    assert done.masked_pnr == "19850101-XXXX"
    second = store.claim_next(run.id, "w")
    assert second is not None
    with masked_names(["Svensson"]):
        manual = store.business_exception(second, ErrorCode.DATA_MISMATCH, "Svensson 8501011234: rent differs",
                                          step="triage")
    assert (manual.state, manual.outcome, manual.step) == ("business_exception", "manual", "triage")
    assert manual.last_error_message == "S*** 850101-XXXX: rent differs"
    with pytest.raises(ValueError):
        store.complete(second, "maybe")


def test_a_protected_persons_masked_number_is_forgotten(store: Store) -> None:
    run = store.open_run()
    store.add_work_items(run.id, [NewWorkItem("EB-1", PERIOD, pnr="198501011234")])
    item = store.claim_next(run.id, "w")
    assert item is not None and item.masked_pnr == "19850101-XXXX"
    store.forget_person(item)
    done = store.complete(item, "manual")  # no personnummer given: nothing comes back
    assert done.masked_pnr is None


def test_release_gives_an_item_back_without_counting_the_attempt(store: Store) -> None:
    run = store.open_run()
    store.add_work_items(run.id, cases(1))
    item = store.claim_next(run.id, "w")
    assert item is not None
    assert (store.release(item).state, store.get_item(item.id).attempts) == ("new", 0)  # type: ignore[union-attr]


# -- checkpoints and resuming -------------------------------------------------------------------------------
def test_checkpoints_keep_the_last_step_and_its_data(store: Store) -> None:
    run = store.open_run()
    store.add_work_items(run.id, cases(1))
    item = store.claim_next(run.id, "w")
    assert item is not None and store.last_checkpoint(item) is None
    store.checkpoint(item, "collect", {"incomes": {"lon": 12000}})
    store.checkpoint(item, "triage", {"outcome": "auto"})
    last = store.last_checkpoint(item)
    assert last is not None and (last.step, last.data) == ("triage", {"outcome": "auto"})
    assert [c.step for c in store.checkpoints(item.id)] == ["collect", "triage"]
    assert store.get_item(item.id).step == "triage"  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        store.checkpoint(item, "sign", {})


def test_a_killed_run_is_resumed_where_it_stopped(url: str, clock: FakeClock) -> None:
    with open_store(url, clock=clock) as first:
        run = first.open_run({"workers": 2}, owner="host:100")
        first.add_work_items(run.id, cases(3))
        done = first.claim_next(run.id, "host:100:w1")
        assert done is not None
        first.complete(done, "auto")
        crashed = first.claim_next(run.id, "host:100:w1")
        assert crashed is not None
        first.checkpoint(crashed, "fill", {"filled": ["boende"]})
    # the process dies here; a new one starts
    with open_store(url, clock=clock) as second:
        resumed = second.open_run({"workers": 2}, owner="host:200")
        assert resumed.id == run.id and resumed.resumed and resumed.owner == "host:200"
        assert second.add_work_items(resumed.id, cases(3)) == 0  # the inbox listed them again: no duplicates
        assert second.release_leases(resumed.id) == 1
        again = second.claim_next(resumed.id, "host:200:w1")
        # Behind the case nobody started: that one first. The crash gave its attempt back.
        assert again is not None and again.id != crashed.id
        second.complete(again, "manual")
        again = second.claim_next(resumed.id, "host:200:w1")
        assert again is not None and again.id == crashed.id and (again.attempts, again.crashes) == (1, 1)
        checkpoint = second.last_checkpoint(again)
        assert checkpoint is not None and checkpoint.step == "fill"
        second.complete(again, "auto")
        assert second.claim_next(resumed.id, "host:200:w1") is None
        finished = second.finish_run(resumed.id)
        assert finished.status == "finished" and finished.counts["by_state"] == {"done": 3}
        assert second.latest_unfinished_run() is None
        assert not second.open_run().resumed


def test_the_latest_item_for_a_case_is_found_across_runs(store: Store, clock: FakeClock) -> None:
    old = store.open_run()
    store.add_work_items(old.id, cases(1))
    item = store.claim_next(old.id, "w")
    assert item is not None
    store.complete(item, "auto")
    store.finish_run(old.id)
    clock.advance(86400)
    new = store.open_run()
    store.add_work_items(new.id, cases(1))
    parked = store.latest_item_for_case("EB-2024-00001", PERIOD, exclude_run=new.id, states=["done"])
    assert parked is not None and parked.run_id == old.id and parked.outcome == "auto"
    latest = store.latest_item_for_case("EB-2024-00001")
    assert latest is not None and latest.run_id == new.id
    assert store.latest_item_for_case("EB-2024-00001", "2024-11") is None
    assert [r.id for r in store.list_runs()] == [new.id, old.id]


# -- summaries and events -----------------------------------------------------------------------------------
def test_run_summary_counts_outcomes_errors_and_durations(store: Store, clock: FakeClock) -> None:
    run = store.open_run({"workers": 1})
    store.add_work_items(run.id, cases(5))
    for seconds, outcome in ((1, "auto"), (2, "auto"), (4, "partial")):
        item = store.claim_next(run.id, "w")
        assert item is not None
        clock.advance(seconds)
        store.complete(item, outcome)
    item = store.claim_next(run.id, "w")
    assert item is not None
    store.fail(item, ErrorCode.SELECTOR_MISSING, "gone", retryable=False, max_attempts=3)
    store.record_event(run.id, "warning", "selector drift: casesystem/calc_form/boende", code="SELECTOR_MISSING",
                       data={"fallback": 2})
    summary = store.run_summary(run.id)
    assert (summary.total, summary.open) == (5, 1)
    assert summary.by_state == {"done": 3, "failed": 1, "new": 1}
    assert summary.by_outcome == {"auto": 2, "partial": 1}
    assert summary.errors_by_code == {"SELECTOR_MISSING": 1}
    assert summary.events_by_level == {"WARNING": 1}
    assert (summary.duration_p50_ms, summary.duration_p95_ms) == (2000, 4000)
    assert summary.run.config == {"workers": 1}


def test_events_are_masked_and_filterable(store: Store) -> None:
    run = store.open_run()
    store.record_event(run.id, "ERROR", "fk: no answer for 19850101-1234", case_id="EB-1",
                       code=ErrorCode.AGENCY_NO_ANSWER, data={"pnr": "198501011234"})
    store.record_event(run.id, "INFO", "started")
    [event] = store.events(run.id, case_id="EB-1")
    assert event.message == "fk: no answer for 19850101-XXXX" and event.data == {"pnr": "19850101-XXXX"}
    assert event.code == "AGENCY_NO_ANSWER"
    assert [e.message for e in store.events(run.id, level="info")] == ["started"]
    with pytest.raises(ValueError):
        store.record_event(run.id, "LOUD", "x")


def test_events_by_code_newest_first(store: Store) -> None:
    for n in range(4):
        store.record_event(None, "WARNING", f"skipped {n}", code="SCHEDULE_SKIPPED")
        store.record_event(None, "INFO", f"fired {n}", code="SCHEDULE_FIRED")
    store.record_event(None, "WARNING", "no code")
    latest = store.events(codes=("SCHEDULE_SKIPPED", "SCHEDULE_FIRED"), newest_first=True, limit=3)
    assert [e.message for e in latest] == ["fired 3", "skipped 3", "fired 2"]
    assert [e.message for e in store.events(codes=["SCHEDULE_SKIPPED"])] == [f"skipped {n}" for n in range(4)]
    assert store.events(codes=()) == []


# -- the database itself ------------------------------------------------------------------------------------
def test_the_sqlite_database_is_wal_and_owner_only(db: Path) -> None:
    SqliteStore(db).close()
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_unusable_database_is_store_unavailable(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    not_a_db = tmp_path / "junk.db"
    not_a_db.write_bytes(b"this is not sqlite" * 100)
    for path in (tmp_path / "dir.db", not_a_db):
        with pytest.raises(SystemException) as caught:
            SqliteStore(path)
        assert caught.value.code is ErrorCode.STORE_UNAVAILABLE
        assert str(path) in str(caught.value)


def test_open_store_by_url(tmp_path: Path, pg_url: str) -> None:
    from bot.store.postgres import PostgresStore

    with open_store(f"sqlite:///{tmp_path / 'a.db'}") as s:
        assert isinstance(s, SqliteStore)
    with open_store(pg_url) as s:
        assert isinstance(s, PostgresStore)
    for unreachable in ("postgresql://casebot@127.0.0.1:1/casebot", pg_url + "_missing"):
        with pytest.raises(SystemException) as caught:
            open_store(unreachable)
        assert caught.value.code is ErrorCode.STORE_UNAVAILABLE
        assert "127.0.0.1" in str(caught.value)


def test_writes_from_one_store_are_seen_by_another(url: str) -> None:
    with open_store(url) as a, open_store(url) as b:
        run = a.open_run()
        a.add_work_items(run.id, cases(2))
        assert Counter(i.state for i in b.items(run.id)) == {"new": 2}


# -- workers ------------------------------------------------------------------------------------------------
def test_workers_report_their_state_and_heartbeat(store: Store, clock: FakeClock) -> None:
    run = store.open_run()
    store.worker_seen("host-a:1:w1", run_id=run.id, state="working", case_id="EB-1")
    clock.advance(5)
    store.worker_seen("host-b:2:w1", run_id=run.id, state="idle")
    clock.advance(5)
    store.worker_seen("host-a:1:w1", run_id=run.id, state="idle")
    first, second = store.workers()
    assert (first.id, first.state, first.case_id) == ("host-a:1:w1", "idle", None)
    assert first.started == clock.now - timedelta(seconds=10) and first.heartbeat == clock.now
    assert (second.id, second.heartbeat) == ("host-b:2:w1", clock.now - timedelta(seconds=5))
    assert first.host == os.uname().nodename and first.pid == os.getpid()  # the reporting process


def test_resuming_releases_only_the_leases_of_workers_that_are_gone(store: Store, clock: FakeClock) -> None:
    """Several robots on one run: a resumed run must not take cases from workers still at them."""
    run = store.open_run()
    store.add_work_items(run.id, cases(3))
    held = [store.claim_next(run.id, owner, lease_seconds=600) for owner in ("live:1:w1", "quiet:2:w1", "gone:3:w1")]
    store.worker_seen("live:1:w1", run_id=run.id, state="working", case_id=held[0].case_id)  # type: ignore[union-attr]
    store.worker_seen("quiet:2:w1", run_id=run.id, state="working", case_id=held[1].case_id)  # type: ignore[union-attr]
    clock.advance(50)
    store.worker_seen("live:1:w1", run_id=run.id, state="working", case_id=held[0].case_id)  # type: ignore[union-attr]
    clock.advance(20)
    # live was heard from 20 s ago; quiet 70 s ago; gone never reported (an older casebot, or it died at once)
    assert store.release_leases(run.id, alive_within_s=60) == 2
    assert {i.case_id: i.state for i in store.items(run.id)} == {
        held[0].case_id: "in_progress", held[1].case_id: "new", held[2].case_id: "new"}  # type: ignore[union-attr]
    assert store.release_leases(run.id) == 1  # everything: a single host knows nobody else works on the run


def test_a_worker_whose_process_is_gone_on_this_host_is_not_alive(store: Store, clock: FakeClock) -> None:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    from bot.store.models import WorkerInfo

    dead = WorkerInfo("x", os.uname().nodename, child.pid, None, "working", None, clock.now, clock.now)
    assert not dead.alive(clock.now, 60)
    assert dead.__class__(**{**dead.__dict__, "pid": os.getpid()}).alive(clock.now, 60)
    assert not dead.__class__(**{**dead.__dict__, "pid": os.getpid(), "state": "stopped"}).alive(clock.now, 60)
