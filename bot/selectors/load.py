"""Loading `selectors/<portal>.yaml` with errors an admin can act on: the file, the line, the problem.

The same YAML loader as the robot's config (`bot.yamlload`): duplicate keys, bad YAML and invalid values are all
reported as `file:line: dotted.key: problem`, every problem at once.
"""

from __future__ import annotations

from pathlib import Path

from bot.errors import ConfigError
from bot.selectors.model import SelectorFile
from bot.yamlload import load_yaml, validate


class SelectorFileError(ConfigError):
    """A selector file is invalid (code CONFIG_INVALID, with its runbook)."""


def load_selector_file(path: Path) -> SelectorFile:
    try:
        doc = load_yaml(path)
        selectors = validate(doc, SelectorFile)
    except ConfigError as exc:
        raise SelectorFileError(exc.problems) from None
    if selectors.portal != path.stem:
        raise SelectorFileError(f"{doc.where(('portal',))}: portal '{selectors.portal}' does not match the file "
                                f"name '{path.stem}'")
    return selectors


def load_all(folder: Path) -> dict[str, SelectorFile]:
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise SelectorFileError(f"{folder}: no selector files (*.yaml)")
    return {f.stem: load_selector_file(f) for f in files}
