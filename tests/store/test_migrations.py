from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.errors import ErrorCode, SystemException
from bot.store import SqliteStore
from bot.store import migrations as mig
from bot.store.migrations import MIGRATIONS, Migration, current_version, migrate
from tests.clock import FakeClock

LATEST = MIGRATIONS[-1].version


def make_v1_database(path: Path) -> None:
    """A database as the first released casebot left it, with a run's history in it."""
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, path, target=1) == 1
    conn.execute("INSERT INTO runs (id, started, ended, status, owner, counts_json, config_json) VALUES "
                 "('20241101-020000-aaaa', '2024-11-01T02:00:00.000000+00:00', "
                 "'2024-11-01T03:00:00.000000+00:00', 'finished', 'host:1', '{\"total\": 2}', '{}'), "
                 "('20241201-020000-bbbb', '2024-12-01T02:00:00.000000+00:00', NULL, 'running', 'host:2', '{}', '{}')")
    conn.execute("INSERT INTO work_items (run_id, case_id, period, state, outcome, attempts, amount, reasons_json, "
                 "masked_pnr, created, started, ended, duration_ms) VALUES "
                 "('20241101-020000-aaaa', 'EB-2024-00001', '2024-11', 'done', 'auto', 1, 8123, '[\"ok\"]', "
                 "'19850101-XXXX', '2024-11-01T02:00:00.000000+00:00', '2024-11-01T02:00:01.000000+00:00', "
                 "'2024-11-01T02:00:31.000000+00:00', 30000), "
                 "('20241201-020000-bbbb', 'EB-2024-00002', '2024-12', 'new', NULL, 0, NULL, '[]', NULL, "
                 "'2024-12-01T02:00:00.000000+00:00', NULL, NULL, NULL)")
    conn.execute("INSERT INTO checkpoints (work_item_id, step, data_json, at) VALUES "
                 "(1, 'park', '{\"status\": \"klar_for_signering\"}', '2024-11-01T02:00:30.000000+00:00')")
    conn.execute("INSERT INTO events (run_id, case_id, level, code, message, at) VALUES "
                 "('20241101-020000-aaaa', NULL, 'WARNING', 'SELECTOR_MISSING', 'drift', "
                 "'2024-11-01T02:10:00.000000+00:00')")
    conn.close()


