"""The plain-HTTP floor: the HTTP conversation a night causes, with no browser, timed the way `casebot bench`
times the robot.

Per case, the same requests the robot makes (see `bot/drivers/`): the case's household and application tabs;
per member, Skatteverket's search form and result, Försäkringskassan's app page and its payments API, CSN's
search, result and statement, and, for the adults, Arbetsförmedlingen's search and status frame (the four
agencies in parallel, members one after another, as the robot does); then the calculation form, its save and
the read-back, the journal and the note, the decision tab and the park or manual-handling post. Each worker
logs in to every portal once and takes cases from a shared queue.

What the floor does not do is the robot's work: it reads nothing but the tokens it must send back, and the
figures it saves are the sandbox oracle's (so the night also ends exactly as the oracle expects, which is
checked). Run by `casebot bench --floor`. Robot time ÷ floor time is what the browser and the robot's own care
(reading every value, checking each write) cost on top of the portals.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from dataclasses import dataclass

import httpx

from bot.calc.fields import ALL_FIELDS
from bot.dev.measure import AGENCIES, percentile
from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_environ

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_VERSION = re.compile(r'name="version" value="(\d+)"')
ADULT_ROLES = ("sokande", "medsokande")
USERNAMES = {"casesystem": "robot", **dict.fromkeys(AGENCIES, "kommun")}


@dataclass(frozen=True)
class FloorCase:
    case_id: str
    period: str
    members: tuple[tuple[str, str], ...]  # (pnr, role)
    outcome: str
    fields: dict[str, int]


@dataclass
class FloorResult:
    wall_s: float
    durations_s: list[float]
    oracle_differences: int

    @property
    def p50(self) -> float | None:
        return statistics.median(self.durations_s) if self.durations_s else None

    @property
    def p95(self) -> float | None:
        return percentile(self.durations_s, 95)


def load_cases(box: Sandbox) -> list[FloorCase]:
    """The new cases with what the oracle expects of them (the floor saves those figures), read through the
    sandbox's admin API like everything else the robot side learns of the sandbox."""
    expected = {e["case_id"]: e for e in box.admin_get("casesystem", "/_admin/expected")}
    return [FloorCase(row["case_id"], row["period"], tuple((m["pnr"], m["role"]) for m in row["members"]),
                      expected[row["case_id"]]["outcome"], expected[row["case_id"]]["fields"])
            for row in box.admin_get("casesystem", "/_admin/inbox") if row["case_id"] in expected]


def _token(html: str, pattern: re.Pattern[str], what: str) -> str:
    match = pattern.search(html)
    if match is None:
        raise RuntimeError(f"no {what} on the page")
    return match[1]


async def _answered(response: httpx.Response) -> None:
    # A floor that got error pages or was sent back to the login would be too fast to mean anything.
    if response.status_code >= 400 or (response.url.path == "/login" and response.request.method == "GET"
                                       and response.history):
        await response.aread()
        raise RuntimeError(f"{response.request.method} {response.url.path}: HTTP {response.status_code}")


async def login(box: Sandbox, portal: str, password: str) -> httpx.AsyncClient:
    # Verified against the sandbox's CA like every client of the robot's: the TLS handshakes are part of the floor.
    client = box.async_http_client(base_url=box.url(portal), timeout=60, follow_redirects=True,
                                   event_hooks={"response": [_answered]})
    page = await client.get("/login")
    landed = await client.post("/login", data={"csrf": _token(page.text, _CSRF, "login token"),
                                               "anvandarnamn": USERNAMES[portal], "losenord": password, "next": ""})
    if landed.url.path == "/login":
        raise RuntimeError(f"{portal}: login refused")
    return client


def _months(period: str) -> tuple[str, str]:
    year, month = int(period[:4]), int(period[5:7]) - 2
    if month < 1:
        year, month = year - 1, month + 12
    return f"{year}-{month:02d}", period


async def _skv(c: httpx.AsyncClient, pnr: str) -> None:
    form = await c.get("/sok")
    await c.post("/sok", data={"csrf": _token(form.text, _CSRF, "csrf"), "personnummer": pnr})


async def _fk(c: httpx.AsyncClient, pnr: str, period: str) -> None:
    start, end = _months(period)
    await c.get("/app")
    await c.get("/api/utbetalningar", params={"pnr": pnr, "from": start, "to": end})


