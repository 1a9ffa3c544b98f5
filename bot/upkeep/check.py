"""The preflight drift check: every element of every screen, resolved on the live portal, read-only.

Statuses:
- ok: the first (recorded) strategy found it;
- healed: a fallback strategy or the fingerprint found it (the run works, but the selector file is out of date);
- broken: nothing found it, or a table/list no longer shows one of its columns: the run must not start;
- not shown: an element that only appears in some outcomes (an error, an empty result) is not on screen now;
- not checked: the walk never reached its screen (no reference configured, or an earlier step failed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bot.drivers.needs import missing
from bot.errors import CasebotError
from bot.selectors.page_js import RECORDS_JS
from bot.selectors.resolve import ElementNotFound, column_keys, resolve

if TYPE_CHECKING:
    from bot.drivers.base import Driver, Reference

Status = Literal["ok", "healed", "broken", "not shown", "not checked"]
STATUSES: tuple[Status, ...] = ("ok", "healed", "broken", "not shown", "not checked")
# Once the first element of a screen has been found (or waited for), the page has rendered: the others are
# there at once or not at all, so a changed screen costs one full timeout, not one per element.
AFTER_FIRST_S = 1.0


@dataclass(frozen=True)
class ElementCheck:
    portal: str
    screen: str
    element: str  # "name", or "name.columns.column" for a table's column
    status: Status
    strategy: str = ""  # what found it, or what was tried
    detail: str = ""

    @property
    def where(self) -> str:
        return f"{self.portal}/{self.screen}/{self.element}"


@dataclass
class PortalCheck:
    portal: str
    elements: list[ElementCheck] = field(default_factory=list)
    error: CasebotError | None = None  # the walk stopped early (portal down, login refused, a broken step)

    def having(self, status: Status) -> list[ElementCheck]:
        return [c for c in self.elements if c.status == status]

    @property
    def failed(self) -> bool:
        return bool(self.having("broken")) or self.error is not None


async def check_screen(driver: Driver, screen: str) -> list[ElementCheck]:
    """Resolve every element of the screen now showing; required elements first, then the conditional ones."""
    spec = driver.selectors.screens.get(screen)
    if spec is None:  # a screen the file does not have: its elements are reported as missing by check_portal
        return []
    scope = driver.scope_for(screen)
    checks: list[ElementCheck] = []
    waited = False
    for name, element in sorted(spec.elements.items(), key=lambda item: item[1].conditional):
        timeout = 0.0 if element.conditional else (AFTER_FIRST_S if waited else driver.timeout_s)
        waited = waited or not element.conditional

        def check(status: Status, strategy: str = "", detail: str = "", sub: str = "", _name: str = name
                  ) -> ElementCheck:
            return ElementCheck(driver.portal, screen, _name + sub, status, strategy, detail)

        try:
            found = await resolve(scope, screen, name, element, timeout_s=timeout,
                                  fingerprint=not element.conditional)
        except ElementNotFound as exc:
            checks.append(check("not shown" if element.conditional else "broken", detail="; ".join(exc.tried)))
            continue
        checks.append(check("healed" if found.drifted else "ok", found.describe()))
        if element.columns:
            shown = await found.locator.evaluate(RECORDS_JS)
            keys, missing = column_keys(element, shown["keys"])
            for column, wanted in element.columns.items():
                sub = f".columns.{column}"
                if not shown["keys"]:
                    checks.append(check("not shown", detail="no records to read", sub=sub))
                elif column in missing:
                    need = driver.needs.get(screen, {}).get(name)
                    status_if_missing: Status = ("not shown" if need is not None and column in need.optional_columns
                                                 else "broken")
                    checks.append(check(status_if_missing, detail=f"none of {wanted} among {shown['keys']}", sub=sub))
                else:
                    status: Status = "ok" if keys[column] == wanted[0] else "healed"
                    checks.append(check(status, f"column {keys[column]!r}", sub=sub))
    return checks


async def check_portal(driver: Driver, reference: Reference) -> PortalCheck:
    """Walk the portal's screens read-only and check each; screens the walk did not reach are listed too."""
    result = PortalCheck(driver.portal)
    visited: set[str] = set()
    try:
        async for screen in driver.walk(reference):
            visited.add(screen)
            result.elements.extend(await check_screen(driver, screen))
    except CasebotError as exc:
        result.error = exc
    for screen, name, need in missing(driver.needs, driver.selectors):
        # What the robot's code uses and the file lacks: the night would stop at it (required), or do without.
        status: Status = "broken" if need.required else "not shown"
        result.elements.append(ElementCheck(driver.portal, screen, name, status, detail=(
            f"not in selectors/{driver.portal}.yaml ({need.what}): record it with "
            f"casebot record {driver.portal} {screen}")))
    for screen, spec in driver.selectors.screens.items():
        if screen in visited:
            continue
        why = f"stopped early: {result.error}" if result.error else "the walk does not reach this screen"
        if screen != "login" and not reference.case_id and driver.portal == "casesystem":
            why = "no reference case configured (preflight.reference_case)"
        for name, element in spec.elements.items():
            status = "not shown" if element.conditional and result.error is None else "not checked"
            result.elements.append(ElementCheck(driver.portal, screen, name, status, detail=why))
    return result


def format_checks(results: Iterable[PortalCheck], *, all_rows: bool = True) -> str:
    """The table `casebot check-selectors` prints, then one line per portal that could not be walked."""
    rows = [("PORTAL", "SCREEN", "ELEMENT", "STATUS", "FOUND BY / DETAIL")]
    errors: list[str] = []
    counts = dict.fromkeys(STATUSES, 0)
    for result in results:
        for c in result.elements:
            counts[c.status] += 1
            if all_rows or c.status in ("healed", "broken"):
                rows.append((c.portal, c.screen, c.element, c.status, c.strategy or c.detail))
        if result.error is not None:
            errors.append(f"{result.portal}: could not walk every screen: {result.error} "
                          f"(runbook {result.error.runbook})")
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r[:4])) + "  " + _short(r[4]) for r in rows]
    lines.append("")
    lines.append(", ".join(f"{n} {status}" for status, n in counts.items()))
    return "\n".join(lines + errors)


def _short(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
