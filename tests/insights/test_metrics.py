"""`/metrics` against the store: scraped while a real night ran (the figures move the right way and never pass the
run's total), and after it (every figure equals what the store says). Parsed back with the client library's own
parser, so the text format itself is checked too."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from bot.console.metrics import CONTENT_TYPE, DURATION_BUCKETS_S, StoreCollector, duration_histogram, metrics_text
from bot.store import NewWorkItem, SqliteStore
from tests.clock import FakeClock
from tests.insights.conftest import CASES, LEASE_S, Night, Samples, matching, parse, value

FINAL = ("done", "business_exception", "failed")


def _after(night: Night) -> Samples:
    return parse(metrics_text(night.store, LEASE_S))


def _run_id(night: Night) -> str:
    with night.store() as store:
        (run,) = store.list_runs()
    return run.id


@pytest.mark.browser
def test_scrapes_during_the_night_move_forward_and_stay_within_the_run(night: Night) -> None:
    assert night.returncode == 0, night.stderr[-3000:]
    run_id = _run_id(night)
    seen = [s for s in night.scrapes if value(s, "casebot_store_up") == 1 and matching(s, "casebot_run_cases")]
    assert len(seen) >= 5, len(night.scrapes)
    done_before = 0
    in_flight = 0
    for samples in seen:
        states = {dict(k)["state"]: v for k, v in matching(samples, "casebot_run_cases").items()}
        assert {dict(k)["run"] for k in matching(samples, "casebot_run_cases")} == {run_id}  # one run all night
        total = sum(states.values())
        done = sum(states[s] for s in FINAL)
        depth = value(samples, "casebot_queue_depth")
        assert depth is not None
        assert total <= CASES and done <= total and depth <= total
        assert depth == states["new"] + states["in_progress"]
        assert done >= done_before, (done, done_before)  # the done count never falls
        done_before = done
        outcomes = matching(samples, "casebot_run_outcome_cases", run=run_id)
        assert sum(outcomes.values()) == done  # every decided case has exactly one outcome
        if depth > 0 and done < total:
            in_flight += 1
    assert in_flight >= 1  # at least one scrape caught the night half done
    assert done_before == CASES


@pytest.mark.browser
def test_after_the_night_the_metrics_equal_the_store(night: Night) -> None:
    samples = _after(night)
    with night.store() as store:
        (run,) = store.list_runs()
        items = store.items(run.id)
        drift = sum(1 for e in store.events(run.id) if e.code == "SELECTOR_DRIFT")
    outcomes = Counter(i.outcome for i in items if i.state in ("done", "business_exception"))
    assert value(samples, "casebot_store_up") == 1
    for outcome in ("auto", "partial", "manual"):
        assert value(samples, "casebot_run_outcome_cases", run=run.id, outcome=outcome) == outcomes[outcome]
        assert value(samples, "casebot_cases_total", outcome=outcome) == outcomes[outcome]  # one run: the same
    assert value(samples, "casebot_run_outcome_cases", run=run.id, outcome="failed") == 0
    assert value(samples, "casebot_cases_total", outcome="failed") == 0
    assert value(samples, "casebot_queue_depth") == 0
    assert value(samples, "casebot_run_selector_drift", run=run.id) == drift
    assert run.ended is not None and run.status == "finished"
    assert value(samples, "casebot_last_run_end_timestamp_seconds", run=run.id, status="finished") == \
        pytest.approx(run.ended.timestamp())
    assert value(samples, "casebot_last_run_ok", run=run.id, status="finished") == 1
    assert value(samples, "casebot_runs_total", status="finished") == 1
    durations = [i.duration_ms for i in items if i.duration_ms is not None]
    assert value(samples, "casebot_run_case_duration_seconds_count", run=run.id) == len(durations) == CASES
    assert value(samples, "casebot_run_case_duration_seconds_sum", run=run.id) == \
        pytest.approx(sum(durations) / 1000)
    assert value(samples, "casebot_workers_alive") == 0  # the robot's process has ended
    # The current month's share: this night's applications (the sandbox's period is this month).
    month = {dict(k)["month"] for k in matching(samples, "casebot_automation_applications")}
    assert month == {items[0].period}
    assert value(samples, "casebot_automation_full_ratio", month=items[0].period) == \
        pytest.approx(outcomes["auto"] / CASES)
    assert value(samples, "casebot_automation_prepared_ratio", month=items[0].period) == \
        pytest.approx((outcomes["auto"] + outcomes["partial"]) / CASES)


def test_the_content_type_is_prometheus_text_format() -> None:
    assert CONTENT_TYPE.startswith("text/plain; version=")  # the client library's own, whatever version it speaks


def test_the_duration_histogram_is_cumulative() -> None:
    buckets, total = duration_histogram([0.4, 3.0, 3.0, 200.0])
    counts = dict(buckets)
    # 0.4 s is in every bucket from 0.5 up; 3 s from 5 up; 200 s only in +Inf.
    assert counts["0.5"] == 1 and counts["2.0"] == 1 and counts["5.0"] == 3 and counts["120.0"] == 3
    assert counts["+Inf"] == 4 and total == pytest.approx(206.4)
    assert [b for b, _ in buckets][:-1] == [repr(float(b)) for b in DURATION_BUCKETS_S]


def test_a_store_with_retries_failures_and_workers(tmp_path: Path) -> None:
    """No browser: a store written by hand, the figures worked out below."""
    clock = FakeClock()
    db = tmp_path / "casebot.db"
    with SqliteStore(db, clock=clock) as store:
        store.open_run(run_id="n1", resume=False)
        store.add_work_items("n1", [NewWorkItem("EB-1", "2024-12"), NewWorkItem("EB-2", "2024-12")])
        first = store.claim_next("n1", "h:1:w1")
        assert first is not None
        store.fail(first, "PORTAL_DOWN", "down", retryable=False, max_attempts=1)
        second = store.claim_next("n1", "h:1:w1")
        assert second is not None
        clock.advance(2)
        store.complete(second, "auto")
        store.finish_run("n1", "failed")  # ended with a failed case
        clock.advance(3600)
        store.open_run(run_id="n2", resume=False)
        store.add_work_items("n2", [NewWorkItem("EB-1", "2024-12"), NewWorkItem("EB-3", "2024-12")])
        again = store.claim_next("n2", "h:1:w1")
        assert again is not None
        clock.advance(4)
        store.business_exception(again, "UNPARSEABLE_AMOUNT", "?")
        store.record_event("n2", "WARNING", "drift", code="SELECTOR_DRIFT")
        # A worker on another host, heard from a minute ago (alive), and one silent for longer than a lease.
        store.worker_seen("otherhost:7:w1", run_id="n2", state="working", case_id="EB-3")
        clock.advance(LEASE_S + 60)
        store.worker_seen("otherhost:8:w1", run_id="n2", state="idle")
    now = clock.now
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(lambda: SqliteStore(db), LEASE_S, clock=lambda: now + timedelta(seconds=1)))
    samples = parse(generate_latest(registry))
    # Latest run n2: EB-1 manual (business exception), EB-3 still new; n1 is history.
    assert value(samples, "casebot_run_cases", run="n2", state="business_exception") == 1
    assert value(samples, "casebot_run_cases", run="n2", state="new") == 1
    assert value(samples, "casebot_run_outcome_cases", run="n2", outcome="manual") == 1
    assert value(samples, "casebot_run_error_cases", run="n2", code="UNPARSEABLE_AMOUNT", kind="business") == 1
    assert value(samples, "casebot_queue_depth") == 1
    assert value(samples, "casebot_run_selector_drift", run="n2") == 1
    # All time: n1's failure and auto, n2's manual. n1 is the last finished night, and it failed.
    assert value(samples, "casebot_cases_total", outcome="failed") == 1
    assert value(samples, "casebot_cases_total", outcome="auto") == 1
    assert value(samples, "casebot_cases_total", outcome="manual") == 1
    assert value(samples, "casebot_case_errors_total", code="PORTAL_DOWN", kind="system") == 1
    assert value(samples, "casebot_last_run_ok", run="n1", status="failed") == 0
    assert value(samples, "casebot_last_run_end_timestamp_seconds", run="n1", status="failed") == \
        pytest.approx(datetime(2024, 12, 1, 2, 0, 2, tzinfo=UTC).timestamp())
    # The silent worker is LOST, the other alive; the run's histogram holds the one decided case of n2 (4 s).
    assert value(samples, "casebot_workers", condition="LOST") == 1
    assert value(samples, "casebot_workers_alive") == 1
    assert value(samples, "casebot_run_case_duration_seconds_bucket", run="n2", le="2.0") == 0
    assert value(samples, "casebot_run_case_duration_seconds_bucket", run="n2", le="5.0") == 1
    # This month (the clock's, 2024-12) by each application's latest item: EB-1 manual (n2), EB-2 full (n1), EB-3
    # open: 1 of 2 decided prepared fully.
    assert value(samples, "casebot_automation_full_ratio", month="2024-12") == 0.5
    assert value(samples, "casebot_automation_applications", month="2024-12", category="open") == 1


def test_an_unreadable_store_says_so_instead_of_failing(tmp_path: Path) -> None:
    def broken() -> SqliteStore:
        raise OSError("disk gone")

    samples = parse(metrics_text(broken, LEASE_S))
    assert value(samples, "casebot_store_up") == 0
    assert not matching(samples, "casebot_run_cases")
