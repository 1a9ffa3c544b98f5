"""The robot's hands and eyes on an X display: pyautogui for the mouse, keyboard and screenshots, xclip for the
clipboard. Imported only when the desktop channel is used (pyautogui needs a display to import)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from PIL import ImageGrab

from bot.desktop.images import Pixels


class DisplayUnavailable(RuntimeError):
    pass


class Display:
    def __init__(self, display: str | None = None, pause_s: float = 0.005) -> None:
        if display:
            os.environ["DISPLAY"] = display
        if not os.environ.get("DISPLAY"):
            raise DisplayUnavailable("no X display (DISPLAY is not set): the desktop channel needs the client's screen")
        if shutil.which("xclip") is None:
            raise DisplayUnavailable("xclip is missing (apt-get install xclip): read-back goes through the clipboard")
        if not os.environ.get("XAUTHORITY") and not (Path.home() / ".Xauthority").exists():
            # python-xlib insists on an authority file; a display without access control needs an empty one.
            empty = Path(tempfile.mkdtemp(prefix="casebot-x-")) / "Xauthority"
            empty.touch(mode=0o600)
            os.environ["XAUTHORITY"] = str(empty)
        # python-xlib prints a warning on stdout for a display without access control; the log is ours.
        with contextlib.redirect_stdout(io.StringIO()):
            import pyautogui
            from pyautogui import _pyautogui_x11 as x11
            from Xlib.display import Display as XDisplay

            # pyautogui connects once, at import, to the display of that moment; this Display's may be another one
            # (a restarted session, or several virtual screens one after the other in tests).
            x11._display = XDisplay(os.environ["DISPLAY"])
        pyautogui.FAILSAFE = False  # a robot's pointer in a corner is not a human asking it to stop
        pyautogui.PAUSE = pause_s
        self.gui: Any = pyautogui

    def grab(self) -> Pixels:
        # Pillow reads the X screen itself (XCB): no screenshot program, a few milliseconds a shot.
        return np.asarray(ImageGrab.grab(xdisplay=os.environ["DISPLAY"]).convert("RGB"), dtype=np.uint8)

    def position(self) -> tuple[int, int]:
        x, y = self.gui.position()
        return int(x), int(y)

    def move(self, x: int, y: int) -> None:
        self.gui.moveTo(x, y)

    def click(self, x: int, y: int) -> None:
        self.gui.click(x, y)
        self.rest()

    def rest(self) -> None:
        """The pointer off to the screen's corner: a button under it is drawn lit, and would not look as recorded."""
        width, height = self.gui.size()
        self.gui.moveTo(width - 1, height - 1)

    def keys(self, *names: str) -> None:
        self.gui.hotkey(*names)

    def press(self, name: str) -> None:
        self.gui.press(name)

    def type(self, text: str) -> None:
        self.gui.write(text)

    def set_clipboard(self, text: str) -> None:
        # xclip stays in the background to serve the selection until someone else (the client's copy) takes it.
        subprocess.run(["xclip", "-selection", "clipboard", "-i"], input=text.encode(), check=True, timeout=5)

    def clipboard(self) -> str:
        out = subprocess.run(["xclip", "-selection", "clipboard", "-o"], capture_output=True, timeout=5)
        return out.stdout.decode("utf-8", errors="replace") if out.returncode == 0 else ""

    def copy_after(self, keys: tuple[str, ...], timeout_s: float = 2.0) -> str | None:
        """Press `keys` (the client's copy) and return what it put on the clipboard; None if nothing came. A marker
        goes on the clipboard first: the copy happens in the client's own time, and an old value must not pass
        for the new one."""
        marker = f"casebot-{uuid.uuid4().hex}"
        self.set_clipboard(marker)
        # xclip serves the marker from a child it forks: wait until it does, or the client's copy could come
        # first and be replaced by the marker.
        deadline = time.monotonic() + timeout_s
        while self.clipboard() != marker:
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.01)
        self.keys(*keys)
        deadline = time.monotonic() + timeout_s
        while True:
            text = self.clipboard()
            if text != marker:
                return text
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)
