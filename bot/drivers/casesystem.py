"""The legacy case system: inbox, the case's tabs, the calculation form, the journal and the park action.

Screens are opened by their deep links (`/arende/<id>/<tab>`), as a robot does with a legacy system that allows
it: the frame page around them adds nothing to read and one more document to wait for. Every method is wrapped
in `with_session`, so an idle-expired session costs one re-login, not the case.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from playwright.async_api import Response

from bot import chaos
from bot.calc.fields import ALL_FIELDS as FIELD_KEYS
from bot.calc.fields import label
from bot.calc.money import format_num, parse_kr, shown
from bot.drivers.base import Answer, Driver, OutcomeUnknown, Reference, gather_all
from bot.drivers.needs import LOGIN, Need, Needs
from bot.errors import ErrorCode
from bot.facts import (
    Application,
    Decision,
    DecisionRow,
    DeclaredCost,
    DeclaredIncome,
    FactsError,
    History,
    Member,
    Role,
    Source,
)
from bot.selectors.model import Element
from bot.selectors.page_js import RECORDS_JS
from bot.selectors.resolve import column_keys

TOTAL_TEXTS = {"summa_norm": "Summa norm", "summa_kostnader": "Summa skäliga kostnader",
               "summa_inkomster": "Summa inkomster", "att_betala": "Att betala ut"}
TOTAL_KEYS = tuple(TOTAL_TEXTS)
SYSTEM_MESSAGE_PATH = "/driftmeddelande"

ROLE_BY_TEXT: dict[str, Role] = {"Sökande": "sokande", "Medsökande": "medsokande", "Barn": "barn",
                "Övrig vuxen i hushållet": "ovrig_vuxen"}

# Statuses (docs/contract.md); the three last mean a human now owns the case.
NEW, IN_PROGRESS = "inkommen", "under_behandling"
PARKED, MANUAL, DECIDED = "klar_for_signering", "manuell", "beslutad"
HANDLED_STATUSES = (PARKED, MANUAL, DECIDED)
# What the screens show for each status: an older screen shows only the text, no data-status key.
STATUS_BY_TEXT = {"Inkommen": NEW, "Under behandling": IN_PROGRESS, "Klar för signering": PARKED,
                  "Manuell handläggning": MANUAL, "Beslutad": DECIDED}

# The case's tabs by their deep links, and the selector screens each one shows (the header is on every tab).
CASE_TABS = (("sokande", ("case", "household")), ("ansokan", ("application",)), ("berakning", ("calc_form",)),
             ("historik", ("history",)), ("journal", ("journal",)), ("beslut", ("decision",)))
# What the history tab says about decisions before its oldest kept month.
HISTORY_COMPLETE, HISTORY_THINNED = "Finns inte", "Gallrade"

LOCK_CONFLICT_TEXT = "ändrats av en annan användare"
ALREADY_PARKED_TEXT = "redan parkerat"
ALREADY_MANUAL_TEXT = "redan satt till manuell"


# Inbox columns the robot can do without: a screen that does not show one (an older module) reads it as None.
OPTIONAL_INBOX_COLUMNS = frozenset({"caseworker"})


@dataclass(frozen=True)
class InboxRow:
    case_id: str
    pnr: str
    application_type: str
    period: str
    status_text: str
    caseworker: str | None = None  # as the inbox shows it; None when the screen has no such column


def table_records(element: Element, found: Mapping[str, Any], optional: Collection[str] = ()
                  ) -> tuple[list[dict[str, str | None]], dict[str, list[str]]]:
    """What RECORDS_JS read from a table ({"keys", "records"}) as {logical column: text}, and the columns that are
    missing though required (their listed keys). An `optional` column the table does not show is None in every
    record, as is an empty cell of it."""
    keys, missing = column_keys(element, list(found["keys"]))
    broken = {column: wanted for column, wanted in missing.items() if column not in optional}
    records: list[dict[str, str | None]] = []
    for record in found["records"]:
        row: dict[str, str | None] = {column: record.get(key, "") for column, key in keys.items()}
        for column in optional:
            if column in element.columns:
                row[column] = row.get(column) or None
        records.append(row)
    return records, broken


def inbox_row(record: Mapping[str, str | None]) -> InboxRow:
    return InboxRow(record["case_id"] or "", record["pnr"] or "", record["type"] or "", record["period"] or "",
                    record["status"] or "", record.get("caseworker"))


@dataclass(frozen=True)
class CaseRecord:
    """What the case system's screens say about one case: the facts the calculation needs, as read."""

    application: Application
    members: tuple[Member, ...]
    costs: tuple[DeclaredCost, ...]
    incomes: tuple[DeclaredIncome, ...]
    status: str
    names: tuple[str, ...] = ()  # only to mask them in logs; never stored
    history: History | None = None
    address: str | None = None


