"""The store side of the operations console (issue 21): audit log, accounts, shared switches, forgetting dead
workers, and each work item's caseworker; on SQLite and PostgreSQL alike, and from a database of the release
before (schema 5)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.store import NewWorkItem, SqliteStore, Store, open_store
from bot.store.migrations import MIGRATIONS, current_version, migrate
from tests.clock import FakeClock

LATEST = MIGRATIONS[-1].version
PREVIOUS = 5  # the release before the console


# -- audit log ----------------------------------------------------------------------------------------------
def test_audit_entries_come_back_newest_first_filtered_and_masked(store: Store, clock: FakeClock) -> None:
    first = store.record_audit("drift1", "operations", "login")
    clock.advance(5)
    retry = store.record_audit("drift1", "operations", "retry_case", target="EB-2024-00007",
                               detail={"when": "now", "pnr": "19850312-2389", "note": "för 850312-2389"})
    clock.advance(5)
    refused = store.record_audit("titta", "viewer", "start_night", result="refused: viewer may not start a night")
    clock.advance(5)
    failed = store.record_audit("drift1", "operations", "run_preflight", result="failed: 19850312-2389 not found")

    assert first.id < retry.id < refused.id < failed.id
    assert retry.at - first.at == timedelta(seconds=5)
    assert [e.action for e in store.audit_log()] == ["run_preflight", "start_night", "retry_case", "login"]
    assert [e.action for e in store.audit_log(2)] == ["run_preflight", "start_night"]
    (only,) = store.audit_log(action="retry_case")
    assert (only.who, only.role, only.target, only.result) == ("drift1", "operations", "EB-2024-00007", "ok")
    # The detail is stored masked, as the events' data are: no personnummer reaches the audit log.
    assert only.detail == {"when": "now", "pnr": "19850312-XXXX", "note": "för 850312-XXXX"}
    assert store.audit_log(action="start_night")[0].result == "refused: viewer may not start a night"
    assert store.audit_log(action="run_preflight")[0].result == "failed: 19850312-XXXX not found"
    assert store.audit_log(action="logout") == []
    assert store.audit_log(action="login")[0].detail == {}


# -- controls -----------------------------------------------------------------------------------------------
def test_a_control_is_set_replaced_and_removed(store: Store, url: str) -> None:
    assert store.control("scheduler.paused") is None
    store.set_control("scheduler.paused", '{"by": "drift1", "reason": "patchning"}')
    store.set_control("scheduler.paused", '{"by": "drift2", "reason": "byte av server"}')
    store.set_control("other", "x")
    # Another process (a second store on the same database) sees the switch at once.
    with open_store(url) as elsewhere:
        assert elsewhere.control("scheduler.paused") == '{"by": "drift2", "reason": "byte av server"}'
    store.set_control("scheduler.paused", None)
    store.set_control("never.set", None)  # removing what is not there is no error
    assert store.control("scheduler.paused") is None
    assert store.control("other") == "x"



def test_a_control_taken_is_gone_for_every_other_taker(store: Store, url: str) -> None:
    store.set_control("scheduler.night_requested", '{"by": "drift1"}')
    with open_store(url) as elsewhere:
        # Two schedulers looking at once: one takes the request, the other finds nothing.
        assert elsewhere.take_control("scheduler.night_requested") == '{"by": "drift1"}'
        assert store.take_control("scheduler.night_requested") is None
    assert store.control("scheduler.night_requested") is None
    assert store.take_control("never.set") is None

# -- accounts -----------------------------------------------------------------------------------------------
def test_console_users_are_added_replaced_listed_and_removed(store: Store, clock: FakeClock) -> None:
    added = store.save_console_user("drift1", "operations", "$argon2id$one")
    clock.advance(60)
    store.save_console_user("admin1", "admin", "$argon2id$two")
    replaced = store.save_console_user("drift1", "viewer", "$argon2id$three", disabled=True)
    assert (replaced.role, replaced.password_hash, replaced.disabled) == ("viewer", "$argon2id$three", True)
    assert replaced.created == added.created  # an update keeps when the account was made
    assert store.console_user("drift1") == replaced
    assert store.console_user("DRIFT1") is None  # names are exact
    assert [u.name for u in store.console_users()] == ["admin1", "drift1"]
    assert store.console_user("admin1").disabled is False  # type: ignore[union-attr]
    assert store.delete_console_user("drift1") is True
    assert store.delete_console_user("drift1") is False
    assert [u.name for u in store.console_users()] == ["admin1"]
    with pytest.raises(ValueError, match="unknown console role"):
        store.save_console_user("root", "superuser", "$argon2id$four")
    assert store.console_user("root") is None


# -- workers ------------------------------------------------------------------------------------------------
def test_forget_workers_drops_only_those_not_heard_from_since(store: Store, clock: FakeClock) -> None:
    store.worker_seen("old:1:w1", run_id=None, state="stopped")
    store.worker_seen("old:1:w2", run_id=None, state="working", case_id="EB-2024-00001")  # killed, never stopped
    clock.advance(8 * 86400)
    store.worker_seen("new:2:w1", run_id=None, state="idle")
    assert store.forget_workers(clock() - timedelta(days=7)) == 2
    assert [w.id for w in store.workers()] == ["new:2:w1"]
    assert store.forget_workers(clock() - timedelta(days=7)) == 0


# -- caseworker -----------------------------------------------------------------------------------------------
def test_work_items_carry_the_caseworker_readable_and_a_pnr_in_it_masked(store: Store) -> None:
    run = store.open_run({})
    store.add_work_items(run.id, [NewWorkItem("EB-2024-00001", "2024-12", "19850312-2389", "Karin Lund"),
                                  NewWorkItem("EB-2024-00002", "2024-12", None, "handlaggare2"),
                                  NewWorkItem("EB-2024-00003", "2024-12", None),
                                  NewWorkItem("EB-2024-00004", "2024-12", None, "  "),
                                  NewWorkItem("EB-2024-00005", "2024-12", None, "fel 19850312-2389")])
    by_case = {i.case_id: i for i in store.items(run.id)}
    assert {c: i.caseworker for c, i in by_case.items()} == {
        "EB-2024-00001": "Karin Lund", "EB-2024-00002": "handlaggare2", "EB-2024-00003": None,
        "EB-2024-00004": None, "EB-2024-00005": "fel 19850312-XXXX"}
    assert by_case["EB-2024-00001"].masked_pnr == "19850312-XXXX"
    # The caseworker stays through the item's life (claim, complete).
    item = store.claim_next(run.id, "w1")
    assert item is not None and item.caseworker == "Karin Lund"
    assert store.complete(item, "auto", amount=100).caseworker == "Karin Lund"


# -- migration ------------------------------------------------------------------------------------------------
def _fill_v5(execute: object) -> None:
    """Rows as the release before the console left them (schema 5)."""
    run = ("INSERT INTO runs (id, started, ended, status, owner, counts_json, config_json) VALUES "
           "('20241101-020000-aaaa', '2024-11-01T02:00:00.000000+00:00', '2024-11-01T03:00:00.000000+00:00', "
           "'finished', 'host:1', '{\"total\": 1}', '{}')")
    item = ("INSERT INTO work_items (run_id, case_id, period, state, outcome, attempts, amount, masked_pnr, created, "
            "crashes) VALUES ('20241101-020000-aaaa', 'EB-2024-00001', '2024-11', 'done', 'auto', 1, 8123, "
            "'19850101-XXXX', '2024-11-01T02:00:00.000000+00:00', 1)")
    worker = ("INSERT INTO workers (id, host, pid, run_id, state, case_id, started, heartbeat) VALUES "
              "('host:1:w1', 'host', 1, '20241101-020000-aaaa', 'stopped', NULL, "
              "'2024-11-01T02:00:00.000000+00:00', '2024-11-01T03:00:00.000000+00:00')")
    for sql in (run, item, worker):
        execute(sql)  # type: ignore[operator]


def _check_upgraded(store: Store) -> None:
    (run,) = store.list_runs()
    (item,) = store.items(run.id)
    assert (item.case_id, item.amount, item.masked_pnr, item.crashes, item.caseworker) == \
        ("EB-2024-00001", 8123, "19850101-XXXX", 1, None)
    assert [w.id for w in store.workers()] == ["host:1:w1"]
    # The new tables work at once.
    store.record_audit("drift1", "operations", "login")
    store.set_control("scheduler.paused", "{}")
    store.save_console_user("drift1", "operations", "$h")
    assert run.ended is not None and store.forget_workers(run.ended + timedelta(seconds=1)) == 1
    new = store.open_run({})
    store.add_work_items(new.id, [NewWorkItem("EB-2024-00002", "2024-12", None, "handlaggare1")])
    assert store.items(new.id)[0].caseworker == "handlaggare1"


def test_a_database_of_the_release_before_the_console_is_upgraded_keeping_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "casebot.db"
    conn = sqlite3.connect(db, isolation_level=None)
    assert migrate(conn, db, target=PREVIOUS) == PREVIOUS
    _fill_v5(conn.execute)
    conn.close()
    with SqliteStore(db) as store:
        _check_upgraded(store)
    conn = sqlite3.connect(db)
    assert current_version(conn) == LATEST
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"audit_log", "console_users", "controls"} <= tables
    conn.close()
    backup = sqlite3.connect(tmp_path / f"casebot.db.v{PREVIOUS}.bak")
    assert backup.execute("SELECT COUNT(*) FROM work_items").fetchone()[0] == 1
    backup.close()


def test_a_postgresql_database_of_the_release_before_the_console_is_upgraded_keeping_its_rows(pg_url: str) -> None:
    import psycopg
    from psycopg.rows import dict_row

    from bot.store import postgres as pg

    with psycopg.connect(pg_url, autocommit=True, row_factory=dict_row) as conn:
        assert pg.migrate(conn, target=PREVIOUS) == PREVIOUS
        _fill_v5(conn.execute)
    with open_store(pg_url) as store:
        _check_upgraded(store)
    with psycopg.connect(pg_url, row_factory=dict_row) as conn:
        assert pg.current_version(conn) == LATEST
