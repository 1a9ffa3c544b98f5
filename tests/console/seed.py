"""A real SQLite store with two nights in it, for the console's view tests and its pages in Chromium: cases in
every state, checkpoints, drift and broken selectors at the preflight, skipped and fired schedules, workers alive
and one whose process is gone, a protected identity, and failure screenshots and traces (one past retention)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Config, load_config
from bot.store import NewWorkItem, SqliteStore, Store
from bot.store.sql import worker_id
from tests.clock import FakeClock

START = datetime(2024, 12, 1, 0, 0, tzinfo=UTC)
PNRS = {  # unmasked here only: the store masks them, and no page may show them
    "EB-1": "19850312-2389", "EB-2": "19900101-1234", "EB-3": "198001011234", "EB-4": "7707071234",
    "EB-5": "19660606-6666", "EB-6": "19700707-7070", "EB-7": "19800808-8080", "EB-8": "19900909-9090",
    "EB-9": "20000101-0001",
}
CASEWORKERS = {"EB-1": "Handläggare Ett", "EB-4": "Handläggare Fyra"}


@dataclass
class Seeded:
    store_path: Path
    config: Config
    clock: FakeClock
    run1: str
    run2: str
    items: dict[str, int]  # "run:case" → item id
    dead_worker: str
    live_worker: str
    artefacts: Path

    def item(self, run: str, case: str) -> int:
        return self.items[f"{run}:{case}"]


def write_config(folder: Path) -> Config:
    path = folder / "robot.yaml"
    portals = "\n".join(f"  {name}: {{url: 'http://127.0.0.1:9', username: robot}}"
                        for name in ("casesystem", "skv", "fk", "af", "csn"))
    path.write_text(f"data_dir: data\nlog_dir: logs\nretention: {{traces_days: 7, screenshots_days: 14}}\n"
                    f"portals:\n{portals}\n", encoding="utf-8")
    return load_config(path)


def write_schedules(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "calendars").mkdir(exist_ok=True)
    (folder / "calendars" / "holidays.yaml").write_text(textwrap.dedent("""\
        name: test holidays
        dates:
          2024-12-24: Julafton
          2024-12-25: Juldagen
        """), encoding="utf-8")
    (folder / "nightly.yaml").write_text(textwrap.dedent("""\
        jobs:
          - name: natt
            cron: "0 1 * * *"
            timezone: Europe/Stockholm
            window: {until: "05:30"}
            blackout:
              calendars: [calendars/holidays.yaml]
              dates: ["2024-12-27"]
        """), encoding="utf-8")
    return folder


def _step(store: Store, clock: FakeClock, item, steps: list[str], data=None):  # type: ignore[no-untyped-def]
    for step in steps:
        clock.advance(2)
        store.checkpoint(item, step, data if step == "triage" else {"step": step})


def dead_worker_id(store_path: Path, when: datetime, run_id: str, case_id: str) -> str:
    """A worker that reported from a process that has since ended (its pid no longer exists)."""
    script = textwrap.dedent(f"""
        from datetime import datetime
        from bot.store import SqliteStore
        from bot.store.sql import worker_id
        store = SqliteStore({str(store_path)!r}, clock=lambda: datetime.fromisoformat({when.isoformat()!r}))
        wid = worker_id(1)
        store.worker_seen(wid, run_id={run_id!r}, state="working", case_id={case_id!r})
        store.close()
        print(wid)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    return done.stdout.strip()


