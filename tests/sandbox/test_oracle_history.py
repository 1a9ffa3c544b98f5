"""The oracle's decision history worked out by hand: jobbstimulans from the decided months (docs/contract.md
"Jobbstimulans from the decision history") and the change reasons against last month's decision ("Changes against
last month's decision").

Every case is for P = 2026-12 unless told. The base household is one adult A (40 at the period's end) at HOME, rent
6 000 (the 2026 cap without children at 29 or more is 6 800), a wage of 8 000 after tax: single 3 940 + common(1)
1 280 = 5 220 norm. Counted wage: 8 000 outside a window, 8 000 − 25 % = 6 000 inside one.

A history is written as a pattern of months read oldest → newest, its last letter being P − 1 (2026-11): `B`
Beviljat, `A` Avslag, `.` a month with no decision. The walk, as the contract states it: outside a window a `B` adds
one to the streak and anything else sets it to 0; at 6 (month t) a window opens for t+1 … t+24 and the streak starts
again from 0 after the window's last month; inside a window months do not count at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pytest

from portals import oracle
from portals.oracle import CaseFacts, Decision, Member

P = "2026-12"
HOME = "Storgatan 1 lgh 1001, 231 31 Trelleborg"
OLD_HOME = "Algatan 7 lgh 1203, 231 42 Trelleborg"
NORM = {"norm_personliga": 3940, "norm_gemensamma": 1280}
A = Member("A", "sokande", dt.date(1986, 6, 15))


def month_before(months: int) -> str:
    index = oracle.month_index(P) - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def history(pattern: str, household: Iterable[str] = ("A",), address: str = HOME,
            applied: dict[str, int] | None = None, **approved: int) -> tuple[Decision, ...]:
    """The decisions of `pattern` (see the module's docstring), newest first; each has the household, the address
    and the amounts given (approved; applied the same unless `applied` says otherwise for some field)."""
    rows = {**NORM, "boende": 6000, **approved}
    return tuple(Decision(month_before(back), oracle.BEVILJAT if letter == "B" else oracle.AVSLAG, address,
                          frozenset(household), {**rows, **(applied or {})}, rows)
                 for back, letter in enumerate(reversed(pattern), start=1) if letter != ".")


def case(decisions: tuple[Decision, ...], complete: bool = True, lon: int | None = 8000, rent: int = 6000,
         members: Iterable[Member] = (A,), incomes: Iterable[tuple[str, str, int]] = (),
         reported: dict[tuple[str, str], int] | None = None, address: str = HOME, **extra: object) -> oracle.Expected:
    declared = [*incomes, *([("A", "lon", lon)] if lon else [])]
    values: dict[str, object] = {"case_id": "EB-HIST", "period": P, "application_type": "Återansökan",
                                 "bistand_sedan": None}
    values.update(extra)
    return oracle.expected_outcome(CaseFacts(
        members=tuple(members), costs={"boende": rent}, incomes=tuple(declared), reported=reported or {},
        address=address, decisions=decisions, history_complete=complete, **values))  # type: ignore[arg-type]


def stimulans(pattern: str, complete: bool = True) -> int | None:
    return oracle.jobbstimulans_month(history(pattern), P, complete)


# -- jobbstimulans: complete histories ------------------------------------------------------------------------------

def test_month_6_of_a_spell_is_not_yet_in_a_window() -> None:
    # BBBBB: 2026-07 … 2026-11, streak 1 … 5; no window reaches 2026-12. The wage counts in full, as last month.
    assert stimulans("BBBBB") == 0
    result = case(history("BBBBB", lon=8000))
    assert result.outcome == "auto" and result.reasons == () and result.fields["lon"] == 8000
    assert result.att_betala == 5220 + 6000 - 8000  # 3 220


def test_month_7_of_a_spell_is_the_windows_first_month() -> None:
    # BBBBBB: 2026-06 … 2026-11, streak 6 at 2026-11 (t) → window 2026-12 … 2028-11: P is month 1.
    # 8 000 − 2 000 = 6 000 counted; last month (month 6 of the spell, no window) 8 000 was counted:
    # |6 000 − 8 000| × 100 = 200 000 > 12 × 8 000 = 96 000 → INCOME_CHANGED, a warning: still automatic.
    assert stimulans("BBBBBB") == 1
    result = case(history("BBBBBB", lon=8000))
    assert result.outcome == "auto" and result.reasons == (oracle.INCOME_CHANGED,)
    assert result.fields["lon"] == 6000 and result.att_betala == 5220 + 6000 - 6000


def test_the_windows_24th_month_and_the_month_after() -> None:
    # 29 × B: 2024-07 … 2026-11; streak 6 at 2024-12 → window 2025-01 … 2026-12: P is month 24, the last.
    assert stimulans("B" * 29) == 24
    last_month = case(history("B" * 29, lon=6000))  # 2026-11 was month 23: 6 000 counted then too
    assert last_month.reasons == () and last_month.fields["lon"] == 6000
    # 30 × B: 2024-06 … 2026-11; window 2024-12 … 2026-11, then the streak starts again from 0 in 2026-12:
    # P would be "month 25" – no window. 8 000 counted against 6 000 last month: 2 000 × 100 > 12 × 6 000.
    assert stimulans("B" * 30) == 0
    after = case(history("B" * 30, lon=6000))
    assert after.reasons == (oracle.INCOME_CHANGED,) and after.fields["lon"] == 8000


def test_a_gap_and_a_return_inside_the_window() -> None:
    # BBBBBBBB...BB: 2025-11 … 2026-06 on (8), 2026-07 … 2026-09 off (3), 2026-10 … 2026-11 back (2).
    # Streak 6 at 2026-04 → window 2026-05 … 2028-04; the months off are inside it and change nothing (it runs on
    # calendar months). P = 2026-12 is month 8. (Counted from bistand_sedan 2026-10 it would be month 3: no.)
    assert stimulans("BBBBBBBB...BB") == 8
    result = case(history("BBBBBBBB...BB", lon=6000), bistand_sedan="2026-10")
    assert result.reasons == () and result.fields["lon"] == 6000


@pytest.mark.parametrize(("pattern", "month"), [
    # 2024-01 … 2024-06 on: streak 6 at 2024-06 → window 2024-07 … 2026-06, all of it off. Back 2026-07 …
    # 2026-11: streak 5 → P is in no window; six new months are needed.
    ("B" * 6 + "." * 24 + "B" * 5, 0),
    # 2024-01 … 2024-06 on → window 2024-07 … 2026-06; back from 2026-06 (6 months), but 2026-06 is the window's
    # last month and does not count: streak 5 (2026-07 … 2026-11) → still no window.
    ("B" * 6 + "." * 23 + "B" * 6, 0),
    # 2023-12 … 2024-05 on → window 2024-06 … 2026-05; back from 2026-05 (7 months): 2026-05 inside, 2026-06 …
    # 2026-11 count: streak 6 at 2026-11 → a new window 2026-12 … 2028-11: P is its month 1. (36 months, the whole
    # history: complete.)
    ("B" * 6 + "." * 23 + "B" * 7, 1),
])
def test_a_return_after_the_window_needs_six_new_months(pattern: str, month: int) -> None:
    assert stimulans(pattern) == month
    assert case(history(pattern, lon=6000 if month else 8000)).fields["lon"] == (6000 if month else 8000)


def test_an_avslag_breaks_the_streak_but_not_a_window() -> None:
    # BBBBABBBBB: 2026-02 … 2026-05 on (streak 4), 2026-06 Avslag (streak 0), 2026-07 … 2026-11 (streak 5): none.
    assert stimulans("BBBBABBBBB") == 0
    assert case(history("BBBBABBBBB", lon=8000)).fields["lon"] == 8000
    # Without the Avslag: 2026-02 … 2026-11, streak 6 at 2026-07 → window 2026-08 …: P is month 5.
    assert stimulans("BBBBBBBBBB") == 5
    # BBBBBBBABB: streak 6 at 2026-07 → window 2026-08 … 2028-07; the Avslag in 2026-09 is inside it: P is month 5.
    assert stimulans("BBBBBBBABB") == 5
    assert case(history("BBBBBBBABB", lon=6000)).fields["lon"] == 6000


# -- jobbstimulans: histories thinned out ("Gallrade") ----------------------------------------------------------------

def test_an_incomplete_history_that_still_tells() -> None:
    # Kept from 2023-12 (older gallrade): BB (2023-12, 2024-01), nothing 2024-02 … 2026-04, B 2026-05 … 2026-11.
    # The walks from every state the thinned months could have left:
    #  - no window, streak 0 … 3: two B make it 2 … 5, the pause sets it to 0;
    #  - streak 4: 6 at 2024-01 → window 2024-02 … 2026-01; streak 5: 6 at 2023-12 → window 2024-01 … 2025-12;
    #  - a window ending at 2023-12 … 2025-11 (the oldest kept month to 23 months later).
    # Every window has ended by 2026-01, and 2026-02 … 2026-04 have no decision: every walk is at "no window,
    # streak 0" by 2026-04. Then 2026-05 … 2026-11: streak 6 at 2026-10 → window 2026-11 …: P is month 2 in all.
    pattern = "BB" + "." * 27 + "B" * 7
    assert len(pattern) == 36 and stimulans(pattern, complete=False) == 2
    result = case(history(pattern, lon=6000), complete=False)  # 2026-11 was month 1: 6 000 then too
    assert result.outcome == "auto" and result.reasons == () and result.fields["lon"] == 6000
    # The same with only 2026-09 … 2026-11 back: every walk has streak 3 at P, no window: decidable, 8 000.
    short = "BB" + "." * 31 + "BBB"
    assert stimulans(short, complete=False) == 0
    assert case(history(short, lon=8000), complete=False).fields["lon"] == 8000


def test_a_40_month_spell_with_thinned_history_cannot_tell() -> None:
    # On assistance 2023-08 … 2026-11 (40 months); kept 2023-12 … 2026-11 (36 × B), the first 4 months gallrade.
    # From "no window, streak s" (s = 0 … 5): the kept month 6 − s completes six, a window runs 24 months, six more
    # months open a second window at P − s: P is window month s + 1 (s = 0: streak 6 at 2024-05, window 2024-06 …
    # 2026-05, six more to 2026-11, window from 2026-12: month 1; s = 5: window 2024-01 … 2025-12, the next from
    # 2026-07: month 6) — six different answers. From a window that ended in 2023-12: streak 6 at 2024-06, window
    # 2024-07 … 2026-06, then 2026-07 … 2026-11 is a streak of 5: no window at all.
    # The walks disagree → JOBBSTIMULANS_UNKNOWN (partial), `lon` left empty.
    pattern = "B" * 36
    assert stimulans(pattern, complete=False) is None
    result = case(history(pattern, lon=7000), complete=False)
    assert result.outcome == "partial" and result.reasons == (oracle.JOBBSTIMULANS_UNKNOWN,)
    assert result.empty_fields == ("lon",) and "lon" not in result.fields
    # (Last month's 7 000 matches neither 6 000 nor 8 000: the wage this month is unknown, so it is not compared.)
    # Nobody earns: nothing is left empty and there is no reason.
    without = case(history(pattern), complete=False, lon=None)
    assert without.outcome == "auto" and without.reasons == () and without.fields["lon"] == 0
    # Had the history been complete (nothing before 2023-12): streak 6 at 2024-05 → window 2024-06 … 2026-05, then
    # 2026-06 … 2026-11 → window from 2026-12: P is month 1.
    assert stimulans(pattern, complete=True) == 1


# -- change reasons ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("now", "warned"), [
    (11200, False),  # +1 200: 1 200 × 100 = 120 000, not > 12 × 10 000 = 120 000 (exactly 12 %)
    (11201, True),   # +1 201: 120 100 > 120 000 (12.01 %)
    (8800, False),   # −1 200: exactly 12 % less
    (8799, True),
    (10000, False),
])
def test_income_changed_at_12_percent(now: int, warned: bool) -> None:
    result = case(history("BBB", a_kassa=10000), lon=None, incomes=[("A", "a_kassa", now)])
    assert result.reasons == ((oracle.INCOME_CHANGED,) if warned else ())
    assert result.outcome == "auto" and result.fields["a_kassa"] == now  # a warning changes no figure


def test_income_new_and_gone_in_the_contracts_order() -> None:
    # Last month: a wage of 3 000, no pension. Now: no wage, a pension of 1 200. `lon` comes before `pension` on the
    # form, but the reasons follow the contract's table: INCOME_NEW before INCOME_GONE.
    result = case(history("BB", lon=3000), lon=None, incomes=[("A", "pension", 1200)])
    assert result.outcome == "auto" and result.reasons == (oracle.INCOME_NEW, oracle.INCOME_GONE)
    assert result.fields["lon"] == 0 and result.fields["pension"] == 1200


def test_an_agency_income_compares_the_agencys_figure() -> None:
    # Declared sjukpenning 6 000, FK paid 8 000: INCOME_DEVIATION leaves the field for the caseworker, but the counted
    # amount is FK's 8 000. Last month 8 000 approved: no change; last month 6 500: 1 500 × 100 > 12 × 6 500 = 78 000.
    paid = {("A", "sjukpenning"): 8000}
    same = case(history("BB", sjukpenning=8000), lon=None, incomes=[("A", "sjukpenning", 6000)], reported=paid)
    assert same.reasons == (oracle.INCOME_DEVIATION,) and same.empty_fields == ("sjukpenning",)
    rose = case(history("BB", sjukpenning=6500), lon=None, incomes=[("A", "sjukpenning", 6000)], reported=paid)
    assert rose.reasons == (oracle.INCOME_DEVIATION, oracle.INCOME_CHANGED) and rose.outcome == "partial"


@pytest.mark.parametrize(("rent", "reasons", "boende"), [
    (6000, (oracle.COST_CHANGED,), 6000),     # 6 000 − 5 500 = 500: not more than the limit, a changed cost
    (6001, (oracle.RENT_RISE_CAPPED,), 5500),  # 501 > 500: capped at last month's approved 5 500 (no COST_CHANGED)
    (5500, (), 5500),
    (5400, (oracle.COST_CHANGED,), 5400),     # a fall is only a changed cost
])
def test_rent_rise_500_and_501(rent: int, reasons: tuple[str, ...], boende: int) -> None:
    result = case(history("BBBB", boende=5500), lon=None, rent=rent)
    assert result.outcome == "auto" and result.reasons == reasons and result.fields["boende"] == boende
    assert result.att_betala == 5220 + boende


def test_rent_rise_uses_last_months_approved_and_the_cap_still_wins() -> None:
    # Last month: applied 6 300, approved 5 500 (capped under the guidelines then). Now 6 300 again: the cost did not
    # change (6 300 = applied), but 6 300 − 5 500 = 800 > 500 → RENT_RISE_CAPPED, 5 500 written.
    capped = case(history("BB", applied={"boende": 6300}, boende=5500), lon=None, rent=6300)
    assert capped.reasons == (oracle.RENT_RISE_CAPPED,) and capped.fields["boende"] == 5500
    # 6 801 is above the cap 6 800: RENT_ABOVE_CAP as before (partial, boende empty), never RENT_RISE_CAPPED; the
    # declared 6 801 ≠ last month's applied 5 500 → COST_CHANGED too.
    above = case(history("BB", boende=5500), lon=None, rent=6801)
    assert above.reasons == (oracle.RENT_ABOVE_CAP, oracle.COST_CHANGED) and above.empty_fields == ("boende",)


def test_a_person_added_or_gone_makes_the_case_partial_with_nothing_empty() -> None:
    partner = Member("P", "medsokande", dt.date(1988, 3, 1))
    # Last month A alone; now A and P: the pair 7 100 + common(2) 1 410; everything is still written.
    added = case(history("BBB", household=("A",)), lon=None, members=(A, partner))
    assert added.outcome == "partial" and added.reasons == (oracle.HOUSEHOLD_CHANGED,) and added.empty_fields == ()
    assert added.fields["norm_personliga"] == 7100 and added.fields["norm_gemensamma"] == 1410
    # Last month A and X (moved out since); now A alone.
    gone = case(history("BBB", household=("A", "X")), lon=None)
    assert gone.outcome == "partial" and gone.reasons == (oracle.HOUSEHOLD_CHANGED,) and gone.empty_fields == ()


def test_an_address_change_leaves_boende_for_the_caseworker() -> None:
    result = case(history("BBB", address=OLD_HOME), lon=None)
    assert result.outcome == "partial" and result.reasons == (oracle.ADDRESS_CHANGED,)
    assert result.empty_fields == ("boende",) and result.fields["norm_personliga"] == 3940
    # A rent 900 higher at the new address: RENT_RISE_CAPPED would fill 5 500, but boende stays empty.
    moved = case(history("BBB", address=OLD_HOME, boende=5500), lon=None, rent=6400)
    assert moved.reasons == (oracle.RENT_RISE_CAPPED, oracle.ADDRESS_CHANGED) and "boende" not in moved.fields


def test_the_newest_decision_counts_however_old_and_none_means_no_change() -> None:
    # BBB..: the newest decision is 2026-09 (nothing in 2026-10, 2026-11): compared with it all the same.
    assert case(history("BBB..", lon=8000)).reasons == ()
    assert case(history("BBB..", household=("A", "X"), lon=8000)).reasons == (oracle.HOUSEHOLD_CHANGED,)
    # No decision at all: nothing to compare with.
    assert case(()).reasons == ()


def test_every_change_reason_in_order_after_triage_and_on_a_manual_case() -> None:
    partner = Member("P", "medsokande", dt.date(1988, 3, 1))
    last = history("BB", household=("A",), address=OLD_HOME, boende=5000, lon=3000, a_kassa=4000, hushallsel=300)
    # Now: pension new, wage gone, a-kassa 4 000 → 5 000 (25 %), hushållsel gone, rent 5 000 → 6 000 (capped),
    # P added, another address; A is protected: manual, nothing written, every reason listed.
    result = case(last, lon=None, members=(A, partner), incomes=[("A", "pension", 900), ("A", "a_kassa", 5000)],
                  protected=frozenset({"A"}))
    assert result.outcome == "manual" and result.fields == {} and result.empty_fields == oracle.FORM_FIELDS
    assert result.reasons == (oracle.PROTECTED_IDENTITY, oracle.INCOME_NEW, oracle.INCOME_GONE,
                              oracle.INCOME_CHANGED, oracle.COST_CHANGED, oracle.RENT_RISE_CAPPED,
                              oracle.HOUSEHOLD_CHANGED, oracle.ADDRESS_CHANGED)
