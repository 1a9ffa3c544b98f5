"""How many page requests per second the sandbox serves, so benchmarks of the robot measure the robot.

Starts a fresh sandbox (or attaches to a running one), logs in to every portal with httpx, then lets a fixed
number of asyncio clients request realistic pages for a bounded time at latency 0: the case system's inbox
and case tabs, SKV search results, the FK app shell and JSON API, the AF status frame and the CSN statement.
Two phases of `--seconds` each: "capacity" leaves out the FK API (it sleeps 150–400 ms on purpose, like a real
back end, so it would measure the clients' patience, not the sandbox), "robot_mix" has everything. The
headline `page_requests_per_s` is the capacity phase. Writes bench/results/sandbox-throughput.json and prints
a table.

    python bench/sandbox_throughput.py [--seconds 10] [--clients 16] [--attach PORT_BASE --data DIR]

A benchmark, not a test: it asserts nothing. Client and server share the machine, so the figure is a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.sandbox_proc import PORTAL_NAMES, Sandbox, start_sandbox  # noqa: E402

RESULTS = REPO / "bench" / "results" / "sandbox-throughput.json"
LOGINS = {"casesystem": ("robot", "robot-pass"), **{p: ("kommun", f"{p}-pass") for p in PORTAL_NAMES[1:]}}
CASE_TABS = ("sokande", "ansokan", "berakning", "journal")
FK_API = "payments API"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')

Request = Callable[[random.Random], Awaitable[httpx.Response]]


@dataclass
class Kind:
    """One kind of page the robot asks for."""

    portal: str
    name: str
    make: Callable[[httpx.AsyncClient, str], Request]  # (logged-in client, its CSRF token) → a request


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class World:
    """Identifiers the requests use, read from the seeded database (the bench is not the robot)."""

    pnrs: list[str]
    fk_pnrs: list[str]
    af_pnrs: list[str]
    csn_pnrs: list[str]
    case_ids: list[str]
    period: str


def read_world(data_dir: Path) -> World:
    conn = sqlite3.connect(f"file:{data_dir / 'sandbox.db'}?mode=ro", uri=True)

    def column(sql: str) -> list[str]:
        try:
            return [r[0] for r in conn.execute(sql)]
        except sqlite3.OperationalError:
            return []

    pnrs = column("SELECT pnr FROM skv_persons LIMIT 500")
    period = (column("SELECT value FROM sb_meta WHERE key = 'period'") or ["2024-12"])[0]
    world = World(
        pnrs=pnrs,
        fk_pnrs=column("SELECT DISTINCT pnr FROM fk_payments LIMIT 500") or pnrs,
        af_pnrs=column("SELECT pnr FROM af_status LIMIT 500") or pnrs,
        csn_pnrs=column("SELECT DISTINCT pnr FROM csn_payments LIMIT 500") or pnrs,
        case_ids=column("SELECT case_id FROM cs_cases LIMIT 500"),
        period=period,
    )
    conn.close()
    if not world.pnrs:
        raise SystemExit(f"no persons in {data_dir / 'sandbox.db'}: is it seeded?")
    return world


def digits(pnr: str) -> str:
    return re.sub(r"\D", "", pnr)


def kinds_for(world: World) -> list[Kind]:
    start = f"{int(world.period[:4]) - 1}-{world.period[5:7]}"
    kinds = [
        Kind("casesystem", "inbox", lambda c, _t: lambda rng: c.get("/inkorg")),
        Kind("casesystem", "case tab", lambda c, _t: lambda rng: c.get(
            f"/arende/{rng.choice(world.case_ids)}/{rng.choice(CASE_TABS)}")),
        Kind("skv", "search result", lambda c, t: lambda rng: c.post(
            "/sok", data={"csrf": t, "personnummer": rng.choice(world.pnrs)})),
        Kind("fk", "app shell", lambda c, _t: lambda rng: c.get("/app")),
        Kind("fk", FK_API, lambda c, _t: lambda rng: c.get(
            "/api/utbetalningar", params={"pnr": digits(rng.choice(world.fk_pnrs)), "from": start,
                                          "to": world.period})),
        Kind("af", "status frame", lambda c, _t: lambda rng: c.get(
            "/status-frame", params={"pnr": digits(rng.choice(world.af_pnrs))})),
        Kind("csn", "statement CSV", lambda c, _t: lambda rng: c.get(
            "/utbetalningsbesked.csv", params={"pnr": digits(rng.choice(world.csn_pnrs))})),
    ]
    if not world.case_ids:
        kinds = [k for k in kinds if k.name != "case tab"]
    return kinds


async def login(base_url: str, portal: str) -> tuple[httpx.AsyncClient, str]:
    """A logged-in client and the session's CSRF token (read from the first page after login)."""
    client = httpx.AsyncClient(base_url=base_url, timeout=30, follow_redirects=True,
                               limits=httpx.Limits(max_connections=4))
    page = await client.get("/login")
    match = _CSRF.search(page.text)
    if match is None:
        raise RuntimeError(f"{portal}: no CSRF token on the login page ({page.status_code})")
    username, password = LOGINS[portal]
    landed = await client.post("/login", data={"csrf": match[1], "anvandarnamn": username, "losenord": password,
                                               "next": ""})
    if landed.url.path == "/login" or landed.status_code >= 500:
        raise RuntimeError(f"{portal}: login failed ({landed.status_code} at {landed.url})")
    token = _CSRF.search(landed.text)
    if token is None and portal == "skv":
        token = _CSRF.search((await client.get("/sok")).text)
    return client, token[1] if token else ""