def seed(folder: Path) -> Seeded:
    config = write_config(folder)
    clock = FakeClock()
    clock.now = START
    store_path = Path(config.store_url[len("sqlite:///"):])
    store = SqliteStore(store_path, clock=clock)
    items: dict[str, int] = {}
    me = worker_id(1)
    try:
        # -- night 1: finished, one case of every outcome --------------------------------------------------
        run1 = store.open_run({}, run_id="run-1", resume=False).id
        store.add_work_items(run1, [NewWorkItem(c, "2024-12", PNRS[c], caseworker=CASEWORKERS.get(c))
                                    for c in ("EB-1", "EB-2", "EB-3", "EB-4", "EB-5")])
        store.record_event(run1, "WARNING", "selector drift at preflight: fk/login/user found by label",
                           code="SELECTOR_DRIFT", data={"kind": "drift", "portal": "fk", "screen": "login",
                                                        "element": "user", "strategy": "label"})
        for case, how in (("EB-1", "auto"), ("EB-2", "partial"), ("EB-3", "protected"), ("EB-4", "failed"),
                          ("EB-5", "held")):
            item = store.claim_next(run1, me, 300)
            assert item is not None and item.case_id == case
            items[f"{run1}:{case}"] = item.id
            if how == "auto":
                _step(store, clock, item, ["collect", "triage", "compute", "fill", "save", "verify", "note", "park"],
                      {"outcome": "auto", "reasons": []})
                store.record_event(run1, "WARNING", "selector drift: skv/result/table matched by fallback #2 (text)",
                                   case_id=case, code="SELECTOR_DRIFT",
                                   data={"kind": "drift", "portal": "skv", "screen": "result", "element": "table",
                                         "strategy": "text"})
                store.complete(item, "auto", amount=8123, pnr=PNRS[case])
            elif how == "partial":
                reason = {"code": "NORM_FIGURE_MISSING", "outcome": "partial",
                          "text": f"Riksnormen saknas för sökande {PNRS[case]}"}
                _step(store, clock, item, ["collect", "triage"], {"outcome": "partial", "reasons": [reason]})
                store.complete(item, "partial", amount=5000, reasons=[reason], empty_fields=["norm_personliga"],
                               pnr=PNRS[case])
            elif how == "protected":
                reason = {"code": "PROTECTED_IDENTITY", "outcome": "manual",
                          "text": "Skyddade personuppgifter enligt Skatteverket i hushållet"}
                _step(store, clock, item, ["collect", "triage"], {"outcome": "manual", "reasons": [reason]})
                store.business_exception(item, "PROTECTED_IDENTITY", "skyddad identitet", reasons=[reason],
                                         step="triage")
                store.forget_person(item)
            elif how == "failed":
                _step(store, clock, item, ["collect", "triage"], {"outcome": "auto", "reasons": []})
                store.record_event(run1, "ERROR", f"SELECTOR_MISSING for {PNRS[case]}: casesystem decision/park",
                                   case_id=case, code="SELECTOR_MISSING", data={"step": "fill"})
                store.fail(item, "SELECTOR_MISSING", f"no strategy found park for {PNRS[case]}", retryable=False,
                           max_attempts=3, step="fill")
            else:
                _step(store, clock, item, ["collect"])
                store.fail(item, "INTERNAL_ERROR", "KeyError: 'x'", retryable=False, max_attempts=3)
            clock.advance(60)
        clock.now = START + timedelta(minutes=10)
        store.finish_run(run1, "finished")

        # -- between the nights: the scheduler's fires -----------------------------------------------------
        clock.now = START + timedelta(hours=20)
        store.record_event(None, "WARNING", "schedule natt: fire skipped (blackout): Julafton",
                           code="SCHEDULE_SKIPPED",
                           data={"job": "natt", "outcome": "blackout", "detail": "2024-12-24: Julafton",
                                 "at": "2024-12-01T20:00:00+00:00"})
        store.record_event(None, "WARNING", "schedule natt: fire skipped (not_leader)", code="SCHEDULE_SKIPPED",
                           data={"job": "natt", "outcome": "not_leader", "detail": "another host's scheduler leads",
                                 "at": "2024-12-01T20:30:00+00:00"})

        # -- night 2: running now --------------------------------------------------------------------------
        clock.now = START + timedelta(days=1)
        run2 = store.open_run({}, run_id="run-2", resume=False).id
        store.record_event(None, "INFO", "schedule natt: fired", code="SCHEDULE_FIRED",
                           data={"job": "natt", "outcome": "ran", "run_id": run2, "at": clock.now.isoformat()})
        store.add_work_items(run2, [NewWorkItem(c, "2024-12", PNRS[c], caseworker=CASEWORKERS.get(c))
                                    for c in ("EB-4", "EB-6", "EB-7", "EB-8", "EB-9")])
        store.record_event(run2, "WARNING", "selector drift at preflight: fk/login/user found by label",
                           code="SELECTOR_DRIFT", data={"kind": "drift", "portal": "fk", "screen": "login",
                                                        "element": "user", "strategy": "label"})
        store.record_event(run2, "ERROR", "selector broken at preflight: csn/search/pnr (no strategy matched)",
                           code="SELECTOR_MISSING", data={"step": "preflight", "portal": "csn", "screen": "search",
                                                          "element": "pnr"})
        again = store.claim_next(run2, me, 300)
        assert again is not None and again.case_id == "EB-4"
        items[f"{run2}:EB-4"] = again.id
        _step(store, clock, again, ["collect"])
        store.complete(again, "auto", amount=7000, pnr=PNRS["EB-4"])
        clock.advance(30)
        dead = dead_worker_id(store_path, clock.now, run2, "EB-6")
        held_by_dead = store.claim_next(run2, dead, 3600)  # EB-6: its holder's process is gone
        assert held_by_dead is not None and held_by_dead.case_id == "EB-6"
        items[f"{run2}:EB-6"] = held_by_dead.id
        working = store.claim_next(run2, me, 3600)  # EB-7: in this (live) process's hands
        assert working is not None and working.case_id == "EB-7"
        items[f"{run2}:EB-7"] = working.id
        _step(store, clock, working, ["collect"])
        store.worker_seen(me, run_id=run2, state="working", case_id="EB-7")
        for case in ("EB-8", "EB-9"):
            items[f"{run2}:{case}"] = next(i.id for i in store.items(run2) if i.case_id == case)
        clock.advance(30)
    finally:
        store.close()
    artefacts = _artefacts(config, clock.now)
    return Seeded(store_path, config, clock, run1, run2, items, dead, me, artefacts)


def _artefacts(config: Config, now: datetime) -> Path:
    folder = config.data_dir / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "EB-4-20241201T003000-casesystem.png": timedelta(hours=20),
        "EB-4-20241201T003000-casesystem-trace.zip": timedelta(hours=20),
        "desktop-EB-4-20241201T003001.png": timedelta(hours=20),
        "EB-4-20241101T003000-skv.png": timedelta(days=20),  # past the 14 days of screenshots
        "EB-4-20241122T003000-fk-trace.zip": timedelta(days=9),  # past the 7 days of traces
        "EB-3-20241201T003000-casesystem.png": timedelta(hours=20),  # a protected identity's
        "EB-44-20241201T003000-casesystem.png": timedelta(hours=20),  # another case's
        "EB-4-notes.txt": timedelta(hours=1),
    }
    for name, age in files.items():
        path = folder / name
        path.write_bytes(b"\x89PNG fake" if name.endswith(".png") else b"PK fake")
        stamp = (now - age).timestamp()
        os.utime(path, (stamp, stamp))
    return folder
