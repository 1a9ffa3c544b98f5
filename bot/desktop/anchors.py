"""A desktop portal's anchors: per screen and element, a template image and where to click relative to it.

Data, like the web selectors: `selectors/<portal>/desktop.yaml`, the images beside it in `images/<screen>/`.
An element's image is a label, a button or a message as the client draws it; `click` is the point to act on,
from the image's top-left corner (the field right of its label, the button's middle). Nothing is a fixed screen
position: the client's window may be anywhere, and a new client version is handled by re-recording.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from ruamel.yaml import YAML

from bot.desktop import images
from bot.desktop.images import Pixels
from bot.errors import ConfigError
from bot.selectors.load import SelectorFileError
from bot.yamlload import load_yaml, validate

FILE_NAME = "desktop.yaml"


class Anchor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image: str = Field(min_length=1, pattern=r"^images/[A-Za-z0-9_/.-]+\.png$")
    click: tuple[int, int]
    # A field's own size, centred on `click`: an empty field is seen on the screen, without a round trip.
    field: tuple[int, int] | None = None


class Screen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    elements: dict[str, Anchor]


class Recorded(BaseModel):
    at: date
    by: str


class DesktopSelectors(BaseModel):
    model_config = ConfigDict(extra="forbid")

    portal: str
    channel: str = Field(pattern=r"^desktop$")
    layout: str = Field(pattern=r"^v\d+$")
    recorded: Recorded
    screens: dict[str, Screen]

    def anchor(self, screen: str, element: str) -> Anchor:
        try:
            return self.screens[screen].elements[element]
        except KeyError:
            raise KeyError(f"no anchor for {screen}/{element} in the desktop selectors") from None


@cache
def _pixels(path: Path, mtime: float) -> Pixels:
    return images.load(path)


def anchor_pixels(folder: Path, anchor: Anchor) -> Pixels:
    path = folder / anchor.image
    try:
        return _pixels(path, path.stat().st_mtime)
    except OSError as exc:
        raise SelectorFileError(f"{path}: the anchor image cannot be read ({exc})") from None


def selectors_folder(selectors_dir: Path, portal: str) -> Path:
    return selectors_dir / portal


def load_desktop(folder: Path) -> DesktopSelectors:
    path = folder / FILE_NAME
    try:
        selectors = validate(load_yaml(path), DesktopSelectors)
    except ConfigError as exc:
        raise SelectorFileError(exc.problems) from None
    missing = [f"{s}/{e}: {a.image}" for s, screen in selectors.screens.items()
               for e, a in screen.elements.items() if not (folder / a.image).is_file()]
    if missing:
        raise SelectorFileError(f"{path}: anchor images missing: {'; '.join(missing)}")
    return selectors


def write_desktop(selectors: DesktopSelectors, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    yaml = YAML()
    yaml.default_flow_style = None
    data = selectors.model_dump(mode="json")
    for screen in data["screens"].values():
        for anchor in screen["elements"].values():
            anchor["click"] = list(anchor["click"])
            if anchor["field"] is None:
                del anchor["field"]
            else:
                anchor["field"] = list(anchor["field"])
    with path.open("w", encoding="utf-8") as out:
        out.write(f"# Anchors for the {selectors.portal} desktop client (layout {selectors.layout}). Data, not code:\n"
                  f"# re-record with `casebot record {selectors.portal} --channel desktop`.\n")
        yaml.dump(data, out)
    return path
