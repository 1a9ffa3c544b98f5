"""`casebot record`: re-recording a portal's screens by clicking, with no Python and no CSS knowledge needed.

The recorder walks to each screen the way the robot does (read-only), then asks for the screen's elements one by
one ("klicka på fältet för Hyra"). Each click is described in the page, turned into candidate strategies
(`bot.selectors.candidates`), and each candidate is kept only if it matches exactly one visible element: the one
clicked. A table or list is then asked for its columns ("klicka på rubriken för pnr"). The admin sees the diff of
the selector file before it is saved; every click, candidate and choice is kept in `recordings/` for review.

A script (YAML: per screen, per element, what to click) replaces the admin's clicks, for tests and for repeating a
recording; the clicks are real browser clicks, captured exactly as an admin's are.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from loguru import logger
from playwright.async_api import Frame, Page
from pydantic import BaseModel, ConfigDict, Field

from bot.drivers.base import Driver, Reference
from bot.errors import ErrorCode, SystemException
from bot.masking import mask_value
from bot.selectors.candidates import MAX_CHOSEN, candidates, fingerprint_of, frame_candidates
from bot.selectors.model import Element, SelectorFile, Strategy
from bot.selectors.page_js import BANNER_JS, IS_TARGET_JS, PICKER_JS
from bot.selectors.resolve import Scope, locate
from bot.selectors.write import save_atomically, unified_diff, updated_text, validate_text
from bot.yamlload import load_model

PickMode = Literal["element", "records", "key"]
SCRIPT_PICK_TIMEOUT_S = 15.0


# -- the script that stands in for an admin's clicks ---------------------------------------------------------
class ScriptClick(BaseModel):
    """What to click for one element: a strategy (`{label: …}`, `{text: …}`, `{css: …}`, …), optionally inside a
    frame (`frame: "iframe[title=…]"`), and for tables/lists what to click for each column."""

    model_config = ConfigDict(extra="forbid")

    click: Strategy
    frame: str | None = None
    columns: dict[str, Strategy] = Field(default_factory=dict)


class RecordingScript(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # screen → element → what to click; an element left out is skipped (kept as it is in the file).
    screens: dict[str, dict[str, ScriptClick]]


def load_script(path: Path) -> RecordingScript:
    return load_model(path, RecordingScript)


# -- capturing clicks -------------------------------------------------------------------------------------------
@dataclass
class Picked:
    frame: Frame
    description: dict[str, Any]


class Picker:
    """Turns the next click in the page (any frame) into a description of the element clicked."""

    def __init__(self, page: Page, say: Callable[[str], None], stable: Sequence[str] = ()) -> None:
        self.page = page
        self.say = say
        self.stable = list(stable)  # the portal's own stable attributes
        self.queue: asyncio.Queue[tuple[Frame, dict[str, Any] | None]] = asyncio.Queue()

    async def install(self) -> None:
        async def on_pick(source: dict[str, Any], description: dict[str, Any] | None) -> None:
            self.queue.put_nowait((source["frame"], description))

        await self.page.expose_binding("__casebotPicked", on_pick)

    async def _arm(self, mode: PickMode | None) -> None:
        for frame in self.page.frames:
            with contextlib.suppress(Exception):  # a frame may be detaching while we go through them
                if mode is None:
                    await frame.evaluate("() => { if (window.__casebotPicker) window.__casebotPicker.mode = null; }")
                else:
                    await frame.evaluate(PICKER_JS, [mode, self.stable])

    async def pick(self, mode: PickMode, prompt: str, scripted: tuple[Scope, Strategy] | None,
                   interactive: bool) -> Picked | None:
        """The next click's description; None when the admin pressed Escape (or the script has no click)."""
        while not self.queue.empty():
            self.queue.get_nowait()
        await self._arm(mode)
        self.say(prompt)
        with contextlib.suppress(Exception):
            await self.page.main_frame.evaluate(BANNER_JS, prompt + "   (Esc: hoppa över)")
        if not interactive and scripted is None:
            return None
        if scripted is not None:
            scope, target = scripted
            await locate(scope, target).first.click()
        timeout = None if interactive and scripted is None else SCRIPT_PICK_TIMEOUT_S
        frame, description = await asyncio.wait_for(self.queue.get(), timeout)
        return None if description is None else Picked(frame, description)

    async def disarm(self) -> None:
        """Clicks do their normal work again (the robot's own login, navigation) and the banner goes."""
        await self._arm(None)
        with contextlib.suppress(Exception):
            await self.page.main_frame.evaluate(
                "() => { const b = document.getElementById('__casebot_banner'); if (b) b.remove(); }")


# -- one recording session ------------------------------------------------------------------------------------
@dataclass
class CandidateResult:
    strategy: Strategy
    matches: int
    is_clicked: bool


