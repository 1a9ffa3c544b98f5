"""What each console page shows, computed from the store, the config and the time only: no request, no Starlette,
so every figure is tested without a browser. Each function returns frozen dataclasses a template reads.

Personal data: the store keeps personnummer masked and event texts masked; every free text that reaches a page
goes through `mask_text` once more here, and checkpoint data (stored unmasked, for resuming) is never shown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from markupsafe import Markup

from bot.calc.fields import FORM_FIELDS
from bot.config import Config
from bot.console.markdown import RunbookHref, default_runbook_href, render_markdown
from bot.errors import ErrorCode, runbook_for
from bot.insights import AutomationRate, hours_and_minutes, rate_from_store
from bot.masking import mask_text
from bot.paths import RUNBOOKS_DIR, SCHEDULES_DIR
from bot.status import worker_rows
from bot.store import FINAL_STATES, Event, Run, RunSummary, Store, WorkItem
from bot.triage.model import PROTECTED_IDENTITY

# What the morning report calls each outcome (README, "What the demo shows"); "failed" is a state, not an outcome.
OUTCOME_LABELS: dict[str, str] = {
    "auto": "Klar för signering",
    "partial": "Behöver kompletteras",
    "manual": "Manuell handläggning",
    "failed": "Fel",
    "new": "I kö",
    "in_progress": "Pågår",
}
ARTEFACTS_FOLDER = "artifacts"  # under the data folder, where the workers keep failure screenshots and traces
DRIFT_CODE = "SELECTOR_DRIFT"
BROKEN_CODE = ErrorCode.SELECTOR_MISSING.value
DRIFT_RUNBOOK = ErrorCode.SELECTOR_MISSING.runbook
HISTORY_RUNS = 30  # how many earlier runs a case page looks through for the same case
# A console preflight's findings are the run-less preflight events written within this time of each other.
PREFLIGHT_SPAN = timedelta(minutes=10)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def outcome_of(item: WorkItem) -> str:
    """One word for where the case stands: auto, partial, manual, failed, new, in_progress."""
    if item.state in ("failed", "new", "in_progress"):
        return item.state
    return item.outcome or item.state


# -- the nights --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NightRow:
    run_id: str
    status: str
    owner: str | None
    started: datetime
    ended: datetime | None
    total: int
    auto: int
    partial: int
    manual: int
    failed: int
    open: int  # new or in progress
    finished: int  # in a final state: done, business exception or failed
    duration_s: float
    throughput_per_min: float | None  # finished cases per wall minute; None before a minute's worth of run
    drift: int  # SELECTOR_DRIFT events of the run
    p50_ms: int | None
    p95_ms: int | None
    errors_by_code: dict[str, int] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.status == "running"


def night_row(summary: RunSummary, events: Sequence[Event], now: datetime) -> NightRow:
    """A run's line: counts from its summary, wall time from its start to its end (or now, while it runs)."""
    run = summary.run
    finished = sum(summary.by_state.get(state, 0) for state in FINAL_STATES)
    duration = max(0.0, ((run.ended or now) - run.started).total_seconds())
    throughput = round(finished / (duration / 60), 2) if duration >= 1 else None
    return NightRow(
        run_id=run.id, status=run.status, owner=run.owner, started=run.started, ended=run.ended,
        total=summary.total, auto=summary.by_outcome.get("auto", 0), partial=summary.by_outcome.get("partial", 0),
        manual=summary.by_outcome.get("manual", 0), failed=summary.by_state.get("failed", 0), open=summary.open,
        finished=finished, duration_s=round(duration, 1), throughput_per_min=throughput,
        drift=sum(1 for e in events if e.code == DRIFT_CODE), p50_ms=summary.duration_p50_ms,
        p95_ms=summary.duration_p95_ms, errors_by_code=dict(sorted(summary.errors_by_code.items())))


def _night(store: Store, run: Run, now: datetime) -> NightRow:
    # Drift events are warnings: asking for those only keeps a long night's INFO events out of the read.
    return night_row(store.run_summary(run.id), store.events(run.id, level="WARNING"), now)


@dataclass(frozen=True)
class NightsView:
    nights: list[NightRow]
    running: NightRow | None  # the night in progress, if any (also in `nights`)


def nights_view(store: Store, limit: int = 20, *, now: datetime | None = None) -> NightsView:
    now = now or _utcnow()
    nights = [_night(store, run, now) for run in store.list_runs(limit)]
    running = next((n for n in nights if n.running), None)
    if running is None:
        unfinished = store.latest_unfinished_run()
        running = _night(store, unfinished, now) if unfinished is not None else None
    return NightsView(nights, running)