def test_an_old_database_is_upgraded_without_losing_history(tmp_path: Path) -> None:
    db = tmp_path / "casebot.db"
    make_v1_database(db)
    with SqliteStore(db) as store:
        runs = store.list_runs()
        assert [r.id for r in runs] == ["20241201-020000-bbbb", "20241101-020000-aaaa"]
        assert runs[1].counts == {"total": 2}
        old = store.latest_item_for_case("EB-2024-00001")
        assert old is not None and (old.state, old.outcome, old.amount, old.duration_ms, old.masked_pnr) == \
            ("done", "auto", 8123, 30000, "19850101-XXXX")
        checkpoint = store.last_checkpoint(old)
        assert checkpoint is not None and checkpoint.data == {"status": "klar_for_signering"}
        [event] = store.events("20241101-020000-aaaa")
        assert (event.code, event.data) == ("SELECTOR_MISSING", None)
        # The unfinished run carries on with the new schema's features (back-off needs v2's column).
        run = store.open_run()
        assert run.id == "20241201-020000-bbbb" and run.resumed
        item = store.claim_next(run.id, "w")
        assert item is not None
        after = store.fail(item, "PORTAL_DOWN", "down", retryable=True, max_attempts=3, retry_in_s=60)
        assert after.not_before is not None
    conn = sqlite3.connect(db)
    assert [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")] == \
        list(range(1, LATEST + 1))
    conn.close()
    backup = sqlite3.connect(tmp_path / "casebot.db.v1.bak")
    assert backup.execute("SELECT COUNT(*) FROM work_items").fetchone()[0] == 2
    assert backup.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 1
    backup.close()


def test_a_v4_database_gains_the_crash_count_in_place(tmp_path: Path, clock: FakeClock) -> None:
    """The release before crashes were counted apart: its items get `crashes` 0 (their attempts stay as they
    were), and a run it left in progress is continued with the new rule."""
    db = tmp_path / "casebot.db"
    conn = sqlite3.connect(db, isolation_level=None)
    assert migrate(conn, db, target=4) == 4
    conn.execute("INSERT INTO runs (id, started, status, owner) VALUES "
                 "('20241201-020000-bbbb', '2024-12-01T02:00:00.000000+00:00', 'running', 'host:2')")
    conn.execute("INSERT INTO work_items (run_id, case_id, period, state, attempts, lease_owner, lease_until, "
                 "created) VALUES ('20241201-020000-bbbb', 'EB-2024-00001', '2024-12', 'in_progress', 2, "
                 "'host:2:w1', '2024-12-01T02:05:00.000000+00:00', '2024-12-01T02:00:00.000000+00:00')")
    assert "crashes" not in [r[1] for r in conn.execute("PRAGMA table_info(work_items)")]
    conn.close()
    with SqliteStore(db, clock=clock) as store:
        run = store.open_run()
        (item,) = store.items(run.id)
        assert (item.attempts, item.crashes, item.released) == (2, 0, None)
        assert store.release_leases(run.id, max_crashes=3) == 1
        (item,) = store.items(run.id)
        assert (item.state, item.attempts, item.crashes) == ("new", 1, 1)
    conn = sqlite3.connect(db)
    columns = {r[1]: r for r in conn.execute("PRAGMA table_info(work_items)")}
    assert {"crashes", "released"} <= set(columns) and columns["crashes"][3] == 1  # NOT NULL
    assert current_version(conn) == LATEST
    conn.close()
    assert (tmp_path / "casebot.db.v4.bak").exists()


def test_opening_an_up_to_date_database_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "casebot.db"
    SqliteStore(db).close()
    SqliteStore(db).close()
    conn = sqlite3.connect(db)
    assert current_version(conn) == LATEST
    assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == LATEST
    conn.close()
    assert not list(tmp_path.glob("*.bak"))  # a fresh database needs no backup


def test_a_failing_migration_leaves_the_database_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "casebot.db"
    make_v1_database(db)
    broken = Migration(LATEST + 1, "broken", ("ALTER TABLE work_items ADD COLUMN extra TEXT",
                                              "ALTER TABLE no_such_table ADD COLUMN x TEXT"))
    monkeypatch.setattr(mig, "MIGRATIONS", (*MIGRATIONS, broken))
    with pytest.raises(SystemException) as caught:
        SqliteStore(db)
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE
    conn = sqlite3.connect(db)
    assert current_version(conn) == 1
    columns = [r[1] for r in conn.execute("PRAGMA table_info(work_items)")]
    assert "not_before" not in columns and "extra" not in columns
    assert conn.execute("SELECT COUNT(*) FROM work_items").fetchone()[0] == 2
    conn.close()


def test_a_database_from_a_newer_casebot_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "casebot.db"
    SqliteStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_version VALUES (?, '2030-01-01', 'from the future')", (LATEST + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(SystemException) as caught:
        SqliteStore(db)
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE and "newer than this casebot" in str(caught.value)


def test_migrations_are_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


# -- PostgreSQL ---------------------------------------------------------------------------------------------
def test_an_old_postgresql_database_is_upgraded_without_losing_history(pg_url: str) -> None:
    import psycopg

    from bot.store import open_store
    from bot.store import postgres as pg

    with psycopg.connect(pg_url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        assert pg.migrate(conn, target=1) == 1
        conn.execute("INSERT INTO runs (id, started, status, owner) VALUES "
                     "('20241101-020000-aaaa', '2024-11-01T02:00:00.000000+00:00', 'finished', 'host:1')")
        conn.execute("INSERT INTO work_items (run_id, case_id, period, state, outcome, attempts, amount, created) "
                     "VALUES ('20241101-020000-aaaa', 'EB-2024-00001', '2024-11', 'done', 'auto', 1, 8123, "
                     "'2024-11-01T02:00:00.000000+00:00')")
    with open_store(pg_url) as store:
        (run,) = store.list_runs()
        (item,) = store.items(run.id)
        assert (item.case_id, item.amount, item.not_before, item.worked_by) == ("EB-2024-00001", 8123, None, None)
        assert (item.crashes, item.released) == (0, None)  # migration 5's columns, 0 for the old rows
        store.worker_seen("h:1:w1", run_id=run.id, state="idle")  # migration 4's table is there
    with psycopg.connect(pg_url, row_factory=psycopg.rows.dict_row) as conn:
        assert pg.current_version(conn) == LATEST
        versions = [r["version"] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        assert versions == list(range(1, LATEST + 1))


def test_robots_starting_together_on_an_empty_postgresql_database_migrate_it_once(pg_url: str) -> None:
    import threading

    from bot.store import open_store

    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        try:
            barrier.wait()
            open_store(pg_url).close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with open_store(pg_url) as store:
        store.open_run()
        assert len(store.list_runs()) == 1


def test_a_postgresql_database_from_a_newer_casebot_is_refused(pg_url: str) -> None:
    import psycopg

    from bot.store import open_store

    open_store(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version VALUES (%s, '2030-01-01', 'from the future')", (LATEST + 1,))
    with pytest.raises(SystemException) as caught:
        open_store(pg_url)
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE and "newer than this casebot" in str(caught.value)
