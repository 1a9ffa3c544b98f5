"""Jobbstimulans from the decision history, worked by hand from the rule (SoL 4 kap. 1 b §, SFS 2025:400 12 kap.
8 §; shared/domain-research.md § 2): after försörjningsstöd six months in a row, 25 % of work income is
disregarded for 24 months from then, on assistance or not in between; then six new months in a row are needed.

Each case lists the granted (G) and refused (A) months; every other month had no decision. The expected window
and month are counted on the calendar by hand in the comment, never computed by the code under test.
"""

from __future__ import annotations

import pytest

from bot.calc import calculate
from bot.calc.jobbstimulans import Window, jobbstimulans_status
from bot.facts import Decision, History
from tests.calc.builders import add_months, build


def months(first: str, count: int, outcome: str = "Beviljat") -> list[Decision]:
    return [Decision(add_months(first, i), outcome) for i in range(count)]


def history(*decisions: list[Decision], complete: bool = True, kept_from: str | None = None) -> History:
    return History(tuple(d for group in decisions for d in group), complete=complete, kept_from=kept_from)


CASES = [
    # (name, history, period, applies, window first, window last, month k)
    ("j01_month_6_of_a_spell_not_yet",
     # G 2026-06 … 2026-11 (six months) → six in a row only at 2026-11, window opens 2026-12; so at 2026-11's
     # application (five before it) it does not apply yet: period 2026-11 with G 2026-06 … 2026-10.
     history(months("2026-06", 5)), "2026-11", False, None, None, None),
    ("j02_seventh_month_is_window_month_1",
     # G 2026-06 … 2026-11 = six in a row ending 2026-11 → window 2026-12 … 2028-11; 2026-12 is month 1
     history(months("2026-06", 6)), "2026-12", True, "2026-12", "2028-11", 1),
    ("j03_window_month_24",
     # G 2024-01 … 2026-11 (unbroken): six by 2024-06 → window 2024-07 … 2026-06. 2026-06 is month 24.
     history(months("2024-01", 29)), "2026-06", True, "2024-07", "2026-06", 24),
    ("j04_month_25_of_an_unbroken_spell_is_out",
     # same spell; 2026-07 is after the window, and the months 2024-07 … 2026-06 inside it do not count: the
     # streak restarts at 2026-07, so nothing applies in 2026-07
     history(months("2024-01", 30)), "2026-07", False, None, None, None),
    ("j05_month_40_of_an_unbroken_spell_applies_again",
     # G 2023-08 … 2026-11 (40 months). Window 1: six by 2024-01 → 2024-02 … 2026-01. Then six new months
     # 2026-02 … 2026-07 → window 2: 2026-08 … 2028-07; 2026-12 is month 5. (Months 6–29 of the spell would say
     # "no": that underpaid 1 500 kr a month on a 6 000 kr wage.)
     history(months("2023-08", 40)), "2026-12", True, "2026-08", "2028-07", 5),
    ("j06_return_inside_the_window",
     # G 2025-01 … 2025-08 (window 2025-07 … 2027-06), no assistance 2025-09 … 2026-02, G again from 2026-03.
     # 2026-12 is still inside the window (calendar months): month 18. The spell since 2026-03 is only 9 months.
     history(months("2025-01", 8), months("2026-03", 9)), "2026-12", True, "2025-07", "2027-06", 18),
    ("j07_return_after_the_window_needs_six_new_months",
     # G 2023-01 … 2023-06 → window 2023-07 … 2025-06. Back on assistance G 2026-08 … 2026-11 (four months):
     # the window is over and only four new months in a row → no jobbstimulans in 2026-12
     history(months("2023-01", 6), months("2026-08", 4)), "2026-12", False, None, None, None),
    ("j08_avslag_breaks_the_streak",
     # G 2026-03 … 2026-05, A 2026-06, G 2026-07 … 2026-11: the longest run before 2026-12 is five (07–11)
     history(months("2026-03", 3), months("2026-06", 1, "Avslag"), months("2026-07", 5)), "2026-12",
     False, None, None, None),
    ("j09_incomplete_but_decidable",
     # Kept from 2024-12 (older gallrade), G 2024-12 … 2026-11 (24 months). Whatever came before: a window
     # running at 2024-12 ends by 2026-11 at the latest, and inside it the streak waits; every other start reaches
     # six in a row by 2025-05 at the latest, opening a window that covers … let us see each start:
     #  - no window, streak s (0–5): six reached at 2024-12+(5−s) → window from 2025-01+(5−s) … , 24 months, so
     #    2026-12 is inside for s = 0 (window 2025-06 … 2027-05, month 19) but for s = 5 (window 2025-01 …
     #    2026-12, month 24): different months → cannot be told. So this one is NOT decidable; see j10 for one that is.
     history(months("2024-12", 24), complete=False, kept_from="2024-12"), "2026-12", None, None, None, None),
    ("j10_incomplete_and_decidable",
     # Kept from 2024-01 (older gallrade); no assistance 2024-01 … 2025-12 (no rows at all), G 2026-01 … 2026-11.
     # Any window from before 2024-01 ended by 2025-12; the streak is 0 after the empty 2025 whatever came
     # before; six by 2026-06 → window 2026-07 … 2028-06, 2026-12 is month 6 — from every start.
     history(months("2026-01", 11), complete=False, kept_from="2024-01"), "2026-12", True, "2026-07", "2028-06", 6),
    ("j11_incomplete_long_spell_cannot_be_told",
     # Kept from 2023-12 (36 months before 2026-12), G every month: a 40-month spell whose first 4 months are
     # gallrade. Starting with no window and streak 0 → windows 2024-06 … 2026-05 and (six new 2026-06 … 11)
     # 2026-12 … : applies, month 1; starting inside a window ending 2024-01 → six new 2024-02 … 07, window
     # 2024-08 … 2026-07, then six new 2026-08 … 2027-01: not in 2026-12. The starts disagree → unknown.
     history(months("2023-12", 36), complete=False, kept_from="2023-12"), "2026-12", None, None, None, None),
    ("j12_no_history_at_all_complete",
     # a first spell with no earlier decision: nothing to count
     history(), "2026-12", False, None, None, None),
]