# -- the live panel ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveWorker:
    id: str
    host: str
    condition: str  # idle, working, stopped, LOST, ? (a lease holder that never reported)
    case_id: str | None  # the case in hand
    lease_until: datetime | None
    done: int  # cases of this night the worker finished


@dataclass(frozen=True)
class LiveView:
    run_id: str | None  # None: no night is going on
    started: datetime | None
    total: int
    finished: int
    auto: int
    partial: int
    manual: int
    failed: int
    open: int
    in_progress: int
    workers: list[LiveWorker]
    at: datetime


def live_view(store: Store, now: datetime, lease_s: float) -> LiveView:
    """The night in progress: cases finished of the total, and per worker its condition, case and tally.
    Read every 2 s by the nights page (`/api/live`), so it asks the store for the one run only."""
    run = store.latest_unfinished_run()
    if run is None:
        return LiveView(None, None, 0, 0, 0, 0, 0, 0, 0, 0, [], now)
    items = store.items(run.id)
    tally = _tally(outcome_of(i) for i in items)
    done_by = _tally(i.worked_by for i in items if i.state in FINAL_STATES and i.worked_by)
    in_progress = [i for i in items if i.state == "in_progress"]
    rows = [r for r in worker_rows(store.workers(), in_progress, now, lease_s)
            if r.run_id == run.id or r.lease_until is not None]
    workers = [LiveWorker(r.id, r.host, r.condition, r.case_id, r.lease_until, done_by.get(r.id, 0)) for r in rows]
    return LiveView(run.id, run.started, len(items), sum(1 for i in items if i.state in FINAL_STATES),
                    tally.get("auto", 0), tally.get("partial", 0), tally.get("manual", 0), tally.get("failed", 0),
                    tally.get("new", 0) + tally.get("in_progress", 0), tally.get("in_progress", 0), workers, now)


