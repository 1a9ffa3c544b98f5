"""Loading `selectors/<portal>.yaml` with errors an admin can act on: the file, the line, the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.selectors.model import SelectorFile


class SelectorFileError(Exception):
    pass


def _line_index(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map every key path in the YAML document to its 1-based line number."""
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            lines[child] = key.start_mark.line + 1
            lines.update({k: v for k, v in _line_index(value, child).items() if k != child})
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_line_index(item, (*path, i)))
    return lines


def _closest_line(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    for end in range(len(loc), -1, -1):
        key = tuple(str(p) if not isinstance(p, int) else p for p in loc[:end])
        if key in lines:
            return lines[key]
    return 1


def load_selector_file(path: Path) -> SelectorFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SelectorFileError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise SelectorFileError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if node is None or not isinstance(data, dict):
        raise SelectorFileError(f"{path}:1: expected a mapping with 'portal' and 'screens'")
    try:
        selectors = SelectorFile.model_validate(data)
    except ValidationError as exc:
        lines = _line_index(node)
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            dotted = ".".join(str(p) for p in loc) or "(top)"
            problems.append(f"{path}:{_closest_line(lines, loc)}: {dotted}: {err['msg']}")
        raise SelectorFileError("\n".join(problems)) from exc
    if selectors.portal != path.stem:
        raise SelectorFileError(f"{path}:{_line_index(node).get(('portal',), 1)}: portal '{selectors.portal}' "
                                f"does not match the file name '{path.stem}'")
    return selectors


def load_all(folder: Path) -> dict[str, SelectorFile]:
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise SelectorFileError(f"{folder}: no selector files (*.yaml)")
    return {f.stem: load_selector_file(f) for f in files}
