"""The shape of a selector file. Data, not code: admins edit and re-record these without Python.

```yaml
portal: casesystem
layout: v1                       # the portal layout these were recorded against
recorded: {at: 2026-11-24, by: admin}
screens:
  calc_form:
    frame: [{css: "iframe[name=innehall]"}]   # optional: the screen lives inside this frame
    elements:
      boende:
        strategies:              # tried in order; one counts only if it matches exactly one visible element
          - {label: "Hyra/boendekostnad"}
          - {css: "input[name=boende]"}
        fingerprint: {tag: input, name: boende, label: "Hyra/boendekostnad"}
```
"""

from __future__ import annotations

from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

StrategyKind = Literal["role", "label", "testid", "text", "placeholder", "anchor", "css"]
STRATEGY_KINDS: tuple[str, ...] = ("role", "label", "testid", "text", "placeholder", "anchor", "css")
# What an anchor points at unless told otherwise: a form field.
FIELD_TAGS: tuple[str, ...] = ("input", "select", "textarea")


class Anchor(BaseModel):
    """An element found by the visible text next to it, as older systems lay out their screens: a label in the
    neighbouring cell or a preceding sibling (`left`), a label in the cell above (`above`), a table's column
    header `text` and a row whose first cell reads `row` (`column`), or the table itself by a text in its header
    row (`header`: a table without <thead> or <th>). The relation is stated, never guessed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1)
    relation: Literal["left", "above", "column", "header"] = "left"
    row: str | None = None
    target: tuple[str, ...] = Field(FIELD_TAGS, min_length=1)  # tag names

    @model_validator(mode="after")
    def _row_with_column(self) -> Anchor:
        if (self.relation == "column") != (self.row is not None):
            raise ValueError("'row' goes with relation 'column', and relation 'column' needs a 'row'")
        bad = [tag for tag in self.target if not tag.isalnum()]
        if bad:
            raise ValueError(f"target: tag names only, got {bad}")
        return self

    def describe(self) -> str:
        if self.relation == "header":
            return f"anchor table with column {self.text!r}"
        where = f"column {self.text!r}, row {self.row!r}" if self.relation == "column" else \
            f"{self.relation} of {self.text!r}"
        return f"anchor {where}"


class Strategy(BaseModel):
    """Exactly one way of finding an element. `role` takes an optional accessible `name`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str | None = None
    name: str | None = None
    label: str | None = None
    testid: str | None = None
    text: str | None = None
    placeholder: str | None = None
    anchor: Anchor | None = None
    css: str | None = None
    exact: bool = True

    @model_validator(mode="after")
    def _one_kind(self) -> Strategy:
        kinds = [k for k in STRATEGY_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a strategy needs exactly one of {', '.join(STRATEGY_KINDS)}; got {kinds or 'none'}")
        if self.name is not None and self.role is None:
            raise ValueError("'name' only goes with 'role'")
        return self

    @property
    def kind(self) -> StrategyKind:
        return next(cast(StrategyKind, k) for k in STRATEGY_KINDS if getattr(self, k) is not None)

    def describe(self) -> str:
        if self.role is not None:
            return f"role={self.role}" + (f" name={self.name!r}" if self.name else "")
        if self.anchor is not None:
            return self.anchor.describe()
        return f"{self.kind}={getattr(self, self.kind)!r}"


class Fingerprint(BaseModel):
    """What the element looked like when it was recorded. When every strategy fails, the element is looked for
    by these traits (a stable attribute or its name/label must still match), and the find is reported as drift.
    """

    model_config = ConfigDict(extra="forbid")

    tag: str | None = None
    role: str | None = None
    name: str | None = None        # accessible name (a button's text, a field's label, a table's caption)
    label: str | None = None       # a form field's <label>, or the row/term label of a value cell (th/dt)
    near: str | None = None        # the nearest heading or legend before it
    attributes: dict[str, str] = Field(default_factory=dict)  # stable ones only: name, type, data-testid, href
    headers: list[str] = Field(default_factory=list)          # a table's column headers when recorded
    # On a screen without labels, the texts beside it: left, above, column (header), row (the row's first cell).
    beside: dict[str, str] = Field(default_factory=dict)


class Outcome(BaseModel):
    """What shows that the system has answered a control that writes (a save, a park): the page it leads to
    (`navigation`), or, on a screen that saves in place, an element on the same screen whose text `changes` or
    that `shows`. `ok_text`: what that element says when the write succeeded; any other text is a refusal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    navigation: bool = False
    changes: str | None = None
    shows: str | None = None
    ok_text: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Outcome:
        kinds = [k for k in ("navigation", "changes", "shows") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(f"an outcome is exactly one of navigation: true, changes: ELEMENT, shows: ELEMENT; "
                             f"got {kinds or 'none'}")
        if self.navigation and self.ok_text is not None:
            raise ValueError("'ok_text' goes with 'changes' or 'shows' (the element whose text it is)")
        return self

    @property
    def element(self) -> str | None:
        return self.changes or self.shows


NAVIGATION = Outcome(navigation=True)


class Element(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategies: list[Strategy] = Field(min_length=1)
    fingerprint: Fingerprint = Field(default_factory=Fingerprint)
    description: str | None = None
    # Shown only in some outcomes (an error, an empty result, a spinner): the preflight check reports it as
    # "not shown" instead of broken when the reference case does not bring it up.
    conditional: bool = False
    # For tables and lists of records: logical column → the keys it may carry (a column header, a row header,
    # a <dt> text, or "(rubrik)" for a card's heading), so a renamed or moved column is data to edit.
    columns: dict[str, list[str]] = Field(default_factory=dict)
    # For a control that writes: how the robot knows the system answered (default: the page it leads to).
    outcome: Outcome | None = None


class Screen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    frame: list[Strategy] | None = None
    elements: dict[str, Element] = Field(min_length=1)

    @model_validator(mode="after")
    def _outcomes_on_this_screen(self) -> Screen:
        for name, element in self.elements.items():
            target = element.outcome.element if element.outcome else None
            if target is not None and target not in self.elements:
                raise ValueError(f"{name}: its outcome names '{target}', which is not an element of this screen")
        return self


class Recorded(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: str
    by: str


class SelectorFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    portal: str
    layout: str = "v1"
    recorded: Recorded | None = None
    # The portal's own hooks that stay put across versions (e.g. data-field-id): used by the recorder's proposals
    # and kept in fingerprints, beside the generic name, type, data-testid and placeholder.
    stable_attributes: list[str] = Field(default_factory=list)
    screens: dict[str, Screen] = Field(min_length=1)

    @model_validator(mode="after")
    def _attribute_names(self) -> SelectorFile:
        bad = [a for a in self.stable_attributes if not a or not all(c.isalnum() or c in "-_:" for c in a)]
        if bad:
            raise ValueError(f"stable_attributes: not attribute names: {bad}")
        return self

    def element(self, screen: str, name: str) -> Element:
        try:
            return self.screens[screen].elements[name]
        except KeyError:
            raise KeyError(f"selectors/{self.portal}.yaml has no element '{name}' on screen '{screen}'") from None
