"""Recording a desktop screen's anchors: a screenshot, and for each element the area to keep as its image and the
point to act on. An area must be found exactly once on the screen it was cut from, or the recording is refused.

Where the areas come from is the recorder's only input: an admin pointing at them, or (tests, scripted
re-recording) the client's own description of where it drew each widget (`--geometry-file` of the sandbox client).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.desktop import images
from bot.desktop.anchors import Anchor, DesktopSelectors, Recorded, Screen, load_desktop, write_desktop
from bot.desktop.display import Display
from bot.desktop.images import Box, Pixels
from bot.desktop.screens import BUTTON, ELEMENTS, FIELD
from bot.drivers.base import PortalAccount

BUTTON_INSET = 3  # a button's face without its focus ring, which comes and goes


class RecordingRefused(ValueError):
    pass


@dataclass(frozen=True)
class Target:
    area: Box  # what to keep as the anchor image
    point: tuple[int, int]  # where to act, on the screen
    field: tuple[int, int] | None = None  # a field's width and height


def targets_from_geometry(screen: str, widgets: Mapping[str, list[int]]) -> dict[str, Target]:
    """The targets of `screen`'s elements from the client's widget rectangles (x, y, width, height)."""
    found: dict[str, Target] = {}
    for element, kind in ELEMENTS[screen].items():
        if kind == FIELD:
            label, field = Box(*widgets[f"label:{element}"]), Box(*widgets[f"field:{element}"])
            found[element] = Target(label, (field.left + field.width // 2, field.top + field.height // 2),
                                    (field.width, field.height))
        else:
            x, y, w, h = widgets[f"button:{element}" if kind == BUTTON else "label:message"]
            inset = BUTTON_INSET if kind == BUTTON else 0
            area = Box(x + inset, y + inset, w - 2 * inset, h - 2 * inset)
            found[element] = Target(area, (x + w // 2, y + h // 2))
    return found


def record_screen(shot: Pixels, screen: str, targets: Mapping[str, Target], folder: Path) -> Screen:
    """Cut each element's image from `shot`, check it is unique there, save it, and return the screen's anchors."""
    missing = sorted(set(ELEMENTS[screen]) - set(targets))
    if missing:
        raise RecordingRefused(f"screen '{screen}': nothing recorded for {', '.join(missing)}")
    anchors: dict[str, Anchor] = {}
    for element, target in targets.items():
        cut = images.crop(shot, target.area)
        matches = images.locate_all(shot, cut)
        if len(matches) != 1:
            raise RecordingRefused(f"screen '{screen}', element '{element}': the area is found {len(matches)} "
                                   "times on the screen; choose one that only this element shows")
        relative = f"images/{screen}/{element}.png"
        images.save(cut, folder / relative)
        click = (target.point[0] - target.area.left, target.point[1] - target.area.top)
        anchors[element] = Anchor(image=relative, click=click, field=target.field)
    return Screen(elements=anchors)


class ClientGeometry:
    """The sandbox client's `--geometry-file`: which screen is up and where it drew each widget."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def wait(self, screen: str, timeout_s: float = 15.0) -> dict[str, list[int]]:
        deadline = time.monotonic() + timeout_s
        while True:
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if data.get("screen") == screen:
                    time.sleep(0.2)  # drawn, and flushed to the display
                    return dict(data["widgets"])
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the client did not show '{screen}' within {timeout_s:.0f} s")
            time.sleep(0.05)


def centre(box: list[int]) -> tuple[int, int]:
    return box[0] + box[2] // 2, box[1] + box[3] // 2


