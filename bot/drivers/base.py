"""What every portal driver shares: login, session recovery, portal-health checks, element resolution."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from loguru import logger
from playwright.async_api import Dialog, FrameLocator, Locator, Page, Response
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from bot.calc.money import parse_kr, shown
from bot.errors import CasebotError, ErrorCode, error_for
from bot.selectors.model import SelectorFile
from bot.selectors.page_js import RECORDS_JS
from bot.selectors.resolve import ElementNotFound, Resolution, Scope, column_keys, resolve

T = TypeVar("T")

LOGIN_PATH = "/login"


def browser_gone(message: str) -> bool:
    """Whether a Playwright error means the browser, context or page itself died (not the portal)."""
    text = message.lower()
    return "has been closed" in text or "crash" in text or "connection closed" in text


class SessionExpired(Exception):
    """The portal sent us back to its login page mid-flow."""


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
        try:
            response = await self.page.goto(self.url(path), wait_until="domcontentloaded")
        except PlaywrightTimeout as exc:
            raise self.fail(ErrorCode.PORTAL_SLOW, f"no answer for {path} within the timeout") from exc
        except PlaywrightError as exc:
            first_line = exc.message.splitlines()[0] if exc.message else type(exc).__name__
            if browser_gone(first_line):
                raise self.fail(ErrorCode.BROWSER_CRASHED, f"the browser died while opening {path}: {first_line}"
                                ) from exc
            raise self.fail(ErrorCode.PORTAL_DOWN, f"cannot reach {path}: {first_line}") from exc
        self.check_response(response, path)
        if path != LOGIN_PATH and self.on_login_page():
            raise SessionExpired()
        return response

    async def submit(self, screen: str, button: str, what: str, *, dialog_text: str | None = None
                     ) -> Response | None:
        """Click a control that posts a form and wait for the page it leads to. An error page or the login page
        is caught here, never mistaken for an answer. A confirm() is accepted only when it contains
        `dialog_text` (a different question is not ours to answer); otherwise it is dismissed."""
        control = await self.el(screen, button)

        async def on_dialog(dialog: Dialog) -> None:
            if dialog_text is not None and dialog_text in dialog.message:
                await dialog.accept()
            else:
                await dialog.dismiss()

        self.page.on("dialog", on_dialog)
        try:
            response = await self._click_and_wait(control, what)
        finally:
            self.page.remove_listener("dialog", on_dialog)
        self.check_response(response, what)
        if self.on_login_page():
            raise SessionExpired()
        return response

    def check_response(self, response: Response | None, what: str) -> None:
        if response is None:
            return
        if response.status == 503 and response.headers.get("retry-after"):
            raise self.fail(ErrorCode.PORTAL_MAINTENANCE, f"maintenance page for {what}")
        if response.status >= 500:
            raise self.fail(ErrorCode.PORTAL_DOWN, f"HTTP {response.status} for {what}")

    def on_login_page(self) -> bool:
        return self.page.url.split("?")[0].endswith(LOGIN_PATH)

    # -- elements -------------------------------------------------------------------------------------
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
        element = self.selectors.element(screen, name)
        found = await (await self.el(screen, name)).evaluate(RECORDS_JS)
        keys, missing = column_keys(element, found["keys"])
        if missing and (found["records"] or found["keys"]):  # an empty list has nothing to check
            raise self.fail(ErrorCode.SELECTOR_MISSING, f"screen '{screen}', '{name}': no "
                            f"{'; '.join(f'{c} {k}' for c, k in missing.items())} among {found['keys']}")
        return [{column: record.get(key, "") for column, key in keys.items()} for record in found["records"]]

    async def present(self, screen: str, name: str, timeout_s: float = 0.0) -> bool:
        """Whether an element is there now (no error): for branching on optional screens."""
        element = self.selectors.element(screen, name)
        try:
            # No fingerprint search: presence is polled often, and a missing optional element is the usual answer.
            await resolve(self.scope_for(screen), screen, name, element, timeout_s=timeout_s, fingerprint=False)
        except ElementNotFound:
            return False
        return True

    async def _click_and_wait(self, control: Locator, what: str) -> Response | None:
        """Click and wait for the document it leads to; no answer in time is PORTAL_SLOW."""
        try:
            async with self.page.expect_navigation(wait_until="domcontentloaded",
                                                   timeout=self.timeout_s * 1000) as navigation:
                await control.click()
            return await navigation.value
        except PlaywrightTimeout as exc:
            raise self.fail(ErrorCode.PORTAL_SLOW, f"no answer to {what} within the timeout") from exc

    # -- login ----------------------------------------------------------------------------------------
    async def login(self) -> None:
        """Log in through the portal's login screen; wrong credentials stop early, well before a lockout."""
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

    async def walk_logged_in(self, reference: Reference) -> AsyncGenerator[str, None]:
        await self.goto(self.search_path)
        yield "search"
        if reference.pnr is not None:
            await self.search(reference.pnr)
            yield "result"

    async def search(self, pnr: str) -> None:
        """Search on the form page now showing; returns with the result page loaded."""
        await (await self.el("search", "pnr")).fill(pnr)
        await self.submit("search", "submit", self.search_what)
