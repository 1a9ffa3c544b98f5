"""The automation rate: per application month, the share of applications the robot prepared fully, partially or
left to a caseworker, what held cases back, and the caseworker time that saved.

The press texts this project grew from measure a robot like this by one number: the share of applications it
handled (56 % at first, 85 % the goal, Akademikern 2017). Each application (case, period) counts once, by its latest
work item across runs: a case that failed one night and was parked the next is a parked case, not two. Open items
(new, in progress) are shown but left out of the shares, since nothing is decided about them yet.

`automation_rate` is pure (work items in, figures out); `automation_items` is the one function that reads a store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bot.config import InsightsSettings
from bot.errors import ErrorCode
from bot.store.base import Store
from bot.store.models import WorkItem
from bot.triage.model import REASON_SUMMARIES_SV

OPEN_STATES: tuple[str, ...] = ("new", "in_progress")
CATEGORIES: tuple[str, ...] = ("full", "partial", "manual", "failed", "open")

UNKNOWN_ERROR = "UNKNOWN"


def code_text_sv(code: str) -> str:
    """The Swedish line for a reason or error code: the reason catalogue, else the error catalogue's summary."""
    if code in REASON_SUMMARIES_SV:
        return REASON_SUMMARIES_SV[code]
    try:
        return ErrorCode(code).summary.split(" / ", 1)[0]
    except ValueError:
        return code


@dataclass(frozen=True)
class MonthRate:
    month: str  # the applications' period, YYYY-MM
    full: int  # prepared fully: done, outcome auto (ready for signature)
    partial: int  # prepared partially: uncertain fields left empty (behöver kompletteras)
    manual: int  # left to a caseworker: a manual triage reason or a business exception
    failed: int  # a robot failure (system error after the retries)
    open: int  # not decided yet (new, in progress): shown, not in the shares
    total_decided: int  # full + partial + manual + failed
    share_full: float | None  # percent of the decided ones, one decimal; None when nothing was decided
    share_partial: float | None
    share_manual: float | None
    share_failed: float | None
    share_prepared: float | None  # full + partial: the applications the robot did the calculation for
    minutes_saved: float


@dataclass(frozen=True)
class HeldBack:
    code: str
    text: str  # Swedish, generic (never a case's own reason text)
    cases: int  # cases it kept from full preparation (each case once per distinct code), or failed with it
    kind: str = "reason"  # "reason" (triage or change warning, business exception) or "error" (a robot failure)


@dataclass(frozen=True)
class AutomationRate:
    months: list[MonthRate]  # oldest first
    held_back: list[HeldBack]  # most cases first
    assumption: str  # how the time saved is reckoned, in words, wherever the figure is shown
    assumption_sv: str = ""
    minutes_full: float = 20.0
    minutes_partial: float = 8.0

    def month(self, month: str) -> MonthRate | None:
        return next((m for m in self.months if m.month == month), None)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- the pure part ----------------------------------------------------------------------------------------------
def category(item: WorkItem) -> str:
    """full, partial, manual, failed or open. The state decides first: a failed or open item has no verdict."""
    if item.state == "failed":
        return "failed"
    if item.state in OPEN_STATES:
        return "open"
    if item.outcome == "auto":
        return "full"
    if item.outcome in ("partial", "manual"):
        return item.outcome
    return "open"  # a final state without an outcome is not something the store writes; never count it decided


def latest_items(items: Iterable[WorkItem]) -> list[WorkItem]:
    """One item per application (case, period): the latest, by item id. Ids grow across runs in both stores, so the
    highest is the newest attempt at the application, whatever state the older ones were left in."""
    latest: dict[tuple[str, str], WorkItem] = {}
    for item in items:
        key = (item.case_id, item.period)
        if key not in latest or item.id > latest[key].id:
            latest[key] = item
    return sorted(latest.values(), key=lambda i: (i.period, i.case_id))