async def _csn(c: httpx.AsyncClient, pnr: str) -> None:
    form = await c.get("/sok")
    await c.post("/sok", data={"csrf": _token(form.text, _CSRF, "csrf"), "personnummer": pnr})
    await c.get("/utbetalningsbesked.csv", params={"pnr": pnr})


async def _af(c: httpx.AsyncClient, pnr: str) -> None:
    form = await c.get("/sok")
    await c.post("/sok", data={"csrf": _token(form.text, _CSRF, "csrf"), "personnummer": pnr})
    await c.get("/status-frame", params={"pnr": pnr})


async def floor_case(clients: dict[str, httpx.AsyncClient], case: FloorCase) -> None:
    cs = clients["casesystem"]
    base = f"/arende/{case.case_id}"
    await cs.get(f"{base}/sokande")
    await cs.get(f"{base}/ansokan")
    pnrs = [pnr for pnr, _ in case.members]
    adults = [pnr for pnr, role in case.members if role in ADULT_ROLES]

    async def each(ask, people):  # type: ignore[no-untyped-def]
        for pnr in people:
            await ask(pnr)

    await asyncio.gather(each(lambda p: _skv(clients["skv"], p), pnrs),
                         each(lambda p: _fk(clients["fk"], p, case.period), pnrs),
                         each(lambda p: _csn(clients["csn"], p), pnrs),
                         each(lambda p: _af(clients["af"], p), adults))
    if case.outcome != "manual":
        form = await cs.get(f"{base}/berakning")
        data = {key: str(case.fields[key]) if key in case.fields else "" for key in ALL_FIELDS}
        await cs.post(f"{base}/berakning", data={**data, "csrf": _token(form.text, _CSRF, "csrf"),
                                                 "version": _token(form.text, _VERSION, "version")})
        await cs.get(f"{base}/berakning")  # the read-back
    journal = await cs.get(f"{base}/journal")
    await cs.post(f"{base}/journal", data={"csrf": _token(journal.text, _CSRF, "csrf"),
                                            "version": _token(journal.text, _VERSION, "version"),
                                            "anteckning": f"Förberett (golvmätning) {case.case_id}"})
    decision = await cs.get(f"{base}/beslut")
    tokens = {"csrf": _token(decision.text, _CSRF, "csrf"), "version": _token(decision.text, _VERSION, "version")}
    if case.outcome == "manual":
        await cs.post(f"{base}/manuell", data={**tokens, "orsak": "golvmätning"})
    else:
        await cs.post(f"{base}/parkera", data={**tokens, **({"behover_kompletteras": "1"}
                                                           if case.outcome == "partial" else {})})


async def run_floor(box: Sandbox, workers: int) -> FloorResult:
    cases = load_cases(box)
    queue: asyncio.Queue[FloorCase] = asyncio.Queue()
    for case in cases:
        queue.put_nowait(case)
    passwords = {p: v for p, v in zip(("casesystem", *AGENCIES), (
        sandbox_environ()[f"CASEBOT_{p.upper()}_PASSWORD"] for p in ("casesystem", *AGENCIES)), strict=True)}
    durations: list[float] = []

    async def worker() -> None:
        clients = {p: await login(box, p, passwords[p]) for p in passwords}
        try:
            while not queue.empty():
                case = queue.get_nowait()
                began = time.perf_counter()
                await floor_case(clients, case)
                durations.append(time.perf_counter() - began)
        finally:
            for client in clients.values():
                await client.aclose()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    wall = time.perf_counter() - started
    differences = differences_from_oracle(box, [c.case_id for c in cases])
    return FloorResult(round(wall, 2), durations, len(differences))


def floor_summary(result: FloorResult, cases: int, workers: int, latency_ms: int) -> dict[str, object]:
    return {"cases": cases, "workers": workers, "latency_ms": latency_ms, "wall_s": result.wall_s,
            "per_case_p50_s": None if result.p50 is None else round(result.p50, 3),
            "per_case_p95_s": None if result.p95 is None else round(result.p95, 3),
            "cases_per_min": round(len(result.durations_s) / result.wall_s * 60, 1) if result.wall_s else None,
            "oracle_differences": result.oracle_differences}

