"""Launching the machine's own Chromium: Playwright's browser downloads are not available here.

Headless work runs on Debian's `chromium-headless-shell` where it is installed: the old headless shell (what
Playwright itself runs for headless Chromium) made a night 1.7× faster and 22 % lighter than the full browser.
Headed work (the recorder, `--headed`) needs the full `chromium`. `CASEBOT_CHROMIUM` overrides both."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from loguru import logger
from playwright.async_api import Browser, Playwright, async_playwright

from bot.browser.trust import browser_env
from bot.clientcert import BrowserCertificates
from bot.net import Proxy, chromium_proxy

DEFAULT_CHROMIUM = "/usr/bin/chromium"
# The binary itself, not /usr/bin's shell wrapper, so the browser process is Playwright's own child.
HEADLESS_SHELLS = ("/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium-headless-shell")
INSTALL_HINT = "apt-get install chromium chromium-headless-shell (./install.sh does it)"

# Chromium otherwise reaches out to Google services at start; on a closed municipal network those
# connections are refused, slowly, many at a time.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
)


_said_fallback = False


def chromium_path(headless: bool = True) -> str:
    """The browser binary for headless or headed work (see the module's docstring)."""
    global _said_fallback
    override = os.environ.get("CASEBOT_CHROMIUM")
    if override:
        return override
    if headless:
        shell = next((path for path in HEADLESS_SHELLS if os.path.exists(path)), None)
        if shell is not None:
            return shell
        if not _said_fallback and os.path.exists(DEFAULT_CHROMIUM):
            _said_fallback = True
            logger.warning("chromium-headless-shell is not installed: headless work uses the full chromium, which is "
                           "slower ({})", INSTALL_HINT)
    return DEFAULT_CHROMIUM


class BrowserNotInstalled(FileNotFoundError):
    """No Chromium where the robot looks for one."""


# Playwright's own headless blink settings (it passes them in headless mode), with images off: images never carry
# what the robot reads. A browser setting, not request interception, which cost a round trip to Python per request.
NO_IMAGES = ("--blink-settings=primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,"
             "availablePointerTypes=4,imagesEnabled=false")


async def launch_chromium(pw: Playwright, headless: bool = True, block_images: bool = True, *,
                          home: Path | None = None, proxy: Proxy | None = None) -> Browser:
    """`home`: the HOME whose NSS database says which CAs the browser trusts (`bot.browser.trust.browser_home`);
    None: the robot's own HOME. `proxy`: the outbound proxy (`bot.net`); None: none, whatever the environment's
    HTTP_PROXY says (Chromium on Linux would read it)."""
    path = chromium_path(headless)
    if not os.path.exists(path):
        raise BrowserNotInstalled(f"Chromium not found at {path}: {INSTALL_HINT}, or set CASEBOT_CHROMIUM to the "
                                  "browser's path")
    args = [*CHROMIUM_ARGS, *([NO_IMAGES] if headless and block_images else []),
            *(["--no-proxy-server"] if proxy is None else [])]
    trusted = browser_env(home)
    env: dict[str, str | float | bool] | None = None if trusted is None else {**trusted}  # Playwright's type
    return await pw.chromium.launch(executable_path=path, headless=headless, args=args, env=env,
                                    proxy=chromium_proxy(proxy))


@contextlib.contextmanager
def driver_trusts(ca_bundle: Path | None) -> Iterator[None]:
    """For a context with client certificates Playwright's Node driver makes the TLS connection to the portal
    itself (the browser's goes to Node), so Node must trust what Chromium trusts: its built-in roots (Node's are
    Mozilla's, as Chromium's are close to) and `tls.ca_bundle`, through NODE_EXTRA_CA_CERTS. Node reads it when it
    starts, from the environment Playwright copies from this process's, so it is set around the driver's start."""
    if ca_bundle is None:
        yield
        return
    before = os.environ.get("NODE_EXTRA_CA_CERTS")
    os.environ["NODE_EXTRA_CA_CERTS"] = str(ca_bundle)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("NODE_EXTRA_CA_CERTS", None)
        else:
            os.environ["NODE_EXTRA_CA_CERTS"] = before


@dataclass
class Chromium:
    """A running Chromium and the Playwright that drives it: `relaunch` replaces a browser that crashed.
    `client_certificates`: portal -> Playwright's `client_certificates` for that portal's contexts."""

    playwright: Playwright
    browser: Browser
    headless: bool
    block_images: bool = True
    home: Path | None = None
    proxy: Proxy | None = None
    client_certificates: BrowserCertificates = field(default_factory=dict)

    async def relaunch(self) -> None:
        self.browser = await launch_chromium(self.playwright, headless=self.headless, block_images=self.block_images,
                                             home=self.home, proxy=self.proxy)


@asynccontextmanager
async def running_chromium(*, headless: bool = True, block_images: bool = True,
                           home: Path | None = None, proxy: Proxy | None = None, ca_bundle: Path | None = None,
                           client_certificates: BrowserCertificates | None = None
                           ) -> AsyncIterator[Chromium]:
    """Playwright and the machine's Chromium, started for the block and stopped after it, whatever happened.
    `ca_bundle`: `tls.ca_bundle`, for the driver's own TLS (`driver_trusts`)."""
    async with contextlib.AsyncExitStack() as stack:
        with driver_trusts(ca_bundle):
            pw = await stack.enter_async_context(async_playwright())
        chromium = Chromium(pw, await launch_chromium(pw, headless=headless, block_images=block_images, home=home,
                                                      proxy=proxy),
                            headless, block_images, home, proxy, dict(client_certificates or {}))
        try:
            yield chromium
        finally:
            # A browser that crashed cannot be closed; the error that ended the block matters more.
            with contextlib.suppress(Exception):
                await chromium.browser.close()
