"""Load a YAML data file into a pydantic model; a malformed file fails with `file:line: field: problem`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.calc.errors import DataFileError

M = TypeVar("M", bound=BaseModel)


def _line_index(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Every key path in the document → its 1-based line."""
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines[child] = key.start_mark.line + 1
            lines.update({k: v for k, v in _line_index(value, child).items() if k != child})
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_line_index(item, (*path, i)))
    return lines


def _closest_line(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    for end in range(len(loc), -1, -1):
        key = tuple(p if isinstance(p, int) and not isinstance(p, bool) else str(p) for p in loc[:end])
        if key in lines:
            return lines[key]
        # A dict keyed by int (e.g. common costs by size) has int locations but string keys in the index.
        key = tuple(str(p) for p in loc[:end])
        if key in lines:
            return lines[key]
    return 1


def read_model(path: Path, model: type[M], error: type[DataFileError]) -> M:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise error(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if node is None or not isinstance(data, dict):
        raise error(f"{path}:1: expected a mapping at the top")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = _line_index(node)
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            dotted = ".".join(str(p) for p in loc) or "(top)"
            problems.append(f"{path}:{_closest_line(lines, loc)}: {dotted}: {err['msg']}")
        raise error("\n".join(problems)) from exc
