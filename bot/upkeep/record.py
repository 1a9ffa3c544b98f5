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
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.drivers.base import Driver, Reference
from bot.drivers.needs import Need, missing
from bot.errors import ErrorCode, SystemException
from bot.masking import mask_value
from bot.selectors.candidates import MAX_CHOSEN, candidates, fingerprint_of, frame_candidates
from bot.selectors.model import Element, Fingerprint, Outcome, Screen, SelectorFile, Strategy
from bot.selectors.page_js import BANNER_JS, IS_TARGET_JS, PICKER_JS
from bot.selectors.resolve import Scope, locate
from bot.selectors.write import new_file_text, save_atomically, unified_diff, updated_text, validate_text
from bot.yamlload import load_model

PickMode = Literal["element", "records", "key"]
SCRIPT_PICK_TIMEOUT_S = 15.0


# -- the script that stands in for an admin's clicks ---------------------------------------------------------
class ScriptClick(BaseModel):
    """What to click for one element: a strategy (`{label: …}`, `{text: …}`, `{css: …}`, …), optionally inside a
    frame (`frame: "iframe[title=…]"`), and for tables/lists what to click for each column. For a control that
    writes on a screen that saves in place, the `outcome` that shows the system answered; for an element the
    robot's code does not ask for (a message cell an outcome points at), its `description`."""

    model_config = ConfigDict(extra="forbid")

    click: Strategy
    frame: str | None = None
    columns: dict[str, Strategy] = Field(default_factory=dict)
    outcome: Outcome | None = None
    description: str | None = None


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
    weakened: dict[str, list[str]] = field(default_factory=dict)  # "screen/element" → traits its fingerprint lost
    not_recorded: list[str] = field(default_factory=list)  # asked for, not in the file, and skipped
    missing: list[str] = field(default_factory=list)  # required by the robot and still not in the file

    def warnings(self) -> list[str]:
        """What the admin must read before saving: weaker fingerprints, and what the file still lacks."""
        lines = [f"fingerprint of {where} is weaker than before: loses {', '.join(lost)}"
                 for where, lost in self.weakened.items()]
        lines += [f"not recorded (it did not show or was skipped): {where}" for where in self.not_recorded
                  if where not in self.missing]
        lines += [f"still missing, the night stops at it until it is recorded: {where}" for where in self.missing]
        return lines

    @property
    def diff(self) -> str:
        return unified_diff(self.old_text, self.new_text, self.path)


