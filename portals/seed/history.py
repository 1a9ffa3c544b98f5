"""The shape of a re-application's decision history, and what jobbstimulans makes of it.

A shape maps months before the period (1 = P − 1, 2 = P − 2, …) to the outcome decided for that month; a month not
in it had no application (a gap). `spell_shape` draws the shape of one of `SPELL_KINDS` (see `model.py`), `windows`
walks a whole shape as the law reads (six Beviljat months in a row, then 24 calendar months, then six new ones) and
`history_norms` gives a past month a full norm table. The walk here is the seed's own, written apart from the
oracle's, so that the tests can hold the two against each other; the generator (`generate.py`) turns a shape into
the decisions the case system shows (dates, addresses, households, decided calculations).
"""

from __future__ import annotations

import random
from dataclasses import replace

from portals import oracle

Shape = dict[int, str]  # months before the period → Beviljat | Avslag

BEVILJAT, AVSLAG = oracle.BEVILJAT, oracle.AVSLAG
STREAK, WINDOW = 6, 24  # Beviljat months in a row, then the window's calendar months (SoL 4:1 b)


def run(first: int, last: int, outcome: str = BEVILJAT) -> Shape:
    """Offsets first … last (months before the period), all with `outcome`."""
    return {offset: outcome for offset in range(first, last + 1)}


def spell_shape(kind: str, rng: random.Random, room: int) -> tuple[Shape, list[str]] | None:
    """The decided months of a spell of `kind` and notes on its variant, or None when it needs decisions further
    back than `room` months (the applicant was not yet 18)."""
    tags: list[str] = []
    shape: Shape
    if kind == "short":
        n = min(room, rng.choice((1, 2, 3, 4, 5, 5, 5)))  # 5: P is month 6 of the spell, the last one without
        shape = run(1, n)
    elif kind == "window":
        if room < STREAK:
            return None
        n = rng.choice((6, 6, 7, 28, 29)) if rng.random() < 0.3 else rng.randint(6, 29)
        shape = run(1, min(n, room))
    elif kind == "window_ended":
        shape = run(1, rng.choice((30, 30, 31, 32, 33, 34, 35, 36, 36)))
    elif kind == "long_unknown":
        shape = run(1, rng.randint(40, 84))
    elif kind == "long_decidable":
        # An old spell whose last `kept` months are the oldest kept (P − 36 …), gallrade before that; a pause
        # (its first month an Avslag half the time); back for n months. Every window the thinned months could
        # have left, or the kept months could have opened, has ended by P − 13 + kept (at most 24 months from the
        # kept start, plus up to `kept` months of streak), so a pause reaching P − 12 + kept settles every walk
        # at "no window, streak 0": n ≤ 11 − kept. n ≥ 6 then means a window, n < 6 none, whatever came before.
        kept = rng.randint(1, 4)
        n = rng.randint(6, 11 - kept) if rng.random() < 0.5 else rng.randint(0, 5)
        shape = {**run(1, n), **run(37 - kept, 36 + rng.randint(3, 30))}
        if n and rng.random() < 0.5:  # (not when nothing follows: last month's decision is never an Avslag)
            shape[36 - kept] = AVSLAG
            tags.append("avslag_then_pause")
    elif kind == "gap_return":
        # a months on (a window from month 7), g off, r back: P is window month a − 6 + g + r + 1 ≤ 24.
        on, off = (8, 3) if rng.random() < 0.25 else (rng.randint(6, 14), rng.randint(1, 4))
        back = rng.randint(0, min(8, 29 - on - off))
        shape = {**run(1, back), **run(back + off + 1, back + off + on)}
    elif kind == "return_after_window":
        # a months on: the window is months 7 … 30 counted from the spell's first month.
        on = rng.randint(6, 10)
        if rng.random() < 0.7:
            back = rng.choice((0, 1, 2, 3, 4, 5, 5, 6))  # after the window ended; six months open a new one
            off = 30 - on + rng.randint(0, 6 - back)
        else:
            # Back while the window still ran: 6–8 months back, but only `after` of them after its end count.
            back, after = rng.randint(6, 8), rng.randint(0, 5)
            off = 30 - on - back + after
            tags.append("back_inside_old_window")
        shape = {**run(1, back), **run(back + off + 1, back + off + on)}
    elif kind == "avslag_in_spell":
        if rng.random() < 0.6:
            before, after = rng.randint(2, 5), rng.randint(1, 10)  # the Avslag resets a streak of 2–5
            tags.append("avslag_resets")
        else:
            before, after = rng.randint(6, 12), rng.randint(1, 8)  # inside the window: it changes nothing
            tags.append("avslag_inside_window")
        shape = {**run(1, after), after + 1: AVSLAG, **run(after + 2, after + 1 + before)}
    else:
        raise ValueError(f"unknown spell kind {kind!r}")
    if max(shape, default=0) > room:
        return None
    return shape, tags


