"""The case system's calculation screen and park action through its desktop client: pixels, keyboard, clipboard.

The same intent-named methods as the web driver's (`fill_calculation`, `read_calculation`, `park`), so the run
loop does not care which channel a portal uses. Every element is found by its anchor image, exactly once, and
acted on at its recorded offset; values are read back by selecting the field and copying it to the clipboard. A
missing anchor is SELECTOR_MISSING, as a missing web element is, and nothing is saved after it.

Synchronous (pyautogui): the run loop calls it in a thread, one case at a time (one screen, one keyboard).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot import chaos
from bot.calc.fields import ALL_FIELDS as FIELD_KEYS
from bot.calc.money import parse_kr, shown
from bot.desktop import images
from bot.desktop.anchors import DesktopSelectors, anchor_pixels
from bot.desktop.display import Display
from bot.desktop.images import Box, Pixels
from bot.drivers.base import PortalAccount
from bot.drivers.casesystem import TOTAL_KEYS, amount_text
from bot.errors import CasebotError, ErrorCode, error_for

POLL_S = 0.1
CURSOR_WIDTH = 2  # pixels
Where = tuple[str, str]  # (screen, element)


@dataclass
class DesktopCaseSystem:
    display: Display
    selectors: DesktopSelectors
    folder: Path  # where the anchor images are
    account: PortalAccount
    timeout_s: float = 10.0
    portal: str = "casesystem"
    case_id: str | None = None
    step: str | None = None
    shots_dir: Path | None = None  # a screenshot of the screen when an anchor is missing, for the admin

    def fail(self, code: ErrorCode, message: str) -> CasebotError:
        return error_for(code, f"{self.portal} (desktop): {message}", case_id=self.case_id, step=self.step,
                         portal=self.portal)

    # -- seeing -----------------------------------------------------------------------------------------
    def _matches(self, shot: Pixels, where: Where) -> list[Box]:
        anchor = self.selectors.anchor(*where)
        return images.locate_all(shot, anchor_pixels(self.folder, anchor), limit=2)

    def find(self, where: Where, shot: Pixels | None = None) -> Box | None:
        matches = self._matches(self.display.grab() if shot is None else shot, where)
        return matches[0] if len(matches) == 1 else None

    def wait_for_any(self, options: Sequence[Where], timeout_s: float | None = None) -> tuple[Where, Box]:
        """The first of `options` whose anchor shows exactly once, polling until the timeout."""
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        while True:
            shot = self.display.grab()
            for where in options:
                box = self.find(where, shot)
                if box is not None:
                    return where, box
            if time.monotonic() >= deadline:
                saved = self._keep_shot(shot)
                wanted = " or ".join(f"{s}/{e} ({self.selectors.anchor(s, e).image})" for s, e in options)
                raise self.fail(ErrorCode.SELECTOR_MISSING, f"not on the screen after {self.timeout_s:.0f} s: "
                                f"{wanted}{f'; screenshot {saved}' if saved else ''}")
            time.sleep(POLL_S)

    def wait_for(self, where: Where, timeout_s: float | None = None) -> Box:
        return self.wait_for_any([where], timeout_s)[1]

    def _keep_shot(self, shot: Pixels) -> Path | None:
        if self.shots_dir is None:
            return None
        from bot.browser.artifacts import make_private, private_dir

        path = private_dir(self.shots_dir) / f"desktop-{self.case_id or 'screen'}-{time.strftime('%Y%m%dT%H%M%S')}.png"
        images.save(shot, path)
        make_private(path)
        return path

    # -- acting -----------------------------------------------------------------------------------------
    def point(self, where: Where, box: Box) -> tuple[int, int]:
        return box.point(*self.selectors.anchor(*where).click)

    def click(self, where: Where, box: Box | None = None) -> None:
        self.display.click(*self.point(where, box or self.wait_for(where)))

    def dismiss(self, where: Where) -> None:
        """Press Enter on the dialog `where` shows, and wait until it is gone: a click meant for the window under
        a modal dialog that is still up would go nowhere."""
        self.display.press("enter")
        deadline = time.monotonic() + self.timeout_s
        while self._matches(self.display.grab(), where):
            if time.monotonic() >= deadline:
                raise self.fail(ErrorCode.PORTAL_SLOW, f"the dialog {where[0]} did not close")
            time.sleep(POLL_S / 2)

    def type_into(self, where: Where, text: str, box: Box | None = None) -> None:
        self.click(where, box)
        self.display.keys("ctrl", "a")
        self.display.press("backspace")
        if text:
            self.display.type(text)

    def looks_empty(self, shot: Pixels, where: Where, box: Box) -> bool:
        """A field with no text in it, seen on the screen: inside its border, at most a text cursor (a line one or
        two pixels wide) differs from the background; the narrowest digit is wider. Needs the field's recorded
        size; without it the field is copied."""
        size = self.selectors.anchor(*where).field
        if size is None:
            return False
        x, y = self.point(where, box)
        half_w, half_h = size[0] // 2 - 4, max(1, size[1] // 2 - 4)
        inside = shot[y - half_h:y + half_h + 1, x - half_w:x + half_w + 1]
        if inside.size == 0:
            return False
        background = inside[0, 0]
        inked_columns = (inside != background).any(axis=2).any(axis=0)
        return int(inked_columns.sum()) <= CURSOR_WIDTH

    def copy_from(self, where: Where, box: Box | None = None) -> str:
        """What a field holds, through the clipboard: select all, copy, read."""
        for _attempt in range(2):  # a copy lost on a busy session is asked for once more
            self.click(where, box)
            self.display.keys("ctrl", "a")
            text = self.display.copy_after(("ctrl", "c"))
            if text is not None:
                return text.strip()
        raise self.fail(ErrorCode.READBACK_MISMATCH, f"{where[0]}/{where[1]}: nothing came to the clipboard")

    # -- the screens ------------------------------------------------------------------------------------
    def check(self) -> str:
        """Before the first case: the client shows one of its screens as recorded (a new client version does
        not). Returns the screen showing."""
        where, _ = self.wait_for_any([("calc", "close"), ("search", "open"), ("login", "login")])
        return where[0]

    def login(self) -> None:
        self.type_into(("login", "username"), self.account.username)
        self.type_into(("login", "password"), self.account.password)
        self.click(("login", "login"))
        where, _ = self.wait_for_any([("search", "open"), ("dialog", "ok")])
        if where == ("dialog", "ok"):
            self.dismiss(where)
            raise self.fail(ErrorCode.LOGIN_FAILED, "the client refused the login")

    def open(self, case_id: str) -> None:
        """The calculation screen of `case_id`, freshly loaded (what the case system has stored now)."""
        where, box = self.wait_for_any([("calc", "close"), ("search", "open"), ("login", "login")])
        if where == ("calc", "close"):
            self.click(where, box)
            self.wait_for(("search", "open"))
        elif where == ("login", "login"):
            self.login()
        self.type_into(("search", "case_no"), case_id)
        self.display.press("enter")
        where, _ = self.wait_for_any([("calc", "save"), ("dialog", "ok")])
        if where == ("dialog", "ok"):
            self.dismiss(where)
            raise self.fail(ErrorCode.DATA_MISMATCH, f"the client cannot open {case_id}")

    def _answer(self, expected: str, what: str) -> None:
        """Close the dialog that answers an action: the expected one, or any other as a refusal."""
        where, _ = self.wait_for_any([(expected, "message"), ("dialog", "ok")])
        self.dismiss(where)
        if where != (expected, "message"):
            raise self.fail(ErrorCode.DATA_MISMATCH, f"{what} refused by the case system (its dialog is not "
                                                     f"'{expected}'; the screenshot shows why)")

    def fill_calculation(self, case_id: str, values: Mapping[str, int | None]) -> None:
        unknown = set(values) - set(FIELD_KEYS)
        if unknown:
            raise ValueError(f"not calculation fields: {sorted(unknown)}")
        self.open(case_id)
        shot = self.display.grab()
        for key in FIELD_KEYS:
            if key in values:
                self.type_into(("calc", key), amount_text(values[key]), self.find(("calc", key), shot))
        chaos.point("fill", case_id)
        self.click(("calc", "save"))
        self._answer("dialog_saved", f"save calculation {case_id}")

    def read_calculation(self, case_id: str) -> dict[str, int | None]:
        self.open(case_id)
        shot = self.display.grab()
        values: dict[str, int | None] = {}
        for key in (*FIELD_KEYS, *TOTAL_KEYS):
            box = self.find(("calc", key), shot)
            if box is None:
                box = self.wait_for(("calc", key))
            text = "" if self.looks_empty(shot, ("calc", key), box) else self.copy_from(("calc", key), box)
            try:
                values[key] = parse_kr(text) if text not in ("", "–") else None
            except ValueError:
                raise self.fail(ErrorCode.READBACK_MISMATCH, f"{key}: the client shows {shown(text)}, "
                                                             "not an amount") from None
        return values

    def park(self, case_id: str, *, needs_completion: bool) -> None:
        self.open(case_id)
        if needs_completion:
            self.click(("calc", "needs_completion"))
        self.click(("calc", "park"))
        self.wait_for(("dialog_confirm_park", "message"))
        self.dismiss(("dialog_confirm_park", "message"))
        self._answer("dialog_parked", f"park {case_id}")
