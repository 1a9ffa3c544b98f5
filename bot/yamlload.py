"""YAML files that fail with the file, the line and the problem: `config.yaml:12: portals.casesystem.url: ...`.

The document is composed once into nodes (which carry their line marks) and constructed from those same nodes,
so the line index always matches the data. Duplicate keys, which plain YAML silently resolves to the last
one, are refused: in a config file they are almost always a mistake.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]

# Keys whose value would be a secret typed into the file. `password_env` (last word "env") names a variable,
# so it is fine; `password`, `db_password`, `api-token`, `lösenord` are not.
SECRET_WORDS = frozenset({"password", "passwd", "pwd", "lösenord", "losenord", "secret", "token", "apikey"})
_URL_PASSWORD_RE = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@", re.IGNORECASE)


@dataclass(frozen=True)
class YamlDoc:
    path: Path
    data: Any
    node: yaml.Node | None
    lines: dict[Loc, int]

    def line_of(self, loc: tuple[Any, ...]) -> int:
        """The line of the deepest part of `loc` that exists in the file (a missing key: its parent's line)."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
            # A mapping keyed by numbers (common costs by household size) is located by int, indexed by text.
            as_text = tuple(str(p) if isinstance(p, int) and not isinstance(p, bool) else p for p in loc[:end])
            if as_text in self.lines:
                return self.lines[as_text]
        return 1

    def where(self, loc: tuple[Any, ...]) -> str:
        return f"{self.path}:{self.line_of(loc)}"


def _index(node: yaml.Node, path: Loc, lines: dict[Loc, int], problems: list[str], file: Path) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        first_seen: dict[Any, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.value == "<<":  # merge key: its own keys are indexed where they were written
                continue
            if key.value in first_seen:
                dotted = ".".join(str(p) for p in (*path, key.value))
                problems.append(f"{file}:{line}: {dotted}: duplicate key (first given on line "
                                f"{first_seen[key.value]})")
                continue
            first_seen[key.value] = line
            child = (*path, key.value)
            lines[child] = line
            _index(value, child, lines, problems, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines, problems, file)


def parse_yaml(text: str, path: Path) -> YamlDoc:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: not valid YAML: {problem}") from exc
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    problems: list[str] = []
    if node is not None:
        _index(node, (), lines, problems, path)
    if problems:
        raise ConfigError(problems)
    return YamlDoc(path=path, data=data, node=node, lines=lines)


def load_yaml(path: Path) -> YamlDoc:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    return parse_yaml(text, path)


def _walk(data: Any, path: Loc = ()) -> Iterator[tuple[Loc, Any]]:
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _walk(value, (*path, str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _walk(value, (*path, i))


def _is_secret_key(key: str) -> bool:
    words = [w for w in re.split(r"[_\-\s.]+", key.lower()) if w]
    return bool(words) and words[-1] in SECRET_WORDS


def secret_problems(doc: YamlDoc) -> list[str]:
    """Literal secrets in the file: a secret-named key with a value, or a URL with a password in it.
    The value itself is never repeated in the message."""
    problems = []
    for loc, value in _walk(doc.data):
        if value in (None, "") or not loc:
            continue
        key = loc[-1]
        dotted = ".".join(str(p) for p in loc)
        if isinstance(key, str) and _is_secret_key(key) and not isinstance(value, dict | list):
            problems.append(f"{doc.where(loc)}: {dotted}: a literal secret is not allowed in a config file; "
                            "give the name of an environment variable (password_env) or use the OS keyring")
        elif isinstance(value, str) and _URL_PASSWORD_RE.match(value):
            problems.append(f"{doc.where(loc)}: {dotted}: the URL contains a password; remove it and give the "
                            "password through the environment or the OS keyring")
    return problems


def _message(err: Any) -> str:
    kind, msg = err["type"], str(err["msg"])
    if kind == "extra_forbidden":
        return "unknown key (misspelt?)"
    if kind == "missing":
        return "missing (required)"
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix):]
    return msg


def validation_problems(doc: YamlDoc, exc: ValidationError) -> list[str]:
    found = []
    for err in exc.errors(include_url=False, include_input=False):
        # Pydantic adds non-key parts for some validators ("function-after[...]"); they name no place in the file.
        loc = tuple(p for p in err["loc"] if isinstance(p, int) or "[" not in str(p))
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        found.append((doc.line_of(loc), f"{doc.path}:{doc.line_of(loc)}: {dotted}: {_message(err)}"))
    return [text for _, text in sorted(found, key=lambda f: f[0])]


def validate(doc: YamlDoc, model: type[M], context: dict[str, Any] | None = None) -> M:
    data = {} if doc.data is None else doc.data
    if not isinstance(data, dict):
        raise ConfigError(f"{doc.path}:1: expected a mapping of keys to values at the top level")
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise ConfigError(validation_problems(doc, exc)) from None


def load_model(path: Path, model: type[M], context: dict[str, Any] | None = None, *,
               error: Callable[[str], Exception] | None = None) -> M:
    """Read, parse and validate a YAML file into `model`; any problem raises ConfigError with file:line, or
    `error` (one problem a line) where the caller has an error of its own (the calculation's data files)."""
    try:
        return validate(load_yaml(path), model, context)
    except ConfigError as exc:
        if error is None:
            raise
        raise error("\n".join(exc.problems)) from None