async def probe(kinds: list[Kind], clients: dict[str, tuple[httpx.AsyncClient, str]]) -> tuple[list[Kind], list[str]]:
    """Drop the kinds a portal does not serve (yet): the case system is written separately."""
    rng = random.Random(0)
    usable, skipped = [], []
    for kind in kinds:
        client, token = clients[kind.portal]
        response = await kind.make(client, token)(rng)
        if response.status_code == 404 or "/login" in str(response.url):
            skipped.append(f"{kind.portal} {kind.name} ({response.status_code})")
        else:
            usable.append(kind)
    return usable, skipped


async def login_all(urls: dict[str, str], n_clients: int) -> list[dict[str, tuple[httpx.AsyncClient, str]]]:
    """Every client logs in to every portal with its own session, as each robot worker does."""
    sessions = []
    for _ in range(n_clients):
        logged_in = await asyncio.gather(*(login(urls[p], p) for p in PORTAL_NAMES))
        sessions.append(dict(zip(PORTAL_NAMES, logged_in, strict=True)))
    return sessions


async def load(kinds: list[Kind], sessions: list[dict[str, tuple[httpx.AsyncClient, str]]],
               seconds: float) -> dict[str, object]:
    """Each client cycles through every kind (in its own shuffled order) until the time is up."""
    stats: dict[str, Stats] = defaultdict(Stats)  # key: "portal/kind"
    deadline = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        rng = random.Random(index)
        order = list(kinds)
        while True:
            rng.shuffle(order)
            for kind in order:
                if time.perf_counter() >= deadline:
                    return
                client, token = sessions[index][kind.portal]
                entry = stats[f"{kind.portal}/{kind.name}"]
                began = time.perf_counter()
                try:
                    response = await kind.make(client, token)(rng)
                    entry.statuses[response.status_code] += 1
                    if response.status_code >= 400 or response.url.path == "/login":
                        entry.errors += 1
                except httpx.HTTPError:
                    entry.errors += 1
                    entry.statuses[0] += 1
                entry.latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(len(sessions))))
    return summarise(stats, time.perf_counter() - began)


async def run(urls: dict[str, str], world: World, seconds: float, n_clients: int) -> dict[str, object]:
    sessions = await login_all(urls, n_clients)
    kinds, skipped = await probe(kinds_for(world), sessions[0])
    try:
        # Capacity: every page kind except the FK API, whose deliberate 150-400 ms sleep would only measure
        # the clients' patience. Robot mix: everything, the FK API included, as a night's run asks for it.
        capacity = await load([k for k in kinds if k.name != FK_API], sessions, seconds)
        mix = await load(kinds, sessions, seconds)
    finally:
        for session in sessions:
            for client, _token in session.values():
                await client.aclose()
    return {"capacity": capacity, "robot_mix": mix, "skipped": skipped}