def birth_date_from_pnr(pnr: str) -> date:
    """YYYYMMDD-NNNN → the birth date; a samordningsnummer carries day + 60."""
    digits = "".join(c for c in pnr if c.isdigit())
    year, month, day = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    return date(year, month, day - 60 if day > 60 else day)


def shows_values(shown_now: Mapping[str, int | None], values: Mapping[str, int | None]) -> bool:
    """Whether a form read back shows exactly these field values (None: empty)."""
    return all(shown_now.get(key) == value for key, value in values.items())


def amount_text(value: int | None) -> str:
    """What the robot types into a form field: the portal's own format, empty for "left for the caseworker"."""
    return "" if value is None else format_num(value)


def _case_needs() -> Needs:
    fields = {key: Need(f"fältet för '{label(key)}' i beräkningen") for key in FIELD_KEYS}
    totals = {key: Need(f"summan '{text}' i beräkningen") for key, text in TOTAL_TEXTS.items()}
    return {**LOGIN, "system_message": {
        "acknowledge": Need("knappen som kvitterar driftmeddelandet (roboten stannar med SELECTOR_MISSING om ett "
                            "meddelande visas och knappen inte är inspelad)", conditional=True, required=False)},
        "inbox": {
            "table": Need("inkorgens tabell", columns=("case_id", "pnr", "type", "period", "status"),
                          optional_columns=tuple(sorted(OPTIONAL_INBOX_COLUMNS))),
            # Without it only the first page would be read, and the cases on the others silently left.
            "next_page": Need("länken till nästa sida i inkorgen", conditional=True)},
        "case": {
            "status": Need("ärendets status i ärendehuvudet"),
            "error": Need("felmeddelandet när ett sparande nekas (utan det saknar felkoden systemets egen text)",
                          conditional=True, required=False)},
        "household": {
            "address": Need("värdet för adress"),
            "bistand_sedan": Need("värdet för 'Bistånd sedan'"),
            "application_type": Need("värdet för ansökningstyp"),
            "members": Need("tabellen över hushållets personer", columns=("name", "pnr", "role", "lunch"))},
        "application": {
            "period": Need("värdet för ansökningens period"),
            "costs": Need("tabellen över sökta kostnader", columns=("code", "amount")),
            "incomes": Need("tabellen över inkomster", columns=("pnr", "code", "amount"))},
        "history": {
            "kept_from": Need("värdet för 'Sparas från'"),
            "older": Need("värdet för äldre beslut"),
            "decisions": Need("tabellen över tidigare beslut",
                              columns=("month", "outcome", "decided_by", "decided_on", "address", "household")),
            "rows": Need("tabellen över tidigare beräkningsrader", columns=("month", "code", "applied", "approved"))},
        "calc_form": {
            **fields, **totals,
            "save": Need("knappen som sparar beräkningen"),
            "locked": Need("meddelandet att beräkningen är låst (utan det märks ett låst formulär först när fälten "
                           "inte går att fylla)",
                           conditional=True, required=False)},
        "journal": {
            "notes": Need("tabellen över journalanteckningar", columns=("text",)),
            "new_note": Need("fältet för en ny anteckning"),
            "save": Need("knappen som sparar anteckningen")},
        "decision": {
            "needs_completion": Need("kryssrutan 'Behöver kompletteras'"),
            "park": Need("knappen som parkerar ärendet för signering"),
            "manual_reason": Need("fältet för orsak till manuell handläggning"),
            "manual": Need("knappen som sätter ärendet till manuell handläggning")}}


