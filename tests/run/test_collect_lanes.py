"""A household's members looked up on several pages of one agency at once (`browser.pages_per_agency`): each page
takes every n-th member, the answers come back in the members' order, and a failure waits for the other pages."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date

import pytest

from bot.facts import Member
from bot.run.collect import _each


@dataclass
class Page:
    name: str
    asked: list[str] = field(default_factory=list)
    busy: bool = False

    async def lookup(self, pnr: str) -> str:
        assert not self.busy, "one page asked two things at once"
        self.busy = True
        self.asked.append(pnr)
        await asyncio.sleep(0.01 * (len(pnr) % 3))
        self.busy = False
        if pnr == "fails":
            raise RuntimeError("portal down")
        return f"{pnr}@{self.name}"


def members(*pnrs: str) -> list[Member]:
    return [Member(p, "barn", date(2015, 1, 1)) for p in pnrs]


@pytest.mark.parametrize("pages", [1, 2, 3, 5])
def test_every_member_once_in_order_spread_over_the_pages(pages: int) -> None:
    drivers = [Page(f"p{k}") for k in range(pages)]
    people = members("a", "bb", "ccc", "dddd", "e")
    answers = asyncio.run(_each(drivers, people, lambda d, m: d.lookup(m.pnr), "skv"))
    assert [a.split("@")[0] for a in answers] == ["a", "bb", "ccc", "dddd", "e"]
    assert sorted(p for d in drivers for p in d.asked) == sorted(["a", "bb", "ccc", "dddd", "e"])
    used = [d for d in drivers if d.asked]
    assert len(used) == min(pages, 5)
    assert drivers[0].asked[0] == "a"  # the main page takes the first member (the applicant)


def test_a_failing_page_raises_after_the_others_have_stopped() -> None:
    drivers = [Page("p0"), Page("p1")]
    with pytest.raises(RuntimeError, match="portal down"):
        asyncio.run(_each(drivers, members("fails", "bb", "ccc", "dddd"), lambda d, m: d.lookup(m.pnr), "fk"))
    assert not any(d.busy for d in drivers)
    assert drivers[1].asked == ["bb", "dddd"]  # the other page finished its members before the raise


def test_no_members_asks_nothing() -> None:
    drivers = [Page("p0"), Page("p1")]
    assert asyncio.run(_each(drivers, [], lambda d, m: d.lookup(m.pnr), "af")) == ()
    assert drivers[0].asked == drivers[1].asked == []
