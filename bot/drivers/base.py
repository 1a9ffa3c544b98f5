"""What every portal driver shares: login, session recovery, portal-health checks, element resolution."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar
from urllib.parse import urlsplit

from loguru import logger
from playwright.async_api import Dialog, FrameLocator, Locator, Page, Response
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from bot.browser import profile
from bot.calc.money import parse_kr, shown
from bot.drivers.needs import LOGIN, Needs, search_screen
from bot.errors import CasebotError, ErrorCode, SystemException, error_for
from bot.net import proxy_problem
from bot.selectors.model import NAVIGATION, SelectorFile
from bot.selectors.page_js import RECORDS_JS
from bot.selectors.resolve import ElementNotFound, Resolution, Scope, column_keys, resolve
from bot.tls import chromium_certificate_problem, interceptor_problem

T = TypeVar("T")

LOGIN_PATH = "/login"


def browser_gone(message: str) -> bool:
    """Whether a Playwright error means the browser, context or page itself died (not the portal)."""
    text = message.lower()
    return "has been closed" in text or "crash" in text or "connection closed" in text


async def gather_all(*jobs: Awaitable[T]) -> list[T]:
    """Run the jobs together; if one fails, wait for the others to stop before raising, so no page is left
    mid-action when the caller goes on (a re-login, the next case)."""
    results = await asyncio.gather(*jobs, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


class SessionExpired(Exception):
    """The portal sent us back to its login page mid-flow."""


class OutcomeUnknown(SystemException):
    """A write was sent and no answer came in time: the system may or may not have taken it."""

    def __init__(self, message: str, *, case_id: str | None = None, step: str | None = None,
                 portal: str | None = None) -> None:
        super().__init__(ErrorCode.OUTCOME_UNKNOWN, message, case_id=case_id, step=step, portal=portal)


@dataclass(frozen=True)
class Answer:
    """What a submitted control led to: the page (`response`), or on a screen that saves in place the text the
    declared outcome element shows, and whether that text is a refusal (not the declared `ok_text`)."""

    response: Response | None
    message: str | None = None
    refused: bool = False

    @property
    def status(self) -> int:
        if self.response is not None:
            return self.response.status
        return 422 if self.refused else 200


@dataclass
class PortalAccount:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Reference:
    """What the read-only screen walk may open: a case the robot never processes, and a test person."""

    case_id: str | None = None
    pnr: str | None = None


@dataclass
class DriftNotice:
    portal: str
    screen: str
    element: str
    strategy_index: int
    strategy: str


@dataclass
class Driver:
    """Base for the portal drivers. Subclasses add the intent-named methods."""

    portal: str
    base_url: str
    page: Page
    selectors: SelectorFile
    account: PortalAccount
    timeout_s: float = 10.0
    max_login_attempts: int = 2
    drift: list[DriftNotice] = field(default_factory=list)
    case_id: str | None = None
    step: str | None = None
    # The screens and elements this driver's code uses (what the recorder asks for, what the check requires).
    needs: ClassVar[Needs] = LOGIN
    # The path of the page as the portal last drew it, untouched since (None once the robot typed into it or an
    # in-place save redrew parts of it): reading it shows what the portal holds without loading it again.
    rendered: str | None = None
    _dialog_text: str | None = field(default=None, repr=False)
    _dialogs_on: Page | None = field(default=None, repr=False)

    # -- errors ---------------------------------------------------------------------------------------
    def fail(self, code: ErrorCode, message: str) -> CasebotError:
        return error_for(code, f"{self.portal}: {message}", case_id=self.case_id, step=self.step,
                         portal=self.portal)

    def amount(self, text: str, what: str) -> int:
        """An amount an applicant declared or an agency paid: strictly kronor and never negative. Anything else
        is UNPARSEABLE_AMOUNT, which hands the case to a human: a guessed or zero amount would be paid out."""
        try:
            value = parse_kr(text)
        except ValueError:
            raise self.fail(ErrorCode.UNPARSEABLE_AMOUNT, f"{what}: {shown(text)} is not an amount") from None
        if value < 0:
            raise self.fail(ErrorCode.UNPARSEABLE_AMOUNT, f"{what}: {shown(text)} is negative")
        return value

    # -- navigation -----------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    async def goto(self, path: str) -> Response | None:
        """Navigate and turn portal-level trouble into the right error code."""
        profile.page_load()
        try:
            response = await self.page.goto(self.url(path), wait_until="domcontentloaded")
        except PlaywrightTimeout as exc:
            raise self.fail(ErrorCode.PORTAL_SLOW, f"no answer for {path} within the timeout") from exc
        except PlaywrightError as exc:
            first_line = exc.message.splitlines()[0] if exc.message else type(exc).__name__
            if browser_gone(first_line):
                raise self.fail(ErrorCode.BROWSER_CRASHED, f"the browser died while opening {path}: {first_line}"
                                ) from exc
            problem = proxy_problem(first_line)
            if problem is not None:  # every portal behind the same proxy fails alike: PROXY_FAILED stops the night
                raise self.fail(ErrorCode.PROXY_FAILED, f"cannot open {path}: {problem}") from exc
            refused = chromium_certificate_problem(first_line)
            if refused is not None:  # a certificate changed since preflight: every further page would fail too
                raise self.fail(ErrorCode.TLS_CERTIFICATE, f"the browser refused the certificate of {self.base_url}: "
                                f"{refused}") from exc
            raise self.fail(ErrorCode.PORTAL_DOWN, f"cannot reach {path}: {first_line}") from exc
        await self._check_client_tls(response, path)
        self.check_response(response, path)
        if path != LOGIN_PATH and self.on_login_page():
            raise SessionExpired()
        self.rendered = urlsplit(self.page.url).path
        return response

    async def submit(self, screen: str, button: str, what: str, *, dialog_text: str | None = None,
                     writes: bool = True) -> Answer:
        """Click a control that sends a form and wait for the outcome its selector file declares: the page it
        leads to (the default), or on a screen that saves in place, an element that changes or shows. An error
        page or the login page is caught here, never mistaken for an answer. A confirm() is accepted only when it
        contains `dialog_text` (a different question is not ours to answer); otherwise it is dismissed.

        No answer in time is PORTAL_SLOW for a search (`writes=False`), but OUTCOME_UNKNOWN for a write: the
        system may have taken it, so the caller reads what the system holds before anything is sent again."""
        control = await self.el(screen, button)  # not in the file: SELECTOR_MISSING before anything is clicked
        outcome = self.selectors.element(screen, button).outcome or NAVIGATION
        watched = await self.el(screen, outcome.element) if outcome.element else None
        before = (await watched.inner_text()).strip() if watched is not None and outcome.changes else None

        self._listen_for_dialogs()
        self._dialog_text = dialog_text
        try:
            self.rendered = None
            if watched is None:
                response = await self._click_and_wait(control, what, writes=writes)
                self.check_response(response, what)
                if self.on_login_page():
                    raise SessionExpired()
                if response is None or response.status < 400:  # a refusal's page shows what was typed, not held
                    self.rendered = urlsplit(self.page.url).path
                return Answer(response)
            await control.click()
            text = await self._wait_in_place(watched, before, what, writes=writes)
        finally:
            self._dialog_text = None
        if self.on_login_page():
            raise SessionExpired()
        refused = outcome.ok_text is not None and outcome.ok_text not in text
        return Answer(None, text, refused)

    def _listen_for_dialogs(self) -> None:
        """One listener per page for the night (adding and removing one per submit cost two calls each time): a
        dialog is accepted only during a submit that expects its text, dismissed otherwise."""
        if self._dialogs_on is self.page:
            return

        async def on_dialog(dialog: Dialog) -> None:
            if self._dialog_text is not None and self._dialog_text in dialog.message:
                await dialog.accept()
            else:
                await dialog.dismiss()

        self.page.on("dialog", on_dialog)
        self._dialogs_on = self.page

    async def _wait_in_place(self, watched: Locator, before: str | None, what: str, *, writes: bool) -> str:
        """Poll the declared element until it shows (or its text changes from `before`) and return its text."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            with contextlib.suppress(PlaywrightTimeout):
                if await watched.is_visible():
                    text = (await watched.inner_text(timeout=1000)).strip()
                    if before is None or (text and text != before):
                        return text
            if time.monotonic() >= deadline:
                waited = "the answer to show" if before is None else "the answer to change"
                raise self._no_answer(what, waited, writes)
            await asyncio.sleep(0.05)

    def _no_answer(self, what: str, waited_for: str, writes: bool) -> CasebotError:
        message = f"no answer to {what} within the timeout (waited for {waited_for})"
        if writes:
            return OutcomeUnknown(f"{self.portal}: {message}", case_id=self.case_id, step=self.step,
                                  portal=self.portal)
        return self.fail(ErrorCode.PORTAL_SLOW, message)

    async def confirm_write(self, unknown: OutcomeUnknown, holds: Callable[[], Awaitable[bool]], what: str) -> None:
        """A write got no answer: read what the system holds now. It shows the write: done. It does not: it was not
        taken, and a retry may send it (PORTAL_SLOW). Reading fails too: still unknown, and the retry reads first."""
        try:
            taken = await holds()
        except CasebotError as exc:
            raise OutcomeUnknown(f"{unknown.message}; reading back failed too: {exc.message}", case_id=self.case_id,
                                 step=self.step, portal=self.portal) from exc
        if not taken:
            raise self.fail(ErrorCode.PORTAL_SLOW, f"{unknown.message}; the system does not show {what}, so it was "
                                                   "not taken: safe to send again")
        logger.info("{}: {} got no answer in time, but the system shows it: taken", self.portal, what)

    async def _check_client_tls(self, response: Response | None, path: str) -> None:
        """A portal reached with a client certificate: Playwright's driver makes its TLS connection, and when that
        fails the browser shows the driver's 503 page, not the portal's. Said as the certificate problem it is,
        not as a portal that is down."""
        if response is None or response.status != 503 or response.headers.get("retry-after"):
            return
        try:
            found = interceptor_problem(await response.text())
        except PlaywrightError:
            return
        if found is None:
            return
        side, reason = found
        if side == "client":
            raise self.fail(ErrorCode.CLIENT_CERTIFICATE, f"{self.base_url} refused the robot's client certificate "
                            f"opening {path}: {reason}")
        raise self.fail(ErrorCode.TLS_CERTIFICATE, f"the certificate of {self.base_url} was refused opening {path}: "
                        f"{reason}")

    def check_response(self, response: Response | None, what: str) -> None:
        if response is None:
            return
        if response.status == 407:  # the proxy's page, not the portal's: it did not take the robot's login
            raise self.fail(ErrorCode.PROXY_FAILED, f"the proxy refused the robot's login for {what} (HTTP 407)")
        if response.status == 503 and response.headers.get("retry-after"):
            raise self.fail(ErrorCode.PORTAL_MAINTENANCE, f"maintenance page for {what}")
        if response.status >= 500:
            raise self.fail(ErrorCode.PORTAL_DOWN, f"HTTP {response.status} for {what}")

    def on_login_page(self) -> bool:
        return self.page.url.split("?")[0].endswith(LOGIN_PATH)

    # -- elements -------------------------------------------------------------------------------------
    def has(self, screen: str, name: str) -> bool:
        """Whether the selector file has the element (a file recorded from nothing may lack an optional one)."""
        spec = self.selectors.screens.get(screen)
        return spec is not None and name in spec.elements

    def not_recorded(self, screen: str, name: str) -> CasebotError:
        return self.fail(ErrorCode.SELECTOR_MISSING,
                         f"screen '{screen}', element '{name}' is not in selectors/{self.portal}.yaml: record it "
                         f"while it shows (casebot record {self.portal} {screen})")

    def scope_for(self, screen: str) -> Scope:
        frame = self.selectors.screens[screen].frame
        if not frame:
            return self.page
        scope: Page | FrameLocator = self.page
        for strategy in frame:
            if strategy.css is None:
                raise self.fail(ErrorCode.SELECTOR_MISSING, f"screen '{screen}': frames are located by css only")
            scope = scope.frame_locator(strategy.css)
        return scope

    def _record_drift(self, screen: str, name: str, resolution: Resolution) -> None:
        notice = DriftNotice(self.portal, screen, name, resolution.strategy_index, resolution.describe())
        self.drift.append(notice)
        logger.warning("selector drift: {}/{}/{} matched by fallback #{} ({})", self.portal, screen, name,
                       resolution.strategy_index, notice.strategy)

    async def el(self, screen: str, name: str, timeout_s: float | None = None) -> Locator:
        if not self.has(screen, name):
            raise self.not_recorded(screen, name)
        element = self.selectors.element(screen, name)
        try:
            resolution = await resolve(self.scope_for(screen), screen, name, element,
                                       timeout_s=self.timeout_s if timeout_s is None else timeout_s,
                                       on_drift=self._record_drift)
        except ElementNotFound as exc:
            if self.on_login_page():
                raise SessionExpired() from exc
            raise self.fail(ErrorCode.SELECTOR_MISSING, str(exc)) from exc
        return resolution.locator

    async def text(self, screen: str, name: str, timeout_s: float | None = None) -> str:
        return (await (await self.el(screen, name, timeout_s)).inner_text()).strip()

    async def read_records(self, screen: str, name: str) -> list[dict[str, str]]:
        """A table's body rows, or a list's items, as {logical column: text}; columns are found by the keys the
        selector file lists for them (header, row header, term, heading). One round trip, whatever the size."""
        located = await self.el(screen, name)
        element = self.selectors.element(screen, name)
        # On all matches (one: `el` checked): one call, where evaluate on the element costs three.
        found = await located.evaluate_all(f"(els) => ({RECORDS_JS})(els[0])")
        keys, missing = column_keys(element, found["keys"])
        if missing and (found["records"] or found["keys"]):  # an empty list has nothing to check
            raise self.fail(ErrorCode.SELECTOR_MISSING, f"screen '{screen}', '{name}': no "
                            f"{'; '.join(f'{c} {k}' for c, k in missing.items())} among {found['keys']}")
        return [{column: record.get(key, "") for column, key in keys.items()} for record in found["records"]]

    async def present(self, screen: str, name: str, timeout_s: float = 0.0) -> bool:
        """Whether an element is there now (no error): for branching on optional screens. An element the robot can
        do without (`needs`: not required) and the file does not have is never there."""
        if not self.has(screen, name):
            need = self.needs.get(screen, {}).get(name)
            if need is not None and not need.required:
                return False
            raise self.not_recorded(screen, name)
        element = self.selectors.element(screen, name)
        try:
            # No fingerprint search: presence is polled often, and a missing optional element is the usual answer.
            await resolve(self.scope_for(screen), screen, name, element, timeout_s=timeout_s, fingerprint=False)
        except ElementNotFound:
            return False
        return True

    async def _click_and_wait(self, control: Locator, what: str, *, writes: bool = False) -> Response | None:
        """Click and wait for the document it leads to; no answer in time is PORTAL_SLOW (OUTCOME_UNKNOWN for a
        write)."""
        profile.page_load()
        try:
            async with self.page.expect_navigation(wait_until="domcontentloaded",
                                                   timeout=self.timeout_s * 1000) as navigation:
                await control.click()
            return await navigation.value
        except PlaywrightTimeout as exc:
            raise self._no_answer(what, "the page it leads to", writes) from exc

    # -- login ----------------------------------------------------------------------------------------
    async def login(self) -> None:
        """Log in through the portal's login screen; wrong credentials stop early, well before a lockout."""
        with profile.phase(f"login {self.portal}"):
            await self._login()

    async def _login(self) -> None:
        for attempt in range(1, self.max_login_attempts + 1):
            await self.goto(LOGIN_PATH)
            await (await self.el("login", "username")).fill(self.account.username)
            await (await self.el("login", "password")).fill(self.account.password)
            answer = await self._click_and_wait(await self.el("login", "submit"), "the login")
            if answer is not None and answer.status >= 500:
                # The portal broke, it did not refuse us: not a login failure, and not one towards a lockout.
                raise self.fail(ErrorCode.PORTAL_DOWN, f"the login answered HTTP {answer.status}")
            if not self.on_login_page():
                await self.after_login()
                return
            message = await self.login_error_text()
            if "låst" in message.lower():
                raise self.fail(ErrorCode.ACCOUNT_LOCKED, "the service account is locked: " + message)
            if "fel användarnamn" in message.lower() or attempt == self.max_login_attempts:
                raise self.fail(ErrorCode.LOGIN_FAILED, f"login refused after {attempt} attempt(s): {message}")
        raise self.fail(ErrorCode.LOGIN_FAILED, "login did not succeed")

    async def login_error_text(self) -> str:
        if await self.present("login", "error"):
            return (await (await self.el("login", "error", timeout_s=0)).inner_text()).strip()
        return ""

    async def after_login(self) -> None:
        """Hook for portals that show something after login (the case system's system message)."""

    # -- the read-only walk (preflight and the recorder) -------------------------------------------------
    async def walk(self, reference: Reference) -> AsyncGenerator[str, None]:
        """Open every screen of the portal in turn, read-only, yielding each screen's name while it shows.
        Nothing is saved: searches only read, and the case system's reference case is only looked at."""
        await self.goto(LOGIN_PATH)
        yield "login"
        await self.login()
        async for screen in self.walk_logged_in(reference):
            yield screen

    async def walk_logged_in(self, reference: Reference) -> AsyncGenerator[str, None]:
        """The screens after login; each portal's driver knows how to reach them."""
        return
        yield  # an async generator that yields nothing

    async def with_session(self, action: Callable[[], Awaitable[T]]) -> T:
        """Run `action`; if the portal's session expired on the way, log in again once and retry."""
        try:
            if self.on_login_page() or self.page.url in ("", "about:blank"):
                await self.login()
            return await action()
        except SessionExpired:
            logger.info("{}: session expired, logging in again", self.portal)
        await self.login()
        try:
            return await action()
        except SessionExpired as exc:
            # Expired again straight after a fresh login: the portal is dropping sessions, not idling them out.
            raise self.fail(ErrorCode.SESSION_EXPIRED, "the session expired again right after logging in") from exc


class SearchFormDriver(Driver):
    """A portal where one searches a person by personnummer on a form page and reads a result page (SKV, CSN)."""

    search_path = "/sok"
    search_what = "the search"
    needs: ClassVar[Needs] = {**LOGIN, "search": search_screen()}

    async def walk_logged_in(self, reference: Reference) -> AsyncGenerator[str, None]:
        await self.goto(self.search_path)
        yield "search"
        if reference.pnr is not None:
            await self.search(reference.pnr)
            yield "result"

    async def search(self, pnr: str) -> None:
        """Search on the form page now showing; returns with the result page loaded."""
        await (await self.el("search", "pnr")).fill(pnr)
        await self.submit("search", "submit", self.search_what, writes=False)
