"""Re-make the README's console screenshots: a fresh sandbox, one night against it, the console served on its
store, and Chromium's pictures of the nights page and of a case's timeline (sandbox data only: synthetic people,
personnummer masked as everywhere in the console).

    python -m bot.dev.console_screenshots [--out docs] [--cases 8]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from bot.browser.launch import CHROMIUM_ARGS, chromium_path
from bot.config import Config, write_config
from bot.console.app import create_app
from bot.console.auth import add_user
from bot.dev.sandbox import sandbox_config, sandbox_environ, start_sandbox
from bot.paths import PROJECT_ROOT
from bot.run.entry import run_once
from bot.store import WorkItem, open_store

USER, PASSWORD = "drift", "screenshot-password"


def _interesting_case(items: list[WorkItem]) -> WorkItem:
    """A case with the most to show: triage reasons (a partial one), else any with the most steps."""
    ranked = sorted(items, key=lambda i: (i.outcome == "partial", bool(i.reasons), i.state == "done"), reverse=True)
    return ranked[0]


def _serve(config: Config) -> tuple[uvicorn.Server, threading.Thread, str]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(config, config.console), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def make_screenshots(out: Path, cases: int = 8, seed: int = 7) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="casebot-shots-") as tmp:
        home = Path(tmp)
        box = start_sandbox(home / "sandbox", cases=cases, seed=seed)
        try:
            config = sandbox_config(home / "robot", box, workers=2)
            config = config.model_copy(update={"source": write_config(config, home / "robot" / "config.yaml")})
            night = asyncio.run(run_once(config, environ=sandbox_environ(), console=False))
            with open_store(config.store_url) as store:
                add_user(store, USER, "operations", PASSWORD, by="screenshots")
            case = _interesting_case(night.items)
            server, thread, url = _serve(config)
            try:
                with sync_playwright() as pw:
                    browser = pw.chromium.launch(executable_path=chromium_path(), args=list(CHROMIUM_ARGS))
                    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="sv-SE")
                    page.goto(url + "/login")
                    page.fill("input[name=username]", USER)
                    page.fill("input[name=password]", PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_url(url + "/")
                    shots = [out / "console-nights.png", out / "console-case.png"]
                    page.screenshot(path=str(shots[0]), full_page=True)
                    page.goto(f"{url}/cases/{case.id}")
                    page.screenshot(path=str(shots[1]), full_page=True)
                    browser.close()
            finally:
                server.should_exit = True
                thread.join(timeout=10)
        finally:
            box.stop()
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(PROJECT_ROOT / "docs"), help="where the pictures go (default: docs/)")
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    for path in make_screenshots(Path(args.out), cases=args.cases, seed=args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