def _figures(latencies: list[float], errors: int, elapsed: float) -> dict[str, float | int]:
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))] if ms else 0.0
    return {"requests": len(ms), "rps": round(len(ms) / elapsed, 1), "errors": errors,
            "p50_ms": round(statistics.median(ms), 1) if ms else 0.0, "p95_ms": round(p95, 1)}


def summarise(stats: dict[str, Stats], elapsed: float) -> dict[str, object]:
    by_portal: dict[str, list[float]] = defaultdict(list)
    portal_errors: dict[str, int] = defaultdict(int)
    for key, s in stats.items():
        portal = key.split("/")[0]
        by_portal[portal].extend(s.latencies)
        portal_errors[portal] += s.errors
    return {
        "elapsed_s": round(elapsed, 2),
        "overall": _figures([x for s in stats.values() for x in s.latencies],
                            sum(s.errors for s in stats.values()), elapsed),
        "portals": {p: _figures(v, portal_errors[p], elapsed) for p, v in sorted(by_portal.items())},
        "kinds": {k: {**_figures(s.latencies, s.errors, elapsed), "statuses": dict(s.statuses)}
                  for k, s in sorted(stats.items())},
    }


def print_table(result: dict[str, Any]) -> None:
    for phase, title in (("capacity", "capacity (all pages but the FK API)"), ("robot_mix", "robot mix")):
        part = result[phase]
        print(f"\n{title}\n{'what':<34}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'errors':>8}")
        rows = [("ALL", part["overall"])]
        rows += [(f"portal {k}", v) for k, v in part["portals"].items()]
        rows += [(f"  {k}", v) for k, v in part["kinds"].items()]
        for name, f in rows:
            print(f"{name:<34}{f['requests']:>10}{f['rps']:>10}{f['p50_ms']:>10}{f['p95_ms']:>10}{f['errors']:>8}")
    if result["skipped"]:
        print("\nskipped (not served):", ", ".join(result["skipped"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--cases", type=int, default=50, help="cases to seed in a fresh sandbox")
    parser.add_argument("--attach", type=int, metavar="PORT_BASE", help="use a running sandbox instead")
    parser.add_argument("--data", type=Path, help="its data folder (with --attach)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    box: Sandbox | None = None
    if args.attach:
        if not args.data:
            parser.error("--attach needs --data")
        urls = {name: f"http://127.0.0.1:{args.attach + i}" for i, name in enumerate(PORTAL_NAMES)}
        data_dir = args.data
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="casebot-bench-"))
        box = start_sandbox(data_dir, cases=args.cases)
        urls = box.urls
    try:
        for portal in PORTAL_NAMES:  # latency 0 and no faults: we measure the sandbox, not its knobs
            httpx.post(urls[portal] + "/_admin/knobs", timeout=10, json={
                "latency_ms": 0, "error_rate": 0.0, "maintenance": False, "system_message_rate": 0.0,
                "session_ttl_s": 1800, "layout": "v1"}).raise_for_status()
        world = read_world(data_dir)
        result = asyncio.run(run(urls, world, args.seconds, args.clients))
    finally:
        if box is not None:
            box.stop()
    report = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "processor": platform.processor() or platform.machine()},
        "config": {"seconds": args.seconds, "clients": args.clients, "latency_ms": 0,
                   "sandbox": "attached" if args.attach else f"fresh, {args.cases} cases",
                   "note": "load generator and sandbox share the machine; FK API sleeps 150-400 ms by design"},
        "page_requests_per_s": result["capacity"]["overall"]["rps"],  # the headline figure
        **result,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print_table(result)
    print(f"\nsandbox capacity: {report['page_requests_per_s']} page requests/s; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
