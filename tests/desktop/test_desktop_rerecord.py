"""Issue 10's "done when", v2 (the vendor's next client: other window position, two columns, other texts): the night
stops at preflight with SELECTOR_MISSING naming the desktop anchors; re-recorded anchors make the next night pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import write_config
from bot.dev.sandbox import differences_from_oracle, sandbox_config, sandbox_environ
from bot.dev.virtual_screen import client, xvfb
from tests.desktop.test_desktop_night import CASES, copy_of_selectors, night
from tests.sandbox_proc import start_sandbox


@pytest.mark.browser
@pytest.mark.timeout(900)
def test_the_v2_client_stops_the_night_until_its_anchors_are_re_recorded(tmp_path: Path) -> None:
    box = start_sandbox(tmp_path / "sandbox", cases=CASES, seed=59)
    first_case = min(r["case_id"] for r in box.admin_get("casesystem", "/_admin/inbox"))  # type: ignore[union-attr]
    selectors = copy_of_selectors(tmp_path)
    try:
        with xvfb() as display:
            with client(box, display, tmp_path, "v2"):
                stopped = night(tmp_path, box, display, selectors, "robot")
            assert stopped.exit_code == 2
            error = stopped.result.stopped_by
            assert error is not None and error.code.value == "SELECTOR_MISSING" and "desktop" in str(error)
            assert "login/login (images/login/login.png)" in str(error)
            assert box.admin_get("casesystem", "/_admin/skrivbord") == {"logins": 0, "saves": 0, "parks": 0}

            # The admin re-records against a test case (the first case here: it is saved and parked on the way).
            admin = sandbox_config(tmp_path / "admin", box, desktop_display=display, selectors_dir=str(selectors))
            config_file = write_config(admin, tmp_path / "admin" / "config.yaml")
            with client(box, display, tmp_path, "v2") as on_screen:
                recorded = subprocess.run(
                    [sys.executable, "-m", "bot.cli", "record", "casesystem", "--channel", "desktop", "--config",
                     str(config_file), "--geometry-file", str(on_screen.geometry.path), "--case", first_case,
                     "--layout", "v2", "--by", "admin"], env={**os.environ, **sandbox_environ()},
                    capture_output=True, timeout=300)
            assert recorded.returncode == 0, recorded.stderr.decode(errors="replace")[-3000:]
            assert "layout v2, 39 anchors in 7 screens" in recorded.stdout.decode()
            with client(box, display, tmp_path, "v2"):
                again = night(tmp_path, box, display, selectors, "robot")
        assert again.exit_code == 0, again.result.stopped_by
        handled = [i.case_id for i in again.items]
        assert first_case not in handled and len(handled) == CASES - 1  # parked by the recording
        assert differences_from_oracle(box, handled) == {}
    finally:
        box.stop()