def record_client(display: Display, geometry: ClientGeometry, account: PortalAccount, case_id: str, folder: Path,
                  layout: str, by: str) -> DesktopSelectors:
    """Walk the client through every screen and dialog on `case_id` (a test case: it is saved, refused a bad
    amount, and parked on the way), pointing at each element where the client drew it, and record the anchors
    into `folder` (`desktop.yaml` and `images/`)."""
    screens: dict[str, Screen] = {}

    def record(screen: str, drawn: str | None = None) -> dict[str, list[int]]:
        widgets = geometry.wait(drawn or screen)
        display.rest()
        screens[screen] = record_screen(display.grab(), screen, targets_from_geometry(screen, widgets), folder)
        return widgets

    def type_at(box: list[int], text: str) -> None:
        display.click(*centre(box))
        display.keys("ctrl", "a")
        display.press("backspace")
        display.type(text)

    widgets = record("login")
    type_at(widgets["field:username"], account.username)
    type_at(widgets["field:password"], account.password)
    display.press("enter")
    widgets = record("search")
    type_at(widgets["field:case_no"], case_id)
    display.press("enter")
    widgets = record("calc")
    display.click(*centre(widgets["button:save"]))
    record("dialog_saved", "dialog:saved")
    display.press("enter")
    widgets = geometry.wait("calc")
    type_at(widgets["field:boende"], "inte ett belopp")
    display.click(*centre(widgets["button:save"]))
    record("dialog", "dialog:error")
    display.press("enter")
    # The dialog must be gone before the next click, or a busy display gives the click to the dialog.
    widgets = geometry.wait("calc")
    display.click(*centre(widgets["button:close"]))  # the bad amount is dropped with the screen
    widgets = geometry.wait("search")
    type_at(widgets["field:case_no"], case_id)
    display.press("enter")
    widgets = geometry.wait("calc")
    display.click(*centre(widgets["button:park"]))
    record("dialog_confirm_park", "dialog:confirm_park")
    display.press("enter")
    record("dialog_parked", "dialog:parked")
    display.press("enter")
    return _write(folder, layout, by, screens)


# -- an admin pointing ---------------------------------------------------------------------------------------
SHOW = {
    "login": "the client's login screen",
    "search": "the screen after logging in, where a case number is typed",
    "calc": "the calculation screen of the test case",
    "dialog_saved": "the dialog after Save on the calculation screen",
    "dialog": "the error dialog (type a letter into an amount field and press Save)",
    "dialog_confirm_park": "the question after Park",
    "dialog_parked": "the dialog after answering yes",
}
ORDER = ("login", "search", "calc", "dialog_saved", "dialog", "dialog_confirm_park", "dialog_parked")


def pointed(display: Display, ask: Callable[[str], object], prompt: str) -> tuple[int, int]:
    ask(prompt)
    return display.position()


def area_between(a: tuple[int, int], b: tuple[int, int]) -> Box:
    left, top = min(a[0], b[0]), min(a[1], b[1])
    return Box(left, top, abs(b[0] - a[0]) + 1, abs(b[1] - a[1]) + 1)


def targets_by_pointing(display: Display, screen: str, ask: Callable[[str], object]) -> dict[str, Target]:
    """An admin points at each element's corners (and a field's own corners) and presses Enter each time."""
    found: dict[str, Target] = {}
    for element, kind in ELEMENTS[screen].items():
        what = {FIELD: f"the LABEL of the field '{element}'", BUTTON: f"the button '{element}'"}.get(
            kind, "the dialog's message text")
        area = area_between(pointed(display, ask, f"{screen}/{element}: point at the top-left corner of {what}"),
                            pointed(display, ask, f"{screen}/{element}: point at its bottom-right corner"))
        if kind == FIELD:
            field = area_between(pointed(display, ask, f"{screen}/{element}: point at the top-left corner of "
                                                       "the FIELD itself"),
                                 pointed(display, ask, f"{screen}/{element}: point at its bottom-right corner"))
            found[element] = Target(area, (field.left + field.width // 2, field.top + field.height // 2),
                                    (field.width, field.height))
        else:
            found[element] = Target(area, (area.left + area.width // 2, area.top + area.height // 2))
    return found


def record_by_pointing(display: Display, ask: Callable[[str], object], folder: Path, layout: str, by: str,
                       screens: Sequence[str] = ORDER) -> DesktopSelectors:
    """Record `screens` (default: all) with an admin pointing; screens not recorded keep their anchors."""
    recorded: dict[str, Screen] = {}
    for screen in screens:
        ask(f"Show {SHOW[screen]} on the screen, then press Enter")
        targets = targets_by_pointing(display, screen, ask)
        display.rest()
        recorded[screen] = record_screen(display.grab(), screen, targets, folder)
    return _write(folder, layout, by, recorded)


def _write(folder: Path, layout: str, by: str, recorded: dict[str, Screen]) -> DesktopSelectors:
    kept: dict[str, Screen] = {}
    if (folder / "desktop.yaml").is_file():
        kept = dict(load_desktop(folder).screens)
    selectors = DesktopSelectors(portal="casesystem", channel="desktop", layout=layout,
                                 recorded=Recorded(at=date.today(), by=by), screens={**kept, **recorded})
    write_desktop(selectors, folder)
    return selectors
