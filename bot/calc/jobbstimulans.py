"""Jobbstimulans from the decision history (SoL 4 kap. 1 b §; SFS 2025:400 12 kap. 8 §).

After försörjningsstöd six months in a row, 25 % of work income is disregarded for 24 months from then, whether
or not the household is on assistance in between; after those 24 months, six new months in a row are needed.
Over calendar months: walk the decided months oldest first with a state (the window's last month, the streak of
granted months); six in a row at month t open the window t+1 … t+24; months inside a window do not count towards
the next six. The period is in a window, or not.

A history the case system has thinned out ("gallrade") leaves the state at its oldest kept month unknown, so the
walk is tried from every state the missing months could have left (no window and a streak of 0–5, or a window
ending anywhere in the next 24 months). Where they disagree the answer cannot be told, and the robot says so
instead of guessing (JOBBSTIMULANS_UNKNOWN). The counting never looks at `bistand_sedan`: a return inside the
window keeps its jobbstimulans, which "months since the spell began" got wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.facts import History, parse_month


def month_index(month: str) -> int:
    year, mon = parse_month(month, "month")
    return year * 12 + mon - 1


def month_text(index: int) -> str:
    return f"{index // 12}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Window:
    first: str  # the first month the 25 % applies
    last: str

    def month_of(self, period: str) -> int:
        """Which month of the window the period is (1 = the first)."""
        return month_index(period) - month_index(self.first) + 1


@dataclass(frozen=True)
class JobbstimulansStatus:
    applies: bool | None  # None: the history does not reach far enough to tell
    window: Window | None = None
    month: int | None = None  # month k of the window
    months: int = 24

    def text(self, period: str) -> str:
        """For the note: which window applies and which month of it this is, or why none does."""
        if self.applies is None:
            return ("historiken räcker inte för att avgöra om jobbstimulans gäller (äldre beslut är gallrade): "
                    "lönen lämnas till handläggaren")
        if self.applies and self.window is not None:
            return (f"jobbstimulans gäller {self.window.first}–{self.window.last}, {period} är månad {self.month} "
                    f"av {self.months}")
        return "ingen jobbstimulans: inget fönster enligt beslutshistoriken omfattar " + period


_State = tuple[int | None, int]  # (the window's last month index or None, the streak of granted months)


def _walk(state: _State, start: int, period: int, granted: frozenset[int], qualifying: int,
          months: int) -> _State:
    window_end, streak = state
    for t in range(start, period):
        if window_end is not None and t <= window_end:
            continue
        if window_end is not None:
            window_end = None  # the window is over: count six new months
        streak = streak + 1 if t in granted else 0
        if streak >= qualifying:
            window_end, streak = t + months, 0
    return window_end, streak


def _outcome(state: _State, period: int, months: int) -> tuple[bool, int | None, int | None]:
    window_end, _ = state
    if window_end is not None and window_end >= period:
        first = window_end - months + 1
        return True, first, period - first + 1
    return False, None, None


def jobbstimulans_status(history: History | None, period: str, *, qualifying_months: int = 6,
                         months: int = 24) -> JobbstimulansStatus:
    if history is None:
        return JobbstimulansStatus(None, months=months)
    p = month_index(period)
    granted = frozenset(month_index(m) for m in history.granted_months())
    oldest = history.oldest_month
    start = month_index(oldest) if oldest is not None else p
    if history.complete:
        starts: list[_State] = [(None, 0)]
    else:
        starts = [(None, s) for s in range(qualifying_months)]
        starts += [(start + k, 0) for k in range(months)]
    outcomes = {_outcome(_walk(s, start, p, granted, qualifying_months, months), p, months) for s in starts}
    if len(outcomes) > 1:
        return JobbstimulansStatus(None, months=months)
    applies, first, k = outcomes.pop()
    if not applies or first is None:
        return JobbstimulansStatus(False, months=months)
    return JobbstimulansStatus(True, Window(month_text(first), month_text(first + months - 1)), k, months)