def windows(shape: Shape) -> dict[int, int]:
    """For each month from the shape's oldest to the period (as offsets: …, 2, 1, 0), which month of a jobbstimulans
    window it is (1 … 24) or 0, walking the whole history from its first decision (nothing came before it)."""
    status: dict[int, int] = {}
    window: tuple[int, int] | None = None  # (first, last) as negative offsets, so months count upwards
    streak = 0
    for month in range(-max(shape, default=0), 1):
        status[-month] = month - window[0] + 1 if window and window[0] <= month <= window[1] else 0
        if month == 0:
            break
        if window and month <= window[1]:
            if month == window[1]:
                window, streak = None, 0
            continue
        streak = streak + 1 if shape.get(-month) == BEVILJAT else 0
        if streak == STREAK:
            window, streak = (month + 1, month + WINDOW), 0
    return status


def spell_start(shape: Shape) -> int:
    """How many Beviljat months in a row end at P − 1 (0: P − 1 had none)."""
    run = 0
    while shape.get(run + 1) == BEVILJAT:
        run += 1
    return run


def _up(figure: int | None, per_ten_thousand: int) -> int | None:
    """figure × per_ten_thousand ÷ 10 000, rounded up to the next ten (domain-research.md section 7)."""
    return None if figure is None else -(-(figure * per_ten_thousand) // 100000) * 10


def _uplifted(norms: oracle.Norms, per_ten_thousand: int) -> oracle.Norms:
    def up(figures: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return tuple(_up(f, per_ten_thousand) for f in figures)

    return oracle.Norms(_up(norms.single, per_ten_thousand), _up(norms.pair, per_ten_thousand), up(norms.children),  # type: ignore[arg-type]
                        up(norms.without_lunch), up(norms.common))  # type: ignore[arg-type]


def _merged(known: oracle.Norms, derived: oracle.Norms) -> oracle.Norms:
    def pick(a: tuple[int | None, ...], b: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return tuple(x if x is not None else y for x, y in zip(a, b, strict=True))

    return oracle.Norms(known.single or derived.single, known.pair or derived.pair,
                        pick(known.children, derived.children), pick(known.without_lunch, derived.without_lunch),  # type: ignore[arg-type]
                        pick(known.common, derived.common))  # type: ignore[arg-type]


def history_norms(year: int) -> oracle.Norms:
    """A full norm table for a past decision: the caseworker then had every figure, the sandbox knows only some.
    Known figures where the sandbox has them; otherwise 2024's uplifted by 2.8 % (2025) and again by 0.7 % (2026),
    each rounded up to the ten, which reproduces every sourced 2026 figure (domain-research.md section 7); 2021's
    table up to 2022, 2024's for 2023. The "utan lunch" figures are never used for a past month."""
    y2024 = replace(oracle.NORMS[2024], without_lunch=oracle.NORMS[2024].children[:4])
    if year <= 2022:
        return oracle.NORMS[2021]
    if year <= 2024:
        return y2024
    y2025 = _uplifted(y2024, 10280)
    if year == 2025:
        return y2025
    return _merged(oracle.NORMS[2026], _uplifted(y2025, 10070))