@dataclass
class RecordingResult:
    portal: str
    path: Path  # the selector file
    old_text: str
    new_text: str
    recording_path: Path
    changed: list[str] = field(default_factory=list)  # "screen/element" re-recorded
    saved: bool = False

    @property
    def diff(self) -> str:
        return unified_diff(self.old_text, self.new_text, self.path)


class RecordingError(SystemException):
    """The recorder could not produce a usable selector (a click nothing unique points at, a screen not reached):
    RECORDING_FAILED with its runbook; the selector file is left as it was."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.RECORDING_FAILED, message, retryable=False)


@dataclass
class Recorder:
    driver: Driver
    picker: Picker
    script: RecordingScript | None
    interactive: bool
    clicks: list[dict[str, Any]] = field(default_factory=list)
    elements: dict[tuple[str, str], Element] = field(default_factory=dict)
    frames: dict[str, list[Strategy]] = field(default_factory=dict)

    @property
    def page(self) -> Page:
        return self.driver.page

    def _scripted(self, screen: str, name: str) -> ScriptClick | None:
        if self.script is None:
            return None
        return self.script.screens.get(screen, {}).get(name)

    def _script_scope(self, click: ScriptClick) -> Scope:
        return self.page.frame_locator(click.frame) if click.frame else self.page

    async def record_screen(self, screen: str) -> None:
        spec = self.driver.selectors.screens[screen]
        for name, element in spec.elements.items():
            step = self._scripted(screen, name)
            if self.script is not None and step is None:
                continue
            what = element.description or name
            kind = "tabellen/listan" if element.columns else "elementet"
            picked = await self.picker.pick(
                "records" if element.columns else "element",
                f"{self.driver.portal}/{screen}: klicka på {kind} '{name}' ({what})",
                (self._script_scope(step), step.click) if step else None, self.interactive)
            if picked is None:
                logger.info("record: {}/{} skipped, kept as it is", screen, name)
                continue
            await self._record_element(screen, name, element, picked, step)
        await self.picker.disarm()

    async def _record_element(self, screen: str, name: str, element: Element, picked: Picked,
                              step: ScriptClick | None) -> None:
        scope: Scope = self.page
        frame_strategies: list[Strategy] | None = None
        if picked.frame != self.page.main_frame:
            frame_strategies = await self._frame_for(screen, picked.frame)
            scope = self.page.frame_locator(frame_strategies[0].css or "")
        tried: list[CandidateResult] = []
        stable = self.driver.selectors.stable_attributes
        for strategy in candidates(picked.description, stable) + element.strategies:
            if any(t.strategy == strategy for t in tried):
                continue
            located = locate(scope, strategy).filter(visible=True)
            count = await located.count()
            is_clicked = count == 1 and bool(await located.evaluate(IS_TARGET_JS))
            tried.append(CandidateResult(strategy, count, is_clicked))
        chosen = [t.strategy for t in tried if t.is_clicked][:MAX_CHOSEN]
        if not chosen:
            raise RecordingError(f"{self.driver.portal}/{screen}/{name}: nothing stable points at exactly the "
                                 f"element clicked ({picked.description.get('tag')}); tried "
                                 f"{'; '.join(f'{t.strategy.describe()} → {t.matches}' for t in tried)}")
        columns = dict(element.columns)
        column_clicks = {}
        for column, keys in element.columns.items():
            target = step.columns.get(column) if step else None
            if step is not None and target is None:
                continue
            picked_key = await self.picker.pick(
                "key", f"{self.driver.portal}/{screen}/{name}: klicka på rubriken eller ett värde för kolumnen "
                       f"'{column}' (tidigare {', '.join(keys)})",
                (self._script_scope(step), target) if step and target else None, self.interactive)
            key = picked_key.description.get("key") if picked_key else None
            if key:
                columns[column] = [key] + [k for k in keys if k != key]
                column_clicks[column] = key
        self.elements[(screen, name)] = element.model_copy(update={
            "strategies": chosen, "fingerprint": fingerprint_of(picked.description), "columns": columns})
        if frame_strategies is not None:
            self.frames[screen] = frame_strategies
        self.clicks.append({
            "screen": screen, "element": name, "clicked": _recordable(picked.description),
            "frame": [s.describe() for s in frame_strategies] if frame_strategies else None,
            "candidates": [{"strategy": t.strategy.describe(), "matches": t.matches, "is_clicked": t.is_clicked,
                            "chosen": t.strategy in chosen} for t in tried],
            "columns": column_clicks,
        })
        logger.info("record: {}/{} → {}", screen, name, "; ".join(s.describe() for s in chosen))

    async def _frame_for(self, screen: str, frame: Frame) -> list[Strategy]:
        """How to point at the frame the click came from: the screen's recorded frame if it still does, else
        new candidates that match exactly that frame."""
        old = self.driver.selectors.screens[screen].frame or []
        options = list(old)
        element = await frame.frame_element()
        src = await element.get_attribute("src") or ""
        options += frame_candidates({"title": await element.get_attribute("title"),
                                     "src": urlsplit(src).path if src else None,
                                     "attributes": {"name": await element.get_attribute("name") or ""}})
        for strategy in options:
            if strategy.css is None:
                continue
            located = self.page.locator(strategy.css)
            if await located.count() == 1:
                handle = await located.element_handle()
                if handle is not None and await handle.content_frame() == frame:
                    return [strategy]
        raise RecordingError(f"{self.driver.portal}/{screen}: the click came from a frame nothing stable points at")


def _recordable(description: Mapping[str, Any]) -> dict[str, Any]:
    """What the recording keeps of a click: the traits, never the element's full text (a table's text is people's
    data), and personnummer masked in whatever is kept."""
    kept = {k: v for k, v in description.items() if k != "text"}
    if description.get("tag") in ("a", "button", "label", "th", "dt", "h1", "h2", "h3", "h4", "h5", "h6"):
        kept["text"] = str(description.get("text") or "")[:80]
    return mask_value(kept)


async def record_portal(driver: Driver, reference: Reference, screens: Sequence[str], *,
                        script: RecordingScript | None, interactive: bool, say: Callable[[str], None]
                        ) -> Recorder:
    """Walk the portal and record the wanted screens (all of them when none are named)."""
    unknown = [s for s in screens if s not in driver.selectors.screens]
    if unknown:
        raise RecordingError(f"selectors/{driver.portal}.yaml has no screen {', '.join(unknown)} "
                             f"(screens: {', '.join(driver.selectors.screens)})")
    wanted = list(screens) or list(driver.selectors.screens)
    picker = Picker(driver.page, say, driver.selectors.stable_attributes)
    await picker.install()
    recorder = Recorder(driver, picker, script, interactive)
    remaining = set(wanted)
    walk = driver.walk(reference)
    try:
        async for screen in walk:
            if screen in remaining:
                await recorder.record_screen(screen)
                remaining.discard(screen)
                # The rest of the walk uses what was just recorded (a re-recorded search leads to the result).
                driver.selectors = apply(driver.selectors, recorder.elements, recorder.frames)
            if not remaining:
                break
    finally:
        await walk.aclose()
    not_reached = [s for s in wanted if s in remaining and not _all_conditional(driver.selectors, s)]
    if not_reached:
        raise RecordingError(f"{driver.portal}: the walk did not reach {', '.join(not_reached)}")
    return recorder


def _all_conditional(selectors: SelectorFile, screen: str) -> bool:
    return all(e.conditional for e in selectors.screens[screen].elements.values())


def apply(selectors: SelectorFile, elements: Mapping[tuple[str, str], Element],
          frames: Mapping[str, list[Strategy]]) -> SelectorFile:
    screens = {}
    for screen_name, screen in selectors.screens.items():
        updated = {name: elements.get((screen_name, name), element) for name, element in screen.elements.items()}
        screens[screen_name] = screen.model_copy(update={"elements": updated,
                                                         "frame": frames.get(screen_name, screen.frame)})
    return selectors.model_copy(update={"screens": screens})


def finish(recorder: Recorder, path: Path, recordings_dir: Path, *, by: str, layout: str | None,
           confirm: Callable[[str], bool], mode: str) -> RecordingResult:
    """Write the recording, show the diff, and save the selector file if the admin says so (and it validates)."""
    now = datetime.now().astimezone()
    old = path.read_text(encoding="utf-8")
    new = updated_text(old, recorder.elements, recorder.frames, layout=layout,
                       recorded={"at": now.date().isoformat(), "by": by}) if recorder.elements else old
    validate_text(new, path)
    recordings_dir.mkdir(parents=True, exist_ok=True)
    portal = recorder.driver.portal
    recording = recordings_dir / f"{portal}-{now.strftime('%Y%m%dT%H%M%S')}.json"
    result = RecordingResult(portal, path, old, new, recording,
                             changed=[f"{s}/{e}" for s, e in recorder.elements])
    if new != old and confirm(result.diff):
        save_atomically(path, new)
        result.saved = True
    recording.write_text(json.dumps({
        "portal": portal, "at": now.isoformat(timespec="seconds"), "by": by, "mode": mode, "layout": layout,
        "selector_file": str(path), "saved": result.saved, "changed": result.changed, "clicks": recorder.clicks,
    }, ensure_ascii=False, indent=2), encoding="utf-8")
    return result
