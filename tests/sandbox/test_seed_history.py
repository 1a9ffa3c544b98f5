"""The seed's decision histories (portals/seed/history.py, `_history` in generate.py): consistent with `bistand_sedan`
and with the register, thinned out only past 36 months, every spell and change kind present in a 200-case world, and
the oracle finding jobbstimulans and the change reasons where the kinds put them (and nowhere else)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator

import pytest

from portals import db, oracle, seed
from portals.seed.model import CHANGE_KINDS, CHANGE_REASON, SPELL_KINDS, Case

CASES, SEED, PERIOD = 200, 1, "2026-12"
CASEWORKERS = {"handlaggare1", "handlaggare2", "handlaggare3"}

# Why last month's decision may differ from this month besides a change kind: the tags the seed sets for what the
# world did (see `_history_tags`), and the reasons each may bring.
WORLD_TAGS: dict[str, set[str]] = {
    "jobbstimulans_changes": {oracle.INCOME_CHANGED},  # a window began or ended: a quarter of the wage more or less
    "benefit_ended": {oracle.INCOME_GONE},  # FK paid last month, not this month (or CSN's summer break)
    "joined_since_last_decision": {oracle.HOUSEHOLD_CHANGED, oracle.INCOME_NEW, oracle.INCOME_CHANGED},
    "moved_since_last_decision": {oracle.ADDRESS_CHANGED, oracle.COST_CHANGED},
    "cap_changed": {oracle.RENT_RISE_CAPPED},  # last month's cap was lower (a child since, other guidelines)
}
# What a change kind brings besides its own reason.
SIDE_EFFECTS: dict[str, set[str]] = {
    "member_added": {oracle.INCOME_NEW, oracle.INCOME_CHANGED},  # the newcomer's own income
    "address_changed": {oracle.COST_CHANGED},  # the rent of the new flat
}


@pytest.fixture(scope="module")
def world() -> seed.World:
    return seed.generate_world(CASES, SEED, PERIOD)


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    data_dir = tmp_path_factory.mktemp("history")
    seed.seed_database(data_dir, CASES, SEED, PERIOD)
    connection = db.connect(db.db_path(data_dir))
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture(scope="module")
def expected(conn: sqlite3.Connection) -> dict[str, dict[str, object]]:
    return {r["case_id"]: {"outcome": r["outcome"], "reasons": json.loads(r["reasons_json"]),
                           "fields": json.loads(r["fields_json"]), "empty": json.loads(r["empty_fields_json"])}
            for r in conn.execute("SELECT * FROM sb_expected")}


def reasons(expected: dict[str, dict[str, object]], case: Case) -> list[str]:
    return expected[case.case_id]["reasons"]  # type: ignore[return-value]


def decisions(case: Case) -> tuple[oracle.Decision, ...]:
    return tuple(oracle.Decision(d.month, d.outcome, d.address, frozenset(d.household),
                                 {f: a for f, a, _ in d.rows}, {f: b for f, _, b in d.rows}) for d in case.decisions)


def stimulans(case: Case) -> int | None:
    return oracle.jobbstimulans_month(decisions(case), case.period, case.older == seed.model.COMPLETE)


def run_length(case: Case) -> int:
    """Months since bistand_sedan: the Beviljat months in a row up to P − 1."""
    return oracle.months_between(case.bistand_sedan, case.period) if case.bistand_sedan else 0


def earns(case: Case) -> bool:
    adults = {m.pnr for m in case.members if m.role in ("sokande", "medsokande")}
    return any(i.income_type == "lon" and i.pnr in adults and i.amount > 0 for i in case.incomes)


def month_back(months: int) -> str:
    return seed.add_months(PERIOD, -months)


# -- the shape of every history -------------------------------------------------------------------------------------

def test_every_case_has_its_history_and_a_first_application_none(conn: sqlite3.Connection, world: seed.World) -> None:
    rows = {r["case_id"]: r["older"] for r in conn.execute("SELECT * FROM cs_history")}
    assert len(rows) == CASES + 1  # and the reference case
    counts = Counter(r["case_id"] for r in conn.execute("SELECT case_id FROM cs_decisions"))
    for case in world.cases:
        if case.application_type == "Nyansökan":
            assert case.spell is None and not case.decisions and rows[case.case_id] == "finns_inte"
            assert case.case_id not in counts
        else:
            assert case.spell in SPELL_KINDS and counts[case.case_id] == len(case.decisions) >= 1
            assert rows[case.case_id] == case.older


def test_decisions_are_well_formed(world: seed.World) -> None:
    persons = {p.pnr for p in world.persons}
    for case in world.cases:
        months = [d.month for d in case.decisions]
        assert months == sorted(months, reverse=True) and len(set(months)) == len(months), case.case_id
        assert all(month_back(36) <= m < PERIOD for m in months), case.case_id
        for d in case.decisions:
            assert d.outcome in (oracle.BEVILJAT, oracle.AVSLAG) and d.decided_by in CASEWORKERS
            assert d.decided_on.strftime("%Y-%m") == d.month and 2 <= d.decided_on.day <= 6  # a few days in
            assert d.address.endswith(" Trelleborg")  # this municipality's decisions
            assert d.household[0] == case.applicant.pnr and set(d.household) <= persons
            for key, applied, approved in d.rows:
                assert key in oracle.FORM_FIELDS and (applied or approved) and min(applied, approved) >= 0
                assert applied == approved or (key == "boende" and approved < applied), (case.case_id, d.month, key)
        if case.decisions:
            newest = case.decisions[0]
            assert newest.outcome == oracle.BEVILJAT  # last month's decision is never a refusal in the seed
            note = case.journal[0]
            assert note.ts.startswith(newest.decided_on.isoformat()) and newest.month in note.text
    # Some decided rents are capped (the cap then in force was lower than the rent), some months refused.
    rows = [(f, a, b) for c in world.cases for d in c.decisions for f, a, b in d.rows]
    assert any(a != b for _, a, b in rows)
    assert any(d.outcome == oracle.AVSLAG for c in world.cases for d in c.decisions)


def test_bistand_sedan_is_the_current_run_of_beviljat_months(world: seed.World) -> None:
    for case in world.cases:
        outcome = {d.month: d.outcome for d in case.decisions}
        run = 0
        while outcome.get(month_back(run + 1)) == oracle.BEVILJAT:
            run += 1
        if case.older == seed.model.THINNED and run == 36:
            # The run reaches the oldest kept month: it began before it, in the months thinned out.
            assert case.bistand_sedan is not None and case.bistand_sedan < month_back(36), case.case_id
        else:
            assert case.bistand_sedan == (month_back(run) if run else None), case.case_id


def test_thinned_only_when_decisions_are_older_than_36_months(world: seed.World) -> None:
    for case in world.cases:
        if case.older == seed.model.THINNED:
            # Decisions went on past the 36 kept months: the oldest kept one is at the boundary.
            assert case.spell in ("long_unknown", "long_decidable") and case.decisions[-1].month == month_back(36)
        else:
            assert case.spell not in ("long_unknown", "long_decidable")
        if case.spell == "long_unknown":
            assert case.bistand_sedan is not None and oracle.months_between(case.bistand_sedan, PERIOD) >= 40
            assert len(case.decisions) == 36 and {d.outcome for d in case.decisions} == {oracle.BEVILJAT}


def test_every_spell_and_change_kind_is_in_a_200_case_world(world: seed.World) -> None:
    spells = Counter(c.spell for c in world.cases if c.spell)
    changes = Counter(c.change for c in world.cases if c.change)
    assert set(spells) == set(SPELL_KINDS) and set(changes) == set(CHANGE_KINDS)
    assert min(spells.values()) >= 5 and min(changes.values()) >= 2
    tags = Counter(t.split(":")[0] for c in world.cases for t in c.tags)
    # The variants within the kinds the walks turn on.
    assert {"avslag_resets", "avslag_inside_window", "back_inside_old_window", "rent_rise"} <= set(tags)
    assert any("rent_rise:500" in c.tags for c in world.cases) or any("rent_rise:501" in c.tags for c in world.cases)
    assert all(c.change is None or c.kind == seed.SIMPLE for c in world.cases)


# -- what jobbstimulans makes of each spell --------------------------------------------------------------------------

def test_jobbstimulans_as_each_spell_is_built(world: seed.World) -> None:
    seen: Counter[tuple[str, bool | None]] = Counter()
    for case in world.cases:
        if case.spell is None:
            continue
        k, n = stimulans(case), run_length(case)
        seen[(case.spell, None if k is None else k > 0)] += 1
        label = (case.case_id, case.spell, n, k)
        if case.spell == "short":
            assert k == 0 and 1 <= n <= 5, label
        elif case.spell == "window":
            assert k == n - 5 and 1 <= k <= 24, label  # n months in a row: the window opened after the sixth
        elif case.spell == "window_ended":
            assert k == (1 if n == 36 else 0) and 30 <= n <= 36, label
        elif case.spell == "long_unknown":
            assert k is None, label
        elif case.spell == "long_decidable":
            assert k == (n - 5 if n >= 6 else 0), label
        elif case.spell == "gap_return":
            assert k is not None and k > max(0, n - 5), label  # inside the window opened before the gap
        elif case.spell == "return_after_window":
            assert k == (1 if n == 6 and "back_inside_old_window" not in case.tags else 0), label
        elif "avslag_resets" in case.tags:
            assert k == (n - 5 if n >= 6 else 0), label
        else:
            assert k is not None and k > n - 5 and k > 0, label  # the Avslag was inside the window
    # Both answers for the decidable kinds that can go either way.
    assert {("long_decidable", True), ("long_decidable", False), ("avslag_in_spell", True)} <= set(seen)


def test_jobbstimulans_unknown_only_for_long_spells_with_a_wage(world: seed.World,
                                                               expected: dict[str, dict[str, object]]) -> None:
    unknown: Counter[bool] = Counter()
    for case in world.cases:
        flagged = oracle.JOBBSTIMULANS_UNKNOWN in reasons(expected, case)
        assert flagged == (case.spell == "long_unknown" and earns(case)), case.case_id
        if flagged and expected[case.case_id]["outcome"] != "manual":
            assert "lon" in expected[case.case_id]["empty"]  # type: ignore[operator]
        if case.spell == "long_unknown":
            unknown[flagged] += 1
    assert unknown[True] >= 2 and unknown[False] >= 2


def test_enough_wages_for_jobbstimulans_to_matter(world: seed.World, expected: dict[str, dict[str, object]]) -> None:
    reapplications = [c for c in world.cases if c.spell]
    earning = [c for c in reapplications if earns(c)]
    assert len(earning) >= 0.3 * len(reapplications)
    exempt = [c for c in earning if stimulans(c) and expected[c.case_id]["outcome"] != "manual"]
    assert len(exempt) >= 15
    for case in exempt:  # the wage written is the declared one less 25 % per adult, rounded half up
        adults = {m.pnr for m in case.members if m.role in ("sokande", "medsokande")}
        wages = [i.amount for i in case.incomes if i.income_type == "lon" and i.pnr in adults]
        assert expected[case.case_id]["fields"]["lon"] == sum(w - oracle.half_up(w * 25, 100) for w in wages)  # type: ignore[index]


# -- what differs from last month's decision -------------------------------------------------------------------------

def test_each_change_kind_gives_its_reason(world: seed.World, expected: dict[str, dict[str, object]]) -> None:
    for case in world.cases:
        if case.change is None:
            continue
        found = set(reasons(expected, case))
        wanted = CHANGE_REASON[case.change]
        outcome, fields = expected[case.case_id]["outcome"], expected[case.case_id]["fields"]
        label = (case.case_id, case.change, sorted(found), case.tags)
        if wanted is not None:
            assert wanted in found, label
        else:  # income_steady: within 12 %, no warning for it (a window beginning or ending may still warn)
            assert oracle.INCOME_CHANGED not in found or "jobbstimulans_changes" in case.tags, label
        if case.change in ("member_added", "member_gone", "address_changed"):
            assert outcome in ("partial", "manual"), label
        if case.change == "address_changed" and outcome != "manual":
            assert "boende" in expected[case.case_id]["empty"], label  # type: ignore[operator]
        if case.change == "rent_rise_capped" and outcome != "manual":
            rows = {f: b for f, _, b in case.decisions[0].rows}
            assert fields["boende"] == rows["boende"] < dict(case.costs)["boende"] - 500, label  # type: ignore[index]


def test_change_reasons_come_from_the_kinds_or_the_world(world: seed.World,
                                                          expected: dict[str, dict[str, object]]) -> None:
    quiet = 0
    for case in world.cases:
        found = set(reasons(expected, case)) & set(oracle.CHANGE_CODES)
        allowed: set[str] = set()
        if case.change:
            allowed |= {CHANGE_REASON[case.change] or oracle.INCOME_CHANGED, *SIDE_EFFECTS.get(case.change, ())}
            if case.change == "income_steady":
                allowed.discard(oracle.INCOME_CHANGED)
        for tag, brings in WORLD_TAGS.items():
            if tag in case.tags:
                allowed |= brings
                assert brings & found, (case.case_id, tag, sorted(found))  # the seed and the oracle agree
        assert found <= allowed, (case.case_id, case.change, case.tags, sorted(found))
        quiet += case.spell is not None and not found
    # The warnings come from the kinds: most re-applications have none.
    assert quiet >= 0.6 * sum(1 for c in world.cases if c.spell)


def test_last_months_decision_mirrors_this_month_unless_a_kind_says_otherwise(
        world: seed.World, expected: dict[str, dict[str, object]]) -> None:
    mirrored = 0
    for case in world.cases:
        row = expected[case.case_id]
        history_reasons = set(reasons(expected, case)) & {oracle.JOBBSTIMULANS_UNKNOWN, *oracle.CHANGE_CODES}
        if (not case.decisions or case.change or row["outcome"] == "manual" or history_reasons
                or any(tag in case.tags for tag in WORLD_TAGS)):
            continue
        last = case.decisions[0]
        approved = {f: b for f, _, b in last.rows}
        applied = {f: a for f, a, _ in last.rows}
        for key in (*oracle.COST_FIELDS, *oracle.INCOME_FIELDS):  # same rent, same costs, same incomes
            if key not in row["fields"]:  # type: ignore[operator]
                continue  # left for the caseworker (a rent above the cap, a deviating declaration)
            now = row["fields"][key]  # type: ignore[index]
            assert (applied if key in oracle.COST_FIELDS else approved).get(key, 0) == now, (case.case_id, key)
        assert set(last.household) == {m.pnr for m in case.members} and last.address == case.address
        mirrored += 1
    assert mirrored >= 30


def test_the_register_agrees_with_the_history(world: seed.World) -> None:
    regs: dict[str, list[seed.Registration]] = {}
    for r in world.registrations:
        regs.setdefault(r.pnr, []).append(r)
    end = oracle.period_end(PERIOD)

    def address_on(pnr: str, day: dt.date) -> str:
        dated = sorted(regs[pnr], key=lambda r: r.from_date)
        return next((r.address for r in reversed(dated) if r.from_date <= day), dated[0].address)

    persons = {p.pnr for p in world.persons}
    for case in world.cases:
        for d in case.decisions:  # every decision: where the applicant was registered that day
            assert address_on(case.applicant.pnr, d.decided_on) == d.address, (case.case_id, d.month)
        if not case.decisions:
            continue
        last, declared = case.decisions[0], {m.pnr for m in case.members}
        for newcomer in declared - set(last.household):  # the kind's, or someone born or moved in since
            moved_in = min(r.from_date for r in regs[newcomer] if r.address == case.address)
            assert last.decided_on < moved_in <= end, case.case_id
        if case.change == "member_added":
            assert declared - set(last.household), case.case_id
        if case.change == "member_gone":
            (leaver,) = set(last.household) - declared
            assert leaver in persons and address_on(leaver, last.decided_on) == case.address
            assert address_on(leaver, end) != case.address, case.case_id  # not registered here at the period's end
        if case.change == "address_changed":
            moved = min(r.from_date for r in regs[case.applicant.pnr] if r.address == case.address)
            assert last.decided_on < moved <= end and moved.strftime("%Y-%m") == PERIOD, case.case_id
            assert address_on(case.applicant.pnr, moved - dt.timedelta(days=1)) == last.address != case.address


def test_the_reference_case_has_fourteen_months_like_this_one(world: seed.World) -> None:
    ref = world.reference
    assert ref is not None and ref.older == seed.model.COMPLETE and ref.bistand_sedan == month_back(14)
    assert [d.month for d in ref.decisions] == [month_back(k) for k in range(1, 15)]
    assert all(d.outcome == oracle.BEVILJAT and set(d.household) == {m.pnr for m in ref.members}
               for d in ref.decisions)