@pytest.mark.parametrize(("name", "hist", "period", "applies", "first", "last", "k"), CASES, ids=[c[0] for c in CASES])
def test_window_by_hand(name, hist, period, applies, first, last, k) -> None:
    status = jobbstimulans_status(hist, period)
    assert status.applies is applies
    if applies:
        assert status.window == Window(first, last)
        assert status.month == k
    else:
        assert status.window is None and status.month is None


def test_the_history_not_read_is_unknown() -> None:
    assert jobbstimulans_status(None, "2026-12").applies is None


def test_month_40_is_paid_what_the_first_release_underpaid(guidelines, norms) -> None:
    # j05's household with a 6 000 kr wage in 2026-12: 25 % = 1 500 disregarded → 4 500 counts. The first release
    # counted all 6 000 (month 40 of the spell is outside 6–29) and parked it as Klar för signering.
    facts = build("2026-12", {"A": ("sokande", "1980-05-05")}, incomes=[("A", "lon", 6000)],
                  history=history(months("2023-08", 40)))
    calc = calculate(facts, guidelines, norms)
    assert calc.amount("lon") == 4500
    assert "jobbstimulans gäller 2026-08–2028-07, 2026-12 är månad 5 av 24" in calc.line("lon").rule


def test_return_inside_the_window_is_paid(guidelines, norms) -> None:
    # j06: 8 000 × 25 % = 2 000 disregarded → 6 000
    facts = build("2026-12", {"A": ("sokande", "1980-05-05")}, incomes=[("A", "lon", 8000)],
                  history=history(months("2025-01", 8), months("2026-03", 9)))
    assert calculate(facts, guidelines, norms).amount("lon") == 6000
