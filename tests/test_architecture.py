"""The shape of the code, checked: imports point down the layers, no module imports itself round a cycle, and the
robot and the sandbox meet only over HTTP. Read from the source with `ast`, so a new import that breaks the shape
fails here, naming the file, the line and the two parts."""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. A part may import its own modules and any part on a lower layer, never one above.
LAYERS: list[tuple[str, ...]] = [
    ("bot.errors", "bot.paths", "bot.masking", "bot.facts"),
    ("bot.yamlload", "bot.chaos", "bot.log"),
    ("bot.calc",),  # pure: the calculation
    ("bot.triage", "bot.note"),  # pure: which cases a human must see; the decision and the note
    ("bot.config", "bot.credentials", "bot.selectors", "bot.store", "bot.browser", "bot.tls",
     "bot.net",  # the outbound proxy, for the browser and the HTTP clients
     "bot.clientcert",  # the robot's client certificates, for the browser and the preflight's handshake
     "bot.certinfo"),  # a certificate's names and dates, for both
    ("bot.drivers",),
    ("bot.desktop",),  # the pixel channel, a case-system channel beside the web driver
    ("bot.upkeep", "bot.report", "bot.insights"),  # the screen check and the recorder; the morning report and
    # the automation rate it carries
    ("bot.run",),  # the night
    ("bot.alerts", "bot.status"),
    ("bot.schedule",),
    ("bot.console",),  # the operations console: reads the store, acts through the scheduler and the CLI
    ("bot.dev", "bot.service"),  # sandbox launcher, demo, bench: around the robot, never in it; its systemd units
    ("bot.cli", "bot.__main__"),
]


@dataclass(frozen=True)
class Import:
    module: str
    target: str
    file: Path
    line: int


def _modules(package: str) -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(modules: dict[str, Path], prefixes: tuple[str, ...]) -> list[Import]:
    """Every import of a module under `prefixes`, TYPE_CHECKING and function-local ones included; `from a import b`
    counts as importing `a.b` where that is a module."""
    known = set(modules)
    found = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                           for a in node.names]
            found += [Import(name, t, path, node.lineno) for t in targets if t.startswith(prefixes)]
    return found


def _part(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _layer(part: str) -> int:
    for number, parts in enumerate(LAYERS):
        if part in parts:
            return number
    raise AssertionError(f"{part} is in no layer: add it to LAYERS in {Path(__file__).name}")


def test_every_part_of_the_robot_has_a_layer() -> None:
    for module in _modules("bot"):
        if module != "bot":
            _layer(_part(module))


def test_imports_only_point_down() -> None:
    upward = [f"{i.file.relative_to(ROOT)}:{i.line}: {_part(i.module)} (layer {_layer(_part(i.module))}) imports "
              f"{i.target} (layer {_layer(_part(i.target))})"
              for i in _imports(_modules("bot"), ("bot.",))
              if _part(i.target) != "bot" and _layer(_part(i.target)) > _layer(_part(i.module))]
    assert not upward, "imports pointing up:\n" + "\n".join(upward)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_round_a_cycle() -> None:
    for package in ("bot", "portals"):
        modules = _modules(package)
        edges: dict[str, set[str]] = defaultdict(set)
        for module in modules:
            edges[module]
        for i in _imports(modules, (f"{package}.",)):
            if i.target in modules and i.target != i.module:
                edges[i.module].add(i.target)
        assert _cycles(edges) == [], f"import cycles in {package}/"


def test_the_robot_and_the_sandbox_meet_only_over_http() -> None:
    crossing = [f"{i.file.relative_to(ROOT)}:{i.line}: imports {i.target}"
                for package, other in (("bot", "portals"), ("portals", "bot"))
                for i in _imports(_modules(package), (f"{other}.", other))
                if i.target == other or i.target.startswith(f"{other}.")]
    assert not crossing, "\n".join(crossing)


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The check above is only worth something if it can fail: a calc module importing the run is caught."""
    fake = {"bot.calc.x": tmp_path / "x.py", "bot.run.night": tmp_path / "night.py"}
    fake["bot.calc.x"].write_text("from bot.run.night import Night\n")
    fake["bot.run.night"].write_text("import bot.calc.x\n")
    found = _imports(fake, ("bot.",))
    assert [(i.module, i.target) for i in found] == [("bot.calc.x", "bot.run.night"), ("bot.run.night", "bot.calc.x")]
    assert _layer(_part("bot.run.night")) > _layer(_part("bot.calc.x"))
    assert _cycles({"bot.calc.x": {"bot.run.night"}, "bot.run.night": {"bot.calc.x"}}) == [
        ["bot.calc.x", "bot.run.night"]]