def share(count: int, total: int) -> float | None:
    """Percent with one decimal, half up (63.65 → 63.7, as a person rounds), None for no decided cases."""
    if total == 0:
        return None
    return float((Decimal(count * 100) / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def held_back_codes(item: WorkItem) -> set[str]:
    """The codes that kept a partial or manual case from full preparation: its reasons, warnings excepted (a
    reason whose own outcome is auto left the case ready for signature); a business exception without reasons
    by its error code."""
    codes: set[str] = set()
    for reason in item.reasons:
        if not isinstance(reason, dict) or not reason.get("code"):
            continue
        if reason.get("outcome") == "auto":
            continue
        codes.add(str(reason["code"]))
    if not codes and item.last_error_code:
        codes.add(item.last_error_code)
    return codes


def assumption_text(settings: InsightsSettings) -> str:
    return (f"{settings.minutes_saved_full:g} min per fully prepared case, {settings.minutes_saved_partial:g} per "
            "partially prepared: configurable in insights: (minutes_saved_full, minutes_saved_partial). Our own "
            "estimate: no published figure for a caseworker's time per monthly application was found")


def assumption_text_sv(settings: InsightsSettings) -> str:
    return (f"{settings.minutes_saved_full:g} min per helt förberett ärende, {settings.minutes_saved_partial:g} min "
            "per delvis förberett: ändras under insights: i robotens konfiguration (minutes_saved_full, "
            "minutes_saved_partial). En egen uppskattning: någon publicerad siffra för handläggarens tid per "
            "månadsansökan har inte hittats")


def automation_rate(items: Iterable[WorkItem], months: Sequence[str] | None = None,
                    settings: InsightsSettings | None = None) -> AutomationRate:
    """The automation rate of the applications in `items` (any number of runs), per month in `months` (oldest
    first; a month without applications shows zeros). None: every period the items have. Items of other periods
    are left out."""
    settings = settings or InsightsSettings()
    latest = latest_items(items)
    shown = list(months) if months is not None else sorted({i.period for i in latest})
    wanted = set(shown)
    counts: dict[str, dict[str, int]] = {m: dict.fromkeys(CATEGORIES, 0) for m in shown}
    reasons: dict[str, int] = {}
    errors: dict[str, int] = {}
    for item in latest:
        if item.period not in wanted:
            continue
        kind = category(item)
        counts[item.period][kind] += 1
        if kind in ("partial", "manual"):
            for code in held_back_codes(item):
                reasons[code] = reasons.get(code, 0) + 1
        elif kind == "failed":
            code = item.last_error_code or UNKNOWN_ERROR
            errors[code] = errors.get(code, 0) + 1
    rates = [_month_rate(month, counts[month], settings) for month in shown]
    held = [HeldBack(code, code_text_sv(code), n, "reason") for code, n in reasons.items()]
    held += [HeldBack(code, code_text_sv(code), n, "error") for code, n in errors.items()]
    held.sort(key=lambda h: (-h.cases, h.kind != "reason", h.code))
    return AutomationRate(rates, held, assumption_text(settings), assumption_text_sv(settings),
                          settings.minutes_saved_full, settings.minutes_saved_partial)


def _month_rate(month: str, n: dict[str, int], settings: InsightsSettings) -> MonthRate:
    decided = n["full"] + n["partial"] + n["manual"] + n["failed"]
    saved = n["full"] * settings.minutes_saved_full + n["partial"] * settings.minutes_saved_partial
    return MonthRate(month=month, full=n["full"], partial=n["partial"], manual=n["manual"], failed=n["failed"],
                     open=n["open"], total_decided=decided, share_full=share(n["full"], decided),
                     share_partial=share(n["partial"], decided), share_manual=share(n["manual"], decided),
                     share_failed=share(n["failed"], decided),
                     share_prepared=share(n["full"] + n["partial"], decided), minutes_saved=saved)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_window(last: str, count: int) -> list[str]:
    """`count` months ending with `last` (YYYY-MM), oldest first."""
    if count < 1:
        raise ValueError("at least one month")
    year, month = (int(part) for part in last.split("-"))
    index = year * 12 + month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def hours_and_minutes(minutes: float) -> str:
    whole = round(minutes)
    return f"{whole // 60} h {whole % 60:02d} min" if whole >= 60 else f"{whole} min"


# -- reading the store ----------------------------------------------------------------------------------------------
# Applications for a month are handled from about the month before; a run that ended earlier than this before the
# window's first month cannot hold one of its applications, so older runs are not read at all.
_LOOKBACK = timedelta(days=62)
_ALL_RUNS = 1_000_000


def automation_items(store: Store, months: int, today: date | datetime | str) -> list[WorkItem]:
    """Every work item (all runs) of the applications of the `months` months ending with `today`'s month (a date,
    or YYYY-MM). The pure `automation_rate` picks each application's latest item."""
    window = month_window(today if isinstance(today, str) else month_of(today), months)
    wanted = set(window)
    first = date(int(window[0][:4]), int(window[0][5:]), 1)
    cutoff = datetime(first.year, first.month, first.day, tzinfo=UTC) - _LOOKBACK
    found: list[WorkItem] = []
    for run in store.list_runs(_ALL_RUNS):
        ended = run.ended
        if ended is not None and (ended if ended.tzinfo else ended.replace(tzinfo=UTC)) < cutoff:
            continue
        found += [item for item in store.items(run.id) if item.period in wanted]
    return found


def rate_from_store(store: Store, months: int, today: date | datetime | str,
                    settings: InsightsSettings | None = None) -> AutomationRate:
    """The automation rate of the `months` months ending with `today`'s month, from the store."""
    window = month_window(today if isinstance(today, str) else month_of(today), months)
    return automation_rate(automation_items(store, months, today), window, settings)


# -- plain text (casebot insights) ----------------------------------------------------------------------------------
def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %"


def rate_lines(rate: AutomationRate) -> list[str]:
    """The automation rate as a plain-text table per month, then what held cases back."""
    lines = ["Automation rate per application month (each application once, by its latest work item; open ones "
             "not in the shares)",
             f"{'MONTH':<8} {'DECIDED':>7} {'FULL':>5} {'%':>8} {'PARTIAL':>7} {'%':>8} {'MANUAL':>6} {'%':>8} "
             f"{'FAILED':>6} {'%':>8} {'OPEN':>5}  {'TIME SAVED':>12}"]
    for m in rate.months:
        lines.append(f"{m.month:<8} {m.total_decided:>7} {m.full:>5} {_pct(m.share_full):>8} {m.partial:>7} "
                     f"{_pct(m.share_partial):>8} {m.manual:>6} {_pct(m.share_manual):>8} {m.failed:>6} "
                     f"{_pct(m.share_failed):>8} {m.open:>5}  {hours_and_minutes(m.minutes_saved):>12}")
    lines.append(f"time saved: {rate.assumption}")
    lines.append("")
    if not rate.held_back:
        lines.append("what held cases back: nothing (no partial, manual or failed case)")
        return lines
    lines.append("what held cases back (cases each reason kept from full preparation; errors: failed cases)")
    lines.append(f"  {'CASES':>5}  {'KIND':<6} {'CODE':<26} TEXT")
    lines += [f"  {h.cases:>5}  {h.kind:<6} {h.code:<26} {h.text}" for h in rate.held_back]
    return lines