class RecordingError(SystemException):
    """The recorder could not produce a usable selector (a click nothing unique points at, a screen not reached):
    RECORDING_FAILED with its runbook; the selector file is left as it was."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.RECORDING_FAILED, message, retryable=False)


@dataclass(frozen=True)
class Asked:
    """One element the recorder asks for: what the file has for it (if anything), else what the driver needs."""

    name: str
    what: str
    columns: dict[str, list[str]]  # logical column → the keys known so far (none for a new element)
    conditional: bool
    old: Element | None


def asked_on(screen: str, selectors: SelectorFile, needs: Mapping[str, Mapping[str, Need]],
             extra: Sequence[str] = ()) -> list[Asked]:
    """The elements of a screen in the order the recorder asks for them: the driver's needs, then what else the
    file has, then what else a script adds."""
    have = selectors.screens[screen].elements if screen in selectors.screens else {}
    wanted = needs.get(screen, {})
    asked = []
    for name in dict.fromkeys([*wanted, *have, *extra]):
        old, need = have.get(name), wanted.get(name)
        columns = dict(old.columns) if old is not None else {c: [] for c in (need.columns if need else ())}
        asked.append(Asked(name, (old.description if old else None) or (need.what if need else name), columns,
                           old.conditional if old is not None else bool(need and need.conditional), old))
    return asked


def weakened(old: Fingerprint, new: Fingerprint) -> list[str]:
    """The traits the old fingerprint had that the new one lacks or states differently (healing loses them)."""
    lost = [f"{key}={value!r}" for key, value in (("tag", old.tag), ("role", old.role), ("name", old.name),
                                                  ("label", old.label), ("near", old.near))
            if value is not None and getattr(new, key) != value]
    lost += [f"{a}={v!r}" for a, v in old.attributes.items() if new.attributes.get(a) != v]
    lost += [f"beside.{k}={v!r}" for k, v in old.beside.items() if new.beside.get(k) != v]
    return lost


@dataclass
class Recorder:
    driver: Driver
    picker: Picker
    script: RecordingScript | None
    interactive: bool
    clicks: list[dict[str, Any]] = field(default_factory=list)
    elements: dict[tuple[str, str], Element] = field(default_factory=dict)
    frames: dict[str, list[Strategy]] = field(default_factory=dict)
    # "screen/element" → the traits its re-recorded fingerprint lost; shown before anything is saved.
    weakened: dict[str, list[str]] = field(default_factory=dict)
    not_recorded: list[str] = field(default_factory=list)  # asked for and skipped ("screen/element")

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
        extra = list(self.script.screens.get(screen, {})) if self.script is not None else []
        for asked in asked_on(screen, self.driver.selectors, self.driver.needs, extra):
            name = asked.name
            step = self._scripted(screen, name)
            if self.script is not None and step is None:
                if asked.old is None:
                    self.not_recorded.append(f"{screen}/{name}")
                continue
            kind = "tabellen/listan" if asked.columns else "elementet"
            picked = await self.picker.pick(
                "records" if asked.columns else "element",
                f"{self.driver.portal}/{screen}: klicka på {kind} '{name}' ({asked.what})",
                (self._script_scope(step), step.click) if step else None, self.interactive)
            if picked is None:
                logger.info("record: {}/{} skipped{}", screen, name, ", kept as it is" if asked.old else "")
                if asked.old is None:
                    self.not_recorded.append(f"{screen}/{name}")
                continue
            await self._record_element(screen, asked, picked, step)
        await self.picker.disarm()

    async def _record_element(self, screen: str, asked: Asked, picked: Picked, step: ScriptClick | None) -> None:
        name, element = asked.name, asked.old
        scope: Scope = self.page
        frame_strategies: list[Strategy] | None = None
        if picked.frame != self.page.main_frame:
            frame_strategies = await self._frame_for(screen, picked.frame)
            scope = self.page.frame_locator(frame_strategies[0].css or "")
        tried: list[CandidateResult] = []
        stable = self.driver.selectors.stable_attributes
        for strategy in candidates(picked.description, stable) + (element.strategies if element else []):
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
        columns = dict(asked.columns)
        column_clicks = {}
        for column, keys in asked.columns.items():
            target = step.columns.get(column) if step else None
            if step is not None and target is None:
                continue
            picked_key = await self.picker.pick(
                "key", f"{self.driver.portal}/{screen}/{name}: klicka på rubriken eller ett värde för kolumnen "
                       f"'{column}'" + (f" (tidigare {', '.join(keys)})" if keys else ""),
                (self._script_scope(step), target) if step and target else None, self.interactive)
            key = picked_key.description.get("key") if picked_key else None
            if key:
                columns[column] = [key] + [k for k in keys if k != key]
                column_clicks[column] = key
        unread = [column for column, keys in columns.items() if not keys]
        if unread:
            raise RecordingError(f"{self.driver.portal}/{screen}/{name}: no header was clicked for the column(s) "
                                 f"{', '.join(unread)}; a table the robot cannot read by its headers is not saved")
        fingerprint = fingerprint_of(picked.description)
        outcome = step.outcome if step is not None and step.outcome is not None else (
            element.outcome if element else None)
        if element is not None:
            lost = weakened(element.fingerprint, fingerprint)
            if lost:
                self.weakened[f"{screen}/{name}"] = lost
            recorded = element.model_copy(update={"strategies": chosen, "fingerprint": fingerprint,
                                                  "columns": columns, "outcome": outcome})
        else:
            recorded = Element(strategies=chosen, fingerprint=fingerprint, columns=columns, outcome=outcome,
                               conditional=asked.conditional,
                               description=step.description if step is not None else None)
        self.elements[(screen, name)] = recorded
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
    """Walk the portal and record the wanted screens (all of them when none are named): those the driver needs
    and those the file has, so a file can be made from nothing and a screen added to one."""
    known = list(dict.fromkeys([*driver.needs, *driver.selectors.screens]))
    unknown = [s for s in screens if s not in known]
    if unknown:
        raise RecordingError(f"{driver.portal} has no screen {', '.join(unknown)} (the robot uses and "
                             f"selectors/{driver.portal}.yaml has: {', '.join(known)})")
    wanted = list(screens) or known
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
                try:
                    driver.selectors = apply(driver.selectors, recorder.elements, recorder.frames)
                except ValidationError as exc:
                    raise RecordingError(f"{driver.portal}/{screen}: what was recorded does not make a valid "
                                         f"screen: {exc.errors()[0]['msg']}") from None
            if not remaining:
                break
    finally:
        await walk.aclose()
    not_reached = [s for s in wanted if s in remaining and not _all_conditional(driver, s)]
    if not_reached:
        raise RecordingError(f"{driver.portal}: the walk did not reach {', '.join(not_reached)}")
    for screen in remaining:  # a screen only some outcomes show (the system message): nothing to click now
        recorder.not_recorded += [f"{screen}/{a.name}" for a in asked_on(screen, driver.selectors, driver.needs)
                                  if a.old is None]
    return recorder


def _all_conditional(driver: Driver, screen: str) -> bool:
    return all(a.conditional for a in asked_on(screen, driver.selectors, driver.needs))


def apply(selectors: SelectorFile, elements: Mapping[tuple[str, str], Element],
          frames: Mapping[str, list[Strategy]]) -> SelectorFile:
    """The selector file with these elements (and frames) recorded: replaced where it had them, added where not."""
    screens = dict(selectors.screens)
    for screen_name in dict.fromkeys([*(s for s, _ in elements), *frames]):
        screen = screens.get(screen_name)
        updated = dict(screen.elements) if screen is not None else {}
        updated.update({name: element for (s, name), element in elements.items() if s == screen_name})
        frame = frames.get(screen_name, screen.frame if screen is not None else None)
        screens[screen_name] = Screen(frame=frame, elements=updated)
    return selectors.model_copy(update={"screens": screens})


def finish(recorder: Recorder, path: Path, recordings_dir: Path, *, by: str, layout: str | None,
           confirm: Callable[[str], bool], mode: str) -> RecordingResult:
    """Write the recording, show the diff, and save the selector file if the admin says so (and it validates). A
    file that does not exist yet is made from what was recorded."""
    now = datetime.now().astimezone()
    portal = recorder.driver.portal
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    selectors = recorder.driver.selectors
    new = updated_text(old or new_file_text(portal, selectors.stable_attributes), recorder.elements,
                       recorder.frames, layout=layout or (None if old else selectors.layout),
                       recorded={"at": now.date().isoformat(), "by": by}) if recorder.elements else old
    if not new:
        raise RecordingError(f"{portal}: nothing was recorded, so there is no selector file to write")
    validate_text(new, path)
    recordings_dir.mkdir(parents=True, exist_ok=True)
    recording = recordings_dir / f"{portal}-{now.strftime('%Y%m%dT%H%M%S')}.json"
    result = RecordingResult(portal, path, old, new, recording,
                             changed=[f"{s}/{e}" for s, e in recorder.elements], weakened=dict(recorder.weakened),
                             not_recorded=list(recorder.not_recorded),
                             missing=[f"{s}/{e}" for s, e, need in missing(recorder.driver.needs, selectors)
                                      if need.required])
    warnings = "".join(f"! {line}\n" for line in result.warnings())
    if new != old and confirm(warnings + result.diff):
        save_atomically(path, new)
        result.saved = True
    recording.write_text(json.dumps({
        "portal": portal, "at": now.isoformat(timespec="seconds"), "by": by, "mode": mode, "layout": layout,
        "selector_file": str(path), "saved": result.saved, "changed": result.changed, "clicks": recorder.clicks,
        "weakened": result.weakened, "not_recorded": result.not_recorded, "missing": result.missing,
    }, ensure_ascii=False, indent=2), encoding="utf-8")
    return result
