"""Writing re-recorded elements back into a selector file, keeping the admins' comments and layout.

The file is edited in place with a round-trip YAML parser: only the re-recorded elements, the frames that
changed and the `layout`/`recorded` metadata are replaced. The result is validated before anyone sees the diff.
"""

from __future__ import annotations

import difflib
import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from bot.selectors.load import load_selector_file
from bot.selectors.model import Element, Fingerprint, SelectorFile, Strategy

ElementKey = tuple[str, str]  # (screen, element)


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 200
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


# Values written bare, like the hand-written files do; every other string is double-quoted, as texts and CSS are.
BARE_KEYS = frozenset({"tag", "role"})


def _scalar(key: str, value: Any) -> Any:
    return DoubleQuotedScalarString(value) if isinstance(value, str) and key not in BARE_KEYS else value


def _flow_map(data: Mapping[str, Any]) -> CommentedMap:
    out = CommentedMap()
    for key, value in data.items():
        if isinstance(value, Mapping):
            out[key] = _flow_map(value)
        elif isinstance(value, list):
            out[key] = _flow_seq(value)
        else:
            out[key] = _scalar(key, value)
    out.fa.set_flow_style()
    return out


def _flow_seq(items: list[Any]) -> CommentedSeq:
    out = CommentedSeq([_scalar("", item) for item in items])
    out.fa.set_flow_style()
    return out


def strategy_data(strategy: Strategy) -> dict[str, Any]:
    return strategy.model_dump(mode="json", exclude_none=True, exclude_defaults=True) | (
        {} if strategy.exact else {"exact": False})


def fingerprint_data(fingerprint: Fingerprint) -> dict[str, Any]:
    return {k: v for k, v in fingerprint.model_dump().items() if v not in (None, {}, [])}


def _strategies_node(strategies: list[Strategy]) -> CommentedSeq:
    # Block list of flow maps: one strategy per line, as the hand-written files have them.
    return CommentedSeq([_flow_map(strategy_data(s)) for s in strategies])


def new_file_text(portal: str, stable_attributes: list[str] | None = None) -> str:
    """The start of a selector file made by the recorder from nothing (its screens are added as recorded)."""
    lines = [f"# Selectors for {portal}, made by `casebot record {portal}` from an admin's clicks. Data, not code:",
             f"# re-record with `casebot record {portal} <screen>`. Strategies are tried in order; a later one",
             "# winning is drift.", f"portal: {portal}"]
    if stable_attributes:
        lines.append(f"stable_attributes: [{', '.join(stable_attributes)}]")
    return "\n".join(lines) + "\nscreens: {}\n"


def updated_text(text: str, elements: Mapping[ElementKey, Element], frames: Mapping[str, list[Strategy]], *,
                 layout: str | None, recorded: Mapping[str, str]) -> str:
    """The selector file's new text with these elements (and screen frames) replaced, or added where the file has
    no such screen or element. What did not change keeps its lines as they were (its comments and style too)."""
    yaml = _yaml()
    data = yaml.load(text)
    if not data.get("screens"):
        data["screens"] = CommentedMap()
    screens = data["screens"]
    for (screen, name), element in elements.items():
        if screen not in screens:
            screens[screen] = CommentedMap([("elements", CommentedMap())])
        nodes = screens[screen]["elements"]
        old = _element_of(nodes.get(name))
        if name not in nodes:
            nodes[name] = CommentedMap()
        node = nodes[name]
        if old is None or old.strategies != element.strategies:
            node["strategies"] = _strategies_node(element.strategies)
        if old is None or old.fingerprint != element.fingerprint:
            node["fingerprint"] = _flow_map(fingerprint_data(element.fingerprint))
        if element.columns and (old is None or old.columns != element.columns):
            columns = CommentedMap()
            for column, keys in element.columns.items():
                columns[column] = _flow_seq(list(keys))
            node["columns"] = columns
        if element.outcome is not None and (old is None or old.outcome != element.outcome):
            node["outcome"] = _flow_map(element.outcome.model_dump(exclude_defaults=True))
        for key in ("description", "conditional"):
            value = getattr(element, key)
            if value and (old is None or getattr(old, key) != value):
                node[key] = _scalar(key, value)
    for screen, frame in frames.items():
        data["screens"][screen]["frame"] = _flow_seq([_flow_map(strategy_data(s)) for s in frame])
    # A new file gets its metadata before its screens, where the hand-written files have it.
    before_screens = list(data).index("screens")
    if layout is not None:
        if "layout" in data:
            data["layout"] = layout
        else:
            data.insert(before_screens, "layout", layout)
            before_screens += 1
    stamp = _flow_map({"at": str(recorded["at"]), "by": recorded["by"]})
    if "recorded" in data:
        data["recorded"] = stamp
    else:
        data.insert(before_screens, "recorded", stamp)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _element_of(node: Any) -> Element | None:
    """The element a node of the file holds now (None for no node, or one that does not validate)."""
    if node is None:
        return None
    try:
        return Element.model_validate(_plain(node))
    except ValueError:
        return None


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def validate_text(text: str, path: Path) -> SelectorFile:
    """Parse and validate new file text exactly as the robot will load it (errors name the file and line)."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / path.name
        probe.write_text(text, encoding="utf-8")
        return load_selector_file(probe)


def unified_diff(old: str, new: str, path: Path) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"a/{path.name}", tofile=f"b/{path.name}"))


def save_atomically(path: Path, text: str) -> None:
    """Write beside the file and rename over it: a crash mid-write never leaves half a selector file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