def _tally(values: Iterable[str | None]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        if value is not None:
            counts[value] = counts.get(value, 0) + 1
    return counts


# -- one run -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    item_id: int
    run_id: str
    case_id: str
    period: str
    masked_pnr: str | None  # None: not known, or forgotten (a protected identity)
    caseworker: str | None
    state: str
    outcome: str  # auto, partial, manual, failed, new, in_progress
    outcome_label: str
    amount: int | None
    error_code: str | None
    attempts: int
    crashes: int
    duration_ms: int | None
    step: str | None  # the last checkpoint


def case_row(item: WorkItem) -> CaseRow:
    outcome = outcome_of(item)
    return CaseRow(
        item_id=item.id, run_id=item.run_id, case_id=item.case_id, period=item.period,
        masked_pnr=mask_text(item.masked_pnr) if item.masked_pnr else None, caseworker=item.caseworker,
        state=item.state, outcome=outcome, outcome_label=OUTCOME_LABELS.get(outcome, outcome), amount=item.amount,
        error_code=item.last_error_code, attempts=item.attempts, crashes=item.crashes, duration_ms=item.duration_ms,
        step=item.step)


@dataclass(frozen=True)
class RunView:
    night: NightRow
    cases: list[CaseRow]


def run_view(store: Store, run_id: str, *, now: datetime | None = None) -> RunView | None:
    run = store.get_run(run_id)
    if run is None:
        return None
    return RunView(_night(store, run, now or _utcnow()), [case_row(i) for i in store.items(run_id)])


# -- one case ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRow:
    step: str
    at: datetime
    since_previous_s: float | None  # since the checkpoint before (the first: since the attempt started)


@dataclass(frozen=True)
class EventRow:
    at: datetime
    level: str
    code: str | None
    message: str


@dataclass(frozen=True)
class ReasonRow:
    code: str
    text: str
    outcome: str | None


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str | None
    summary: str | None  # the catalogue's Swedish / English line; None for a code this version does not know
    runbook: str | None  # runbooks/<CODE>.md
    runbook_html: Markup | None


@dataclass(frozen=True)
class Artefact:
    name: str
    kind: str  # screenshot, trace
    size: int
    modified: datetime
    path: Path  # for the console to serve; never shown


@dataclass(frozen=True)
class CaseView:
    item: CaseRow
    run_status: str | None
    started: datetime | None
    ended: datetime | None
    worked_by: str | None
    steps: list[StepRow]
    events: list[EventRow]
    error: ErrorInfo | None
    reasons: list[ReasonRow]
    empty_fields: list[tuple[str, str]]  # (field, its label on the form)
    history: list[CaseRow]  # the same case in other runs, newest first
    held: bool  # failed with a code that holds the case until an operator releases it
    retryable: bool  # failed or held: the retry form applies
    protected: bool
    artefacts: list[Artefact]
    artefacts_note: str | None  # why none are listed, when that is not simply "there are none"


def case_view(store: Store, item_id: int, config: Config, show_artefacts: bool, *, now: datetime | None = None,
              runbooks_dir: Path = RUNBOOKS_DIR, runbook_href: RunbookHref = default_runbook_href) -> CaseView | None:
    """A case's timeline in its run: checkpoints with the time between them, attempts and crashes, the case's
    events, the error with its runbook rendered, the triage reasons, the empty fields, the same case in other
    runs, and (only when `show_artefacts`, and never for a protected identity) its failure screenshots and
    traces within their retention."""
    item = store.get_item(item_id)
    if item is None:
        return None
    now = now or _utcnow()
    run = store.get_run(item.run_id)
    checkpoints = store.checkpoints(item)
    history = _history(store, item)
    protected = _protected(item, checkpoints) or any(_protected(other, ()) for other in history)
    artefacts: list[Artefact] = []
    note: str | None = None
    if protected:
        note = "Skyddad identitet: inga skärmbilder eller spår visas för ärendet."
    elif not show_artefacts:
        note = "Screenshots and traces are shown to the operations role only."
    else:
        artefacts = case_artefacts(config, item.case_id, now)
    held = item.state == "failed" and any(h.id == item.id for h in store.held_items())
    return CaseView(
        item=case_row(item), run_status=run.status if run else None, started=item.started, ended=item.ended,
        worked_by=item.worked_by, steps=_steps(item, checkpoints),
        events=[_event_row(e) for e in store.events(item.run_id, case_id=item.case_id)],
        error=_error(item, runbooks_dir, runbook_href), reasons=_reasons(item.reasons),
        empty_fields=[(name, FORM_FIELDS[name][0] if name in FORM_FIELDS else name) for name in item.empty_fields],
        history=[case_row(h) for h in history], held=held, retryable=item.state == "failed" or held,
        protected=protected, artefacts=artefacts, artefacts_note=note)


def _steps(item: WorkItem, checkpoints: Sequence[Any]) -> list[StepRow]:
    rows: list[StepRow] = []
    previous = item.started if item.started and checkpoints and item.started <= checkpoints[0].at else None
    for checkpoint in checkpoints:
        since = (checkpoint.at - previous).total_seconds() if previous is not None else None
        rows.append(StepRow(checkpoint.step, checkpoint.at, round(since, 3) if since is not None else None))
        previous = checkpoint.at
    return rows


def _event_row(event: Event) -> EventRow:
    return EventRow(event.at, event.level, event.code, mask_text(event.message))


def _reasons(raw: Sequence[Any]) -> list[ReasonRow]:
    rows = []
    for reason in raw:
        if isinstance(reason, dict):
            code = str(reason.get("code") or "")
            text = reason.get("text") or reason.get("text_sv") or ""
            rows.append(ReasonRow(code, mask_text(str(text)), reason.get("outcome")))
        else:
            rows.append(ReasonRow("", mask_text(str(reason)), None))
    return rows


def _protected(item: WorkItem, checkpoints: Sequence[Any]) -> bool:
    """A protected identity in the household: a PROTECTED_IDENTITY reason (on the item, or in its triage
    checkpoint when the case failed after the triage), or the store forgot the person's personnummer."""
    if item.masked_pnr is None:
        return True
    codes = {r.get("code") for r in item.reasons if isinstance(r, dict)}
    for checkpoint in checkpoints:
        if checkpoint.step == "triage" and isinstance(checkpoint.data, dict):
            codes |= {r.get("code") for r in checkpoint.data.get("reasons") or () if isinstance(r, dict)}
    return PROTECTED_IDENTITY in codes


def _history(store: Store, item: WorkItem) -> list[WorkItem]:
    # The store has no index of a case's items across runs; the recent runs are what an operator asks about.
    found = []
    for run in store.list_runs(HISTORY_RUNS):
        if run.id != item.run_id:
            found += [other for other in store.items(run.id) if other.case_id == item.case_id]
    return sorted(found, key=lambda other: other.id, reverse=True)


def _error(item: WorkItem, runbooks_dir: Path, runbook_href: RunbookHref) -> ErrorInfo | None:
    code = item.last_error_code
    if not code:
        return None
    summary = None
    with contextlib.suppress(ValueError):  # a code from a newer robot version or a triage rule
        summary = ErrorCode(code).summary
    runbook = runbook_for(code)  # only catalogue codes: the file name is never built from stored text
    html = None
    if runbook is not None:
        path = runbooks_dir / Path(runbook).name
        if path.is_file():
            html = render_markdown(path.read_text(encoding="utf-8"), runbook_href=runbook_href, heading_shift=2)
    message = mask_text(item.last_error_message) if item.last_error_message else None
    return ErrorInfo(code, message, summary, runbook, html)


def _stem(case_id: str) -> str:
    # As `bot.browser.worker` names a case's files.
    return re.sub(r"[^A-Za-z0-9_.-]", "_", case_id)


def _artefact_kind(name: str) -> str | None:
    if name.endswith("-trace.zip"):
        return "trace"
    if name.endswith(".png"):
        return "screenshot"
    return None


def case_artefacts(config: Config, case_id: str, now: datetime) -> list[Artefact]:
    """The case's failure screenshots (`<case>-<time>-<portal>.png`, the desktop client's `desktop-<case>-<time>
    .png`) and traces (`<case>-<time>-<portal>-trace.zip`) in the data folder's artefacts, within their retention
    (`retention.screenshots_days`, `traces_days`), newest first. No protection check here: `case_view` does it."""
    folder = config.data_dir / ARTEFACTS_FOLDER
    if not folder.is_dir():
        return []
    names = re.compile(rf"^(?:{re.escape(_stem(case_id))}|desktop-{re.escape(case_id)})-\d{{8}}T\d{{6}}"
                       r"(?:-[A-Za-z0-9_.#-]+)?(?:\.png|-trace\.zip)$")
    keep = {"screenshot": timedelta(days=config.retention.screenshots_days),
            "trace": timedelta(days=config.retention.traces_days)}
    found = []
    for path in folder.iterdir():
        kind = _artefact_kind(path.name)
        if kind is None or not names.match(path.name) or not path.is_file() or path.is_symlink():
            continue
        stat = path.stat()
        modified = datetime.fromtimestamp(stat.st_mtime, UTC)
        if now - modified <= keep[kind]:
            found.append(Artefact(path.name, kind, stat.st_size, modified, path))
    return sorted(found, key=lambda a: (a.modified, a.name), reverse=True)


# -- workers -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerLine:
    id: str
    host: str
    pid: int | None
    condition: str  # idle, working, stopped, LOST, ?
    heartbeat: datetime | None
    heartbeat_age_s: float | None
    case_id: str | None
    lease_until: datetime | None
    lease_left_s: float | None  # negative: the lease ran out and the case waits for another worker
    run_id: str | None


@dataclass(frozen=True)
class WorkersView:
    workers: list[WorkerLine]
    alive: int
    lost: int
    hosts: list[str]
    lease_s: float


def workers_view(store: Store, now: datetime, lease_s: float) -> WorkersView:
    """Every worker heard from lately (`bot.status.worker_rows`: heartbeat and, on this host, the process), with
    the lease it holds in the unfinished run."""
    run = store.latest_unfinished_run()
    in_progress = store.items(run.id, "in_progress") if run is not None else []
    lines = []
    for row in worker_rows(store.workers(), in_progress, now, lease_s):
        lines.append(WorkerLine(
            id=row.id, host=row.host, pid=row.pid, condition=row.condition, heartbeat=row.heartbeat,
            heartbeat_age_s=round((now - row.heartbeat).total_seconds(), 1) if row.heartbeat else None,
            case_id=row.case_id, lease_until=row.lease_until,
            lease_left_s=round((row.lease_until - now).total_seconds(), 1) if row.lease_until else None,
            run_id=row.run_id))
    return WorkersView(lines, sum(1 for w in lines if w.condition in ("idle", "working")),
                       sum(1 for w in lines if w.condition == "LOST"), sorted({w.host for w in lines}), lease_s)


# -- schedules ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkippedDay:
    at: datetime  # when the job would have fired
    why: str  # the holiday's name, or "stängt enligt schemat"


@dataclass(frozen=True)
class JobLine:
    name: str
    cron: str
    timezone: str
    window_until: dt.time | None
    limit: int | None
    source: str  # the schedule file's name
    next_fires: list[datetime]
    skipped_days: list[SkippedDay]  # blacked-out fires among the next ones


@dataclass(frozen=True)
class FireLine:
    at: datetime
    job: str | None
    outcome: str  # ran, blackout, not_leader, busy, paused, missed
    detail: str
    run_id: str | None


@dataclass(frozen=True)
class PauseInfo:
    by: str
    at: str
    reason: str


@dataclass(frozen=True)
class SchedulesView:
    jobs: list[JobLine]
    paused: PauseInfo | None
    skipped: list[FireLine]  # newest first
    fired: list[FireLine]  # newest first
    problem: str | None  # the schedule files could not be read
    heard: dict[str, str] | None = None  # the scheduler's last heartbeat (owner, at); None: none running


def schedules_view(config: Config, store: Store, now: datetime, *, schedules_dir: Path | None = None,
                   count: int = 5, fires_shown: int = 10) -> SchedulesView:
    from bot.errors import ConfigError
    from bot.schedule.load import load_schedules

    jobs: list[JobLine] = []
    problem = None
    try:
        for scheduled in load_schedules(schedules_dir or SCHEDULES_DIR):
            job = scheduled.job
            fires, passed = scheduled.upcoming(now, count)
            skipped = [SkippedDay(at, why) for at, why in passed]
            jobs.append(JobLine(job.name, job.cron, job.timezone, job.window.until if job.window else None,
                                job.limit, scheduled.source.name, fires, skipped))
    except ConfigError as exc:
        problem = mask_text(str(exc))
    events = store.events(codes=("SCHEDULE_SKIPPED", "SCHEDULE_MISSED", "SCHEDULE_FIRED"), newest_first=True,
                          limit=50 * fires_shown)
    skipped_fires = [_fire_line(e) for e in events if e.code in ("SCHEDULE_SKIPPED", "SCHEDULE_MISSED")]
    ran = [_fire_line(e) for e in events if e.code == "SCHEDULE_FIRED"]
    return SchedulesView(jobs, _paused(store), _newest(skipped_fires, fires_shown), _newest(ran, fires_shown),
                         problem, _heard(store, now))


def _newest(lines: list[FireLine], limit: int) -> list[FireLine]:
    return sorted(lines, key=lambda line: line.at, reverse=True)[:limit]


def _fire_line(event: Event) -> FireLine:
    data = event.data if isinstance(event.data, dict) else {}
    at = event.at
    with contextlib.suppress(TypeError, ValueError):
        at = datetime.fromisoformat(str(data["at"])) if data.get("at") else at
    outcome = str(data.get("outcome") or ("missed" if event.code == "SCHEDULE_MISSED" else "?"))
    detail = mask_text(str(data.get("detail") or event.message))
    return FireLine(at, data.get("job"), outcome, detail, data.get("run_id") or event.run_id)


def _heard(store: Store, now: datetime) -> dict[str, str] | None:
    from bot.schedule.requests import live_scheduler

    heartbeat = live_scheduler(store, now)
    return None if heartbeat is None else {"owner": str(heartbeat.get("owner", "?")), "at": str(heartbeat["at"])}


def _paused(store: Store) -> PauseInfo | None:
    from bot.schedule.pause import scheduler_paused

    paused = scheduler_paused(store)
    if not paused:
        return None
    return PauseInfo(mask_text(str(paused.get("by", "?"))), str(paused.get("at", "")),
                     mask_text(str(paused.get("reason", ""))))


# -- drift -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriftLine:
    kind: str  # drift (a fallback found it), broken (nothing found it), unwalked (the portal could not be walked)
    portal: str | None
    screen: str | None
    element: str | None
    detail: str
    at: datetime
    case_id: str | None  # drift met during a case (not at the preflight)
    next_step: str


@dataclass(frozen=True)
class DriftView:
    source: str | None  # "run" (a night's preflight), "console" (one run from the console), None: none yet
    run_id: str | None
    at: datetime | None
    preflight: list[DriftLine]  # the last preflight's findings
    during_night: list[DriftLine]  # drift met by the workers during the latest run, one line per element
    runbook: str
    runbook_html: Markup | None

    @property
    def broken(self) -> list[DriftLine]:
        return [line for line in self.preflight if line.kind == "broken"]

    @property
    def drifted(self) -> list[DriftLine]:
        return [line for line in self.preflight if line.kind == "drift"]


def _is_preflight(event: Event) -> bool:
    data = event.data if isinstance(event.data, dict) else {}
    return (event.code == DRIFT_CODE and event.case_id is None) or data.get("step") == "preflight"


def _next_step(kind: str, portal: str | None, screen: str | None) -> str:
    where = portal or "<portal>"
    if kind == "broken":
        return (f"casebot check-selectors --config FILE --portal {where} --problems, then "
                f"casebot record {where} {screen or '<screen>'} --config FILE")
    if kind == "drift":
        return (f"works for now: re-record at leisure (casebot record {where} {screen or '<screen>'} "
                "--config FILE)")
    return f"check that {where} answers from the robot's host, then casebot check-selectors --config FILE"


def _drift_line(event: Event) -> DriftLine:
    data = event.data if isinstance(event.data, dict) else {}
    kind = "drift" if event.code == DRIFT_CODE else "broken" if event.code == BROKEN_CODE else "unwalked"
    portal, screen = data.get("portal"), data.get("screen")
    return DriftLine(kind, portal, screen, data.get("element"), mask_text(event.message), event.at, event.case_id,
                     _next_step(kind, portal, screen))


def drift_view(store: Store, *, runbooks_dir: Path = RUNBOOKS_DIR,
               runbook_href: RunbookHref = default_runbook_href) -> DriftView:
    """The drifted and broken selectors of the last preflight, whichever was later: the latest night's (its
    run's preflight events) or one started from the console (events without a run, written together; a later
    `run_preflight` audit row with nothing after it means that check found nothing). Plus the drift the workers
    met during the latest night, one line per element."""
    runs = store.list_runs(1)
    run = runs[0] if runs else None
    run_events = store.events(run.id) if run is not None else []
    console_at, console_events = _console_preflight(store)
    use_console = console_at is not None and (run is None or console_at >= run.started)
    if use_console:
        source, run_id, at, chosen = "console", None, console_at, console_events
    elif run is not None:
        source, run_id, at, chosen = "run", run.id, run.started, [e for e in run_events if _is_preflight(e)]
    else:
        source, run_id, at, chosen = None, None, None, []
    seen: dict[tuple[Any, ...], DriftLine] = {}
    for event in run_events:
        if event.code == DRIFT_CODE and event.case_id is not None:
            line = _drift_line(event)
            seen.setdefault((line.portal, line.screen, line.element), line)
    html = None
    path = runbooks_dir / Path(DRIFT_RUNBOOK).name
    if path.is_file():
        html = render_markdown(path.read_text(encoding="utf-8"), runbook_href=runbook_href, heading_shift=2)
    return DriftView(source, run_id, at, [_drift_line(e) for e in chosen], list(seen.values()), DRIFT_RUNBOOK,
                     html)


def _console_preflight(store: Store) -> tuple[datetime | None, list[Event]]:
    """When the latest console preflight ran, and what it found."""
    # The latest few hundred of each level: a console preflight writes its events together, and only the last counts.
    loose = [e for level in ("WARNING", "ERROR") for e in store.events(level=level, newest_first=True, limit=500)
             if e.run_id is None and _is_preflight(e)]
    loose.sort(key=lambda e: (e.at, e.id))
    group: list[Event] = []
    if loose:
        last = loose[-1].at
        group = [e for e in loose if last - e.at <= PREFLIGHT_SPAN]
    audits = [a for a in store.audit_log(20, action="run_preflight") if a.result.startswith("ok")]
    started = max((a.at for a in audits), default=None)
    if group and (started is None or started - group[-1].at <= PREFLIGHT_SPAN):
        return max(group[-1].at, started) if started else group[-1].at, group
    return started, []


# -- the automation rate -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthBar:
    """A month's shares as widths (percent) of a stacked CSS bar: full, partial, manual, failed."""

    month: str
    full: float
    partial: float
    manual: float
    failed: float


@dataclass(frozen=True)
class AutomationView:
    rate: AutomationRate
    months: int
    bars: list[MonthBar]
    minutes_saved: float  # over the months shown
    saved_text: str  # the same as hours and minutes


def automation_view(store: Store, config: Config, now: datetime, months: int = 6) -> AutomationView:
    """The automation rate (`bot.insights`) of the last `months` months up to `now`'s, with each month's bar."""
    rate = rate_from_store(store, months, now.date(), config.insights)
    bars = [MonthBar(m.month, m.share_full or 0.0, m.share_partial or 0.0, m.share_manual or 0.0,
                     m.share_failed or 0.0) for m in rate.months]
    saved = sum(m.minutes_saved for m in rate.months)
    return AutomationView(rate, months, bars, saved, hours_and_minutes(saved))