class CaseSystem(Driver):
    needs: ClassVar[Needs] = _case_needs()

    # -- navigation and session ---------------------------------------------------------------------
    async def goto(self, path: str) -> Response | None:
        response = await super().goto(path)
        if self.page.url.split("?")[0].endswith(SYSTEM_MESSAGE_PATH):
            await self.acknowledge_system_message()
            response = await super().goto(path)
        return response

    async def after_login(self) -> None:
        if self.page.url.split("?")[0].endswith(SYSTEM_MESSAGE_PATH):
            await self.acknowledge_system_message()

    async def acknowledge_system_message(self) -> None:
        """The driftmeddelande must be acknowledged before any other page opens."""
        async with self.page.expect_navigation(wait_until="domcontentloaded"):
            await (await self.el("system_message", "acknowledge")).click()

    async def _alert(self) -> str:
        if await self.present("case", "error"):
            return await self.text("case", "error", timeout_s=0)
        return ""

    async def walk_logged_in(self, reference: Reference) -> AsyncGenerator[str, None]:
        await self.goto(f"/inkorg?status={NEW}")
        yield "inbox"
        if reference.case_id is None:
            return
        for tab, screens in CASE_TABS:
            await self.goto(f"/arende/{reference.case_id}/{tab}")
            for screen in screens:
                yield screen

    # -- inbox ----------------------------------------------------------------------------------------
    async def list_inbox(self, status: str = NEW) -> list[InboxRow]:
        """Every case in the inbox with that status, all pages."""
        async def action() -> list[InboxRow]:
            rows: list[InboxRow] = []
            page_no = 1
            while True:
                await self.goto(f"/inkorg?status={status}&sida={page_no}")
                rows.extend(inbox_row(r) for r in await self._inbox_records() if r["case_id"])
                if not await self.present("inbox", "next_page"):
                    return rows
                page_no += 1
        return await self.with_session(action)

    async def _inbox_records(self) -> list[dict[str, str | None]]:
        """`read_records` of the inbox table, except that the columns it can do without may be missing."""
        located = await self.el("inbox", "table")
        found = await located.evaluate_all(f"(els) => ({RECORDS_JS})(els[0])")
        records, broken = table_records(self.selectors.element("inbox", "table"), found, OPTIONAL_INBOX_COLUMNS)
        if broken and (found["records"] or found["keys"]):  # an empty list has nothing to check
            raise self.fail(ErrorCode.SELECTOR_MISSING, "screen 'inbox', 'table': no "
                            f"{'; '.join(f'{c} {k}' for c, k in broken.items())} among {found['keys']}")
        return records

    # -- reading a case -------------------------------------------------------------------------------
    async def status(self, case_id: str) -> str:
        """The case's status key (`inkommen`, `klar_for_signering`, …) as the case system shows it now."""
        async def action() -> str:
            # The household tab, which `read_case` reads next: a case the robot takes costs one page load less.
            await self.goto(f"/arende/{case_id}/sokande")
            return await self._status_here()
        return await self.with_session(action)

    async def _status_here(self) -> str:
        """The status key: from the element's data-status where the screen has one, else from the text shown."""
        shown_status = await self.el("case", "status")
        value = await shown_status.get_attribute("data-status")
        if value:
            return value
        text = " ".join((await shown_status.inner_text()).split())
        if text in STATUS_BY_TEXT:
            return STATUS_BY_TEXT[text]
        raise self.fail(ErrorCode.SELECTOR_MISSING, f"the case status shows {shown(text)}, which is none of "
                                                    f"{', '.join(STATUS_BY_TEXT)}")

    async def read_case(self, case_id: str) -> CaseRecord:
        """Applicant, household and declared costs and incomes, from the household and application tabs."""
        async def action() -> CaseRecord:
            seen = datetime.now()
            if urlsplit(self.page.url).path != f"/arende/{case_id}/sokande":  # `status` may have just opened it
                await self.goto(f"/arende/{case_id}/sokande")
            status = await self._status_here()
            household = Source("casesystem", "Sökande och hushåll", seen)
            address = await self.text("household", "address")
            sedan = await self.text("household", "bistand_sedan")
            app_type = await self.text("household", "application_type")
            rows = await self.read_records("household", "members")
            members = tuple(Member(row["pnr"], self._role(row["role"]), birth_date_from_pnr(row["pnr"]),
                                   lunch_i_forskola=row["lunch"] == "Ja", source=household) for row in rows)
            names = tuple(row["name"] for row in rows if row.get("name"))

            await self.goto(f"/arende/{case_id}/ansokan")
            source = Source("casesystem", "Ansökan", seen)
            period = await self.text("application", "period")
            costs = tuple(DeclaredCost(row["code"], self.amount(row["amount"], f"cost {shown(row['code'])}"),
                                       source)
                          for row in await self.read_records("application", "costs"))
            incomes = tuple(DeclaredIncome(row["pnr"], row["code"],
                                           self.amount(row["amount"], f"income {shown(row['code'])}"), source)
                            for row in await self.read_records("application", "incomes"))
            application = Application(case_id, app_type, period,  # type: ignore[arg-type]
                                      bistand_sedan=None if sedan in ("", "–") else sedan, source=source)
            history = await self._read_history(case_id, seen)
            return CaseRecord(application, members, costs, incomes, status, names, history, address or None)
        return await self.with_session(action)

    async def _read_history(self, case_id: str, seen: datetime) -> History:
        """The earlier monthly decisions and their calculations, from the history tab."""
        await self.goto(f"/arende/{case_id}/historik")
        source = Source("casesystem", "Historik", seen)
        kept_from = await self.text("history", "kept_from")
        older = await self.text("history", "older")
        if older not in (HISTORY_COMPLETE, HISTORY_THINNED):
            raise self.fail(ErrorCode.DATA_MISMATCH, f"the history says {shown(older)} about older decisions, "
                                                     f"not {HISTORY_COMPLETE!r} or {HISTORY_THINNED!r}")
        rows: dict[str, list[DecisionRow]] = {}
        for row in await self.read_records("history", "rows"):
            rows.setdefault(row["month"], []).append(DecisionRow(
                row["code"], self.amount(row["applied"], f"history {row['month']} {shown(row['code'])} applied"),
                self.amount(row["approved"], f"history {row['month']} {shown(row['code'])} approved")))
        decisions = []
        for row in await self.read_records("history", "decisions"):
            try:
                decided_on = date.fromisoformat(row["decided_on"]) if row["decided_on"] else None
                decisions.append(Decision(
                    row["month"], row["outcome"], row["decided_by"], decided_on, row["address"],
                    tuple(p.strip() for p in row["household"].split(",") if p.strip()),
                    tuple(rows.get(row["month"], ()))))
            except (ValueError, FactsError) as exc:
                raise self.fail(ErrorCode.DATA_MISMATCH, f"a decision in the history cannot be read: {exc}") from None
        return History(tuple(decisions), complete=older == HISTORY_COMPLETE,
                       kept_from=None if kept_from in ("", "–") else kept_from, source=source)

    async def _handled(self, case_id: str) -> bool:
        await self.goto(f"/arende/{case_id}/beslut")
        return await self._status_here() in HANDLED_STATUSES

    def _role(self, text: str) -> Role:
        try:
            return ROLE_BY_TEXT[text]
        except KeyError:
            raise self.fail(ErrorCode.DATA_MISMATCH, f"unknown household role {text!r}") from None

    def _form_kr(self, text: str, what: str) -> int:
        """A value on the calculation form, which only the robot or a caseworker typed: a text there that is not
        an amount means the form is not what was saved."""
        try:
            return parse_kr(text)
        except ValueError:
            raise self.fail(ErrorCode.READBACK_MISMATCH, f"{what}: the form shows {shown(text)}, "
                                                         "not an amount") from None

    # -- the calculation form -------------------------------------------------------------------------
    async def read_calculation(self, case_id: str, *, reload: bool = True) -> dict[str, int | None]:
        """What the form shows now: the 22 fields and the 4 totals, None for an empty field. `reload`: read what
        the case system holds, which the form the server drew after a save, untouched since, shows as well as a
        fresh load does."""
        async def action() -> dict[str, int | None]:
            path = f"/arende/{case_id}/berakning"
            if reload and self.rendered != path:
                await self.goto(path)

            async def field(key: str) -> int | None:
                text = (await (await self.el("calc_form", key)).input_value()).strip()
                return self._form_kr(text, key) if text else None

            async def total(key: str) -> int | None:
                text = await self.text("calc_form", key)
                return None if text in ("", "–") else self._form_kr(text, key)

            # All at once: the calls overlap instead of waiting for each other's round trip.
            shown_now = await gather_all(*(field(k) for k in FIELD_KEYS), *(total(k) for k in TOTAL_KEYS))
            return dict(zip((*FIELD_KEYS, *TOTAL_KEYS), shown_now, strict=True))
        return await self.with_session(action)

    async def fill_calculation(self, case_id: str, values: Mapping[str, int | None]) -> None:
        """Type every form field (None = leave it empty for the caseworker) and save. A save the case system
        refuses raises; it never passes as saved."""
        unknown = set(values) - set(FIELD_KEYS)
        if unknown:
            raise ValueError(f"not calculation fields: {sorted(unknown)}")

        async def action() -> None:
            await self.goto(f"/arende/{case_id}/berakning")
            if await self.present("calc_form", "locked"):
                raise self.fail(ErrorCode.DATA_MISMATCH, "the calculation is locked: the case was handled meanwhile")
            keys = [key for key in FIELD_KEYS if key in values]
            fields = await gather_all(*(self.el("calc_form", key) for key in keys))  # found together, typed in turn
            self.rendered = None
            for key, field in zip(keys, fields, strict=True):
                await field.fill(amount_text(values[key]))
            chaos.point("fill", case_id)
            try:
                answer = await self.submit("calc_form", "save", f"save calculation {case_id}")
            except OutcomeUnknown as unknown:
                await self.confirm_write(unknown, lambda: self.form_shows(case_id, values), "the calculation")
                return
            await self._check_saved(answer, "the calculation")
        await self.with_session(action)

    async def form_shows(self, case_id: str, values: Mapping[str, int | None]) -> bool:
        """Whether the saved form (reloaded) shows exactly these field values."""
        return shows_values(await self.read_calculation(case_id), values)

    async def _check_saved(self, answer: Answer, what: str) -> None:
        status = answer.status
        if status < 400:
            return
        said = answer.message if answer.message is not None else await self._alert()
        # A save in place has no HTTP status to go by: the conflict is known by its text.
        if status == 409 or LOCK_CONFLICT_TEXT in said:
            raise self.fail(ErrorCode.LOCK_CONFLICT, f"{what} not saved: someone else changed the case ({said})")
        shown_status = f"HTTP {status}" if answer.response is not None else "in place"
        raise self.fail(ErrorCode.DATA_MISMATCH, f"{what} refused by the case system ({shown_status}): {said}")

    # -- the journal ----------------------------------------------------------------------------------
    async def journal_texts(self, case_id: str) -> list[str]:
        async def action() -> list[str]:
            await self.goto(f"/arende/{case_id}/journal")
            return [row["text"] for row in await self.read_records("journal", "notes")]
        return await self.with_session(action)

    async def add_journal_note(self, case_id: str, text: str) -> None:
        async def action() -> None:
            path = f"/arende/{case_id}/journal"
            if self.rendered != path:  # the journal was just read: the same page takes the note
                await self.goto(path)
            self.rendered = None
            await (await self.el("journal", "new_note")).fill(text)
            try:
                answer = await self.submit("journal", "save", f"journal note {case_id}")
            except OutcomeUnknown as unknown:
                wanted = " ".join(text.split())
                await self.confirm_write(unknown, lambda: self._journal_has(case_id, wanted), "the note")
                return
            await self._check_saved(answer, "the journal note")
        await self.with_session(action)

    async def _journal_has(self, case_id: str, text: str) -> bool:
        return any(" ".join(t.split()) == text for t in await self.journal_texts(case_id))

    # -- handing the case to a human ------------------------------------------------------------------
    async def park(self, case_id: str, *, needs_completion: bool) -> str:
        """Park for signature (assigned to the case's caseworker). Returns the status after; a case already
        parked is not an error — that is how a rerun after a crash finds it."""
        async def prepare() -> None:
            await (await self.el("decision", "needs_completion")).set_checked(needs_completion)

        return await self._hand_over(case_id, prepare, "park", "parking", ALREADY_PARKED_TEXT, dialog_text=case_id)

    async def set_manual(self, case_id: str, reason: str) -> str:
        """Hand the case to manual handling with the reason (the case system takes at most 500 characters)."""
        async def prepare() -> None:
            await (await self.el("decision", "manual_reason")).fill(reason[:500])

        return await self._hand_over(case_id, prepare, "manual", "manual handling", ALREADY_MANUAL_TEXT)

    async def _hand_over(self, case_id: str, prepare: Callable[[], Awaitable[None]], control: str, what: str,
                         already_text: str, dialog_text: str | None = None) -> str:
        """The decision tab's actions: nothing if a human already owns the case, else fill in, submit, and take
        the case system's "already done" answer as done. Returns the status after."""
        async def action() -> str:
            await self.goto(f"/arende/{case_id}/beslut")
            status = await self._status_here()
            if status in HANDLED_STATUSES:
                return status
            self.rendered = None
            await prepare()
            try:
                answer = await self.submit("decision", control, f"{what} {case_id}", dialog_text=dialog_text)
            except OutcomeUnknown as unknown:
                await self.confirm_write(unknown, lambda: self._handled(case_id), what)
                return await self._status_here()
            if answer.status >= 400 and already_text not in (answer.message or await self._alert()):
                await self._check_saved(answer, what)
            return await self._status_here()
        return await self.with_session(action)
