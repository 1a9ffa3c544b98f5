"""`/metrics`: the robot's figures in Prometheus' text format, for the monitoring IT operations already run.

A custom collector reads the state store at every scrape and keeps nothing between scrapes, so any number of
console processes (or none, between nights) give the same answer, and a restart loses no counter: the all-time
counters are counts in the store, never increments in this process.

What it exposes (all prefixed `casebot_`):
- the latest run's cases by state, by outcome and by error code, labelled with `run`, and its case durations
  (a histogram of the final items' `duration_ms`) and selector drift warnings;
- all-time counters of cases by outcome and by error code, over every run in the store;
- the last finished night's end time and result (its status as a label);
- the workers by condition (as `casebot status` judges them), the queue depth of the unfinished run;
- the share of this month's applications prepared fully, and fully or partially (0..1);
- `casebot_store_up`: 0 when the store could not be read (then nothing else is said rather than zeros).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.errors import ErrorCode
from bot.insights import automation_items, automation_rate, month_of
from bot.report.morning import REPORT_TZ
from bot.status import SHOWN_FOR, worker_condition
from bot.store.base import Store
from bot.store.models import FINAL_STATES, OUTCOMES, STATES, Run, WorkItem

CONTENT_TYPE: str = CONTENT_TYPE_LATEST
PREFIX = "casebot"
# A case takes 5-30 s on the sandbox; a slow portal or a retry's back-off stretches one to minutes.
DURATION_BUCKETS_S: tuple[float, ...] = (0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120)
WORKER_CONDITIONS: tuple[str, ...] = ("idle", "working", "stopped", "LOST")
# Outcomes as the report counts them: the three business outcomes, and a robot failure.
RESULTS: tuple[str, ...] = (*OUTCOMES, "failed")
DRIFT_CODE = "SELECTOR_DRIFT"
_ALL_RUNS = 1_000_000

StoreFactory = Callable[[], Store]


def _unix(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _error_kind(code: str) -> str:
    try:
        return ErrorCode(code).info.kind
    except ValueError:
        return "unknown"


def _result(item: WorkItem) -> str | None:
    """auto, partial, manual or failed for a final item; None for an open one."""
    if item.state == "failed":
        return "failed"
    return item.outcome if item.state in FINAL_STATES and item.outcome in OUTCOMES else None


def duration_histogram(durations_s: Sequence[float], buckets: Sequence[float] = DURATION_BUCKETS_S
                       ) -> tuple[list[tuple[str, float]], float]:
    """Cumulative (le, count) pairs ending with +Inf, and the sum: what a Prometheus histogram carries."""
    pairs = [(repr(float(bound)), float(sum(1 for d in durations_s if d <= bound))) for bound in buckets]
    pairs.append(("+Inf", float(len(durations_s))))
    return pairs, float(sum(durations_s))


class StoreCollector(Collector):
    """Reads the store at each `collect()` (each scrape) through `store_factory`, and closes what it opened."""

    def __init__(self, store_factory: StoreFactory, lease_s: float, *, clock: Callable[[], datetime] | None = None
                 ) -> None:
        self.store_factory = store_factory
        self.lease_s = lease_s
        self.clock = clock or (lambda: datetime.now(UTC))

    def describe(self) -> Iterable[Metric]:
        return []  # the metrics depend on the store's content: registered unchecked, read at scrape time

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(f"{PREFIX}_store_up", "1 when the state store could be read for this scrape, else 0")
        try:
            store = self.store_factory()
            try:
                metrics = list(self._from_store(store))
            finally:
                store.close()
        except Exception:  # noqa: BLE001 - a scrape must say the store is unreadable, not fail with a 500
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from metrics

    # -- the figures ------------------------------------------------------------------------------------------
    def _from_store(self, store: Store) -> Iterator[Metric]:
        now = self.clock()
        runs = store.list_runs(_ALL_RUNS)
        latest = runs[0] if runs else None
        items = store.items(latest.id) if latest is not None else []
        yield from self._latest_run(store, latest, items)
        yield from self._all_time(store, runs)
        yield from self._last_finished(runs)
        yield from self._workers(store, now)
        yield from self._queue(store, latest, items)
        yield from self._automation(store, now)

    def _latest_run(self, store: Store, run: Run | None, items: list[WorkItem]) -> Iterator[Metric]:
        by_state = GaugeMetricFamily(f"{PREFIX}_run_cases", "Cases of the latest run by state (new and in_progress "
                                     "are still to do)", labels=["run", "state"])
        by_result = GaugeMetricFamily(f"{PREFIX}_run_outcome_cases", "Decided cases of the latest run by outcome: "
                                      "auto, partial, manual, or failed (a system error after the retries)",
                                      labels=["run", "outcome"])
        by_code = GaugeMetricFamily(f"{PREFIX}_run_error_cases", "Cases of the latest run ended with an error code: "
                                    "failed (kind system) or handed to a person (kind business)",
                                    labels=["run", "code", "kind"])
        histogram = HistogramMetricFamily(f"{PREFIX}_run_case_duration_seconds", "Time per decided case of the "
                                          "latest run (its latest attempt)", labels=["run"])
        drift = GaugeMetricFamily(f"{PREFIX}_run_selector_drift", "Selector drift warnings (SELECTOR_DRIFT: an element "
                                  "found by a fallback) in the latest run", labels=["run"])
        if run is not None:
            states = Counter(i.state for i in items)
            for state in STATES:
                by_state.add_metric([run.id, state], states.get(state, 0))
            results = Counter(r for r in (_result(i) for i in items) if r is not None)
            for result in RESULTS:
                by_result.add_metric([run.id, result], results.get(result, 0))
            codes = Counter(i.last_error_code for i in items
                            if i.state in ("failed", "business_exception") and i.last_error_code)
            for code, n in sorted(codes.items()):
                by_code.add_metric([run.id, code, _error_kind(code)], n)
            durations = [i.duration_ms / 1000 for i in items if i.state in FINAL_STATES and i.duration_ms is not None]
            buckets, total = duration_histogram(durations)
            histogram.add_metric([run.id], buckets, total)
            drift.add_metric([run.id], len(store.events(run.id, codes=(DRIFT_CODE,))))
        yield from (by_state, by_result, by_code, histogram, drift)

    def _all_time(self, store: Store, runs: list[Run]) -> Iterator[Metric]:
        results: Counter[str] = Counter()
        codes: Counter[str] = Counter()
        for run in runs:
            summary = store.run_summary(run.id)
            for outcome in OUTCOMES:
                results[outcome] += summary.by_outcome.get(outcome, 0)
            results["failed"] += summary.by_state.get("failed", 0)
            codes.update(summary.errors_by_code)
        cases = CounterMetricFamily(f"{PREFIX}_cases", "Decided cases over every run in the store by outcome: auto, "
                                    "partial, manual, or failed (a retried case counts once per run)",
                                    labels=["outcome"])
        for result in RESULTS:
            cases.add_metric([result], results.get(result, 0))
        errors = CounterMetricFamily(f"{PREFIX}_case_errors", "Cases over every run ended with an error code: failed "
                                     "(kind system) or handed to a person (kind business)", labels=["code", "kind"])
        for code, n in sorted(codes.items()):
            errors.add_metric([code, _error_kind(code)], n)
        runs_total = CounterMetricFamily(f"{PREFIX}_runs", "Runs in the store by status", labels=["status"])
        for status, n in sorted(Counter(r.status for r in runs).items()):
            runs_total.add_metric([status], n)
        yield from (cases, errors, runs_total)

    def _last_finished(self, runs: list[Run]) -> Iterator[Metric]:
        ended = GaugeMetricFamily(f"{PREFIX}_last_run_end_timestamp_seconds", "When the last finished night ended "
                                  "(unix time); its status: finished, failed (ended with failed cases or an error) "
                                  "or aborted", labels=["run", "status"])
        ok = GaugeMetricFamily(f"{PREFIX}_last_run_ok", "1 when the last finished night's status is finished, else 0",
                               labels=["run", "status"])
        last = next((r for r in runs if r.ended is not None and r.status != "running"), None)
        if last is not None and last.ended is not None:
            ended.add_metric([last.id, last.status], _unix(last.ended))
            ok.add_metric([last.id, last.status], 1 if last.status == "finished" else 0)
        yield from (ended, ok)

    def _workers(self, store: Store, now: datetime) -> Iterator[Metric]:
        shown = [w for w in store.workers() if now - w.heartbeat <= SHOWN_FOR]
        conditions = Counter(worker_condition(w, now, self.lease_s) for w in shown)
        workers = GaugeMetricFamily(f"{PREFIX}_workers", "Workers heard from within a day, by condition as casebot "
                                    "status judges them (LOST: no heartbeat for a lease, or its process is gone)",
                                    labels=["condition"])
        for condition in WORKER_CONDITIONS:
            workers.add_metric([condition], conditions.get(condition, 0))
        alive = GaugeMetricFamily(f"{PREFIX}_workers_alive", "Workers alive: idle or working")
        alive.add_metric([], conditions.get("idle", 0) + conditions.get("working", 0))
        yield from (workers, alive)

    def _queue(self, store: Store, latest: Run | None, latest_items: list[WorkItem]) -> Iterator[Metric]:
        run = store.latest_unfinished_run()
        items = latest_items if run is not None and latest is not None and run.id == latest.id else (
            store.items(run.id) if run is not None else [])
        depth = GaugeMetricFamily(f"{PREFIX}_queue_depth", "Cases still to do (new or in progress) in the unfinished "
                                  "run; 0 when no run is open")
        depth.add_metric([], sum(1 for i in items if i.state in ("new", "in_progress")))
        yield depth

    def _automation(self, store: Store, now: datetime) -> Iterator[Metric]:
        month = month_of(now.astimezone(REPORT_TZ))  # the caseworkers' month, not UTC's
        rate = automation_rate(automation_items(store, 1, month), [month]).months[0]
        decided = rate.total_decided
        full = GaugeMetricFamily(f"{PREFIX}_automation_full_ratio", "Share (0..1) of this month's decided "
                                 "applications the robot prepared fully (ready for signature); absent before any",
                                 labels=["month"])
        prepared = GaugeMetricFamily(f"{PREFIX}_automation_prepared_ratio", "Share (0..1) of this month's decided "
                                     "applications prepared fully or partially", labels=["month"])
        applications = GaugeMetricFamily(f"{PREFIX}_automation_applications", "This month's applications (each "
                                         "once, by its latest work item) by category: full, partial, manual, failed, "
                                         "open", labels=["month", "category"])
        if decided:
            full.add_metric([month], rate.full / decided)
            prepared.add_metric([month], (rate.full + rate.partial) / decided)
        for name in ("full", "partial", "manual", "failed", "open"):
            applications.add_metric([month, name], getattr(rate, name))
        yield from (full, prepared, applications)


def collector_for(store_factory: StoreFactory, lease_s: float) -> Collector:
    """A collector for a registry: reads a fresh store from `store_factory` at each scrape and closes it after.
    `lease_s`: the store's lease (config `store.lease_s`), which decides when a silent worker counts as LOST."""
    return StoreCollector(store_factory, lease_s)


def metrics_text(store_factory: StoreFactory, lease_s: float) -> bytes:
    """One scrape in Prometheus' text format (serve it with `CONTENT_TYPE`)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector_for(store_factory, lease_s))
    return generate_latest(registry)


__all__ = ["CONTENT_TYPE", "StoreCollector", "collector_for", "duration_histogram", "metrics_text"]
