"""`GET /_admin/inbox`: the new cases and their households over HTTP, for clients that must not open the
sandbox's database file (the bench's plain-HTTP floor)."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from tests.sandbox.casesystem_helpers import PORTAL, ROBOT, admin, take_case
from tests.sandbox_proc import Sandbox, shared_client

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _from_database(box: Sandbox) -> list[dict[str, Any]]:
    """What the floor read from the file before the route existed: the same rows, in the same order."""
    conn = sqlite3.connect(f"file:{box.data_dir / 'sandbox.db'}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT case_id, period FROM cs_cases WHERE status = 'inkommen' "
                            "ORDER BY received, case_id").fetchall()
        return [{"case_id": case_id, "period": period, "members": [
            {"pnr": pnr, "role": role} for pnr, role in conn.execute(
                "SELECT pnr, role FROM cs_household WHERE case_id = ? ORDER BY position", (case_id,))]}
            for case_id, period in rows]
    finally:
        conn.close()


def _save_a_figure(box: Sandbox, case_id: str) -> None:
    """What taking a case on does to it: a saved calculation moves it from 'inkommen' to 'under_behandling'."""
    with shared_client(base_url=box.url(PORTAL), timeout=10, follow_redirects=True) as client:
        token = _CSRF.search(client.get("/login").text)[1]  # type: ignore[index]
        client.post("/login", data={"csrf": token, "anvandarnamn": ROBOT[0], "losenord": ROBOT[1], "next": ""})
        form = client.get(f"/arende/{case_id}/berakning").text
        version = re.search(r'name="version" value="(\d+)"', form)[1]  # type: ignore[index]
        saved = client.post(f"/arende/{case_id}/berakning",
                            data={"csrf": _CSRF.search(form)[1], "version": version, "boende": "5000"})  # type: ignore[index]
        assert saved.url.query == b"meddelande=sparad", saved.text


def test_inbox_lists_the_new_cases_with_their_households_as_stored(fresh_sandbox: Sandbox) -> None:
    inbox = admin(fresh_sandbox, "/_admin/inbox")
    assert inbox == _from_database(fresh_sandbox)
    assert inbox, "a freshly seeded sandbox has new cases"
    assert all(c["members"] and c["members"][0]["role"] == "sokande" for c in inbox)
    assert all(re.fullmatch(r"\d{12}", m["pnr"]) for c in inbox for m in c["members"])
    reference = admin(fresh_sandbox, "/_admin/meta")["reference_case"]
    assert reference not in {c["case_id"] for c in inbox}  # under way with a caseworker, never new


def test_a_case_taken_on_leaves_the_inbox(fresh_sandbox: Sandbox) -> None:
    case_id = take_case(fresh_sandbox)
    assert case_id in {c["case_id"] for c in admin(fresh_sandbox, "/_admin/inbox")}
    _save_a_figure(fresh_sandbox, case_id)
    inbox = admin(fresh_sandbox, "/_admin/inbox")
    assert case_id not in {c["case_id"] for c in inbox}
    assert inbox == _from_database(fresh_sandbox)
