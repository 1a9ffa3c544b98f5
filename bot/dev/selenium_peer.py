"""The Selenium peer: the robot's per-case flow written with Selenium WebDriver, the way many RPA teams build it,
timed on the same cases as `casebot bench`.

One Chromium per worker (Debian's `chromium` driven by Debian's `chromium-driver`), one window, the portals
visited one after another (WebDriver is synchronous; parallel look-ups would need a browser per portal, which
such scripts rarely have); elements found by CSS on their `name` attributes and waited for with WebDriverWait;
CSN's statement downloaded by clicking its link, as a person would. Like the HTTP floor it saves the sandbox
oracle's figures rather than calculating (the calculation costs the robot nothing measurable), and the night
is checked against the oracle.

    apt-get install chromium-driver && pip install -e '.[bench]'
    casebot bench --cases 20 --workers 1 --selenium
"""

from __future__ import annotations

import queue
import tempfile
import threading
import time
from pathlib import Path

from bot.browser.launch import CHROMIUM_ARGS, chromium_path
from bot.browser.trust import browser_env, browser_home
from bot.calc.fields import ALL_FIELDS
from bot.dev.floor import ADULT_ROLES, FloorCase, load_cases
from bot.dev.measure import AGENCIES
from bot.dev.sandbox import Sandbox, differences_from_oracle, sandbox_environ

CHROMEDRIVER = "/usr/bin/chromedriver"
USERNAMES = {"casesystem": "robot", **dict.fromkeys(AGENCIES, "kommun")}
TIMEOUT_S = 15


def _browser(download_dir: Path, box: Sandbox):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium_path()
    for arg in (*CHROMIUM_ARGS, "--headless=new", "--window-size=1280,720"):
        options.add_argument(arg)
    # The case system asks "are you sure?" (confirm) before parking and when leaving a changed form: accept.
    options.set_capability("unhandledPromptBehavior", "accept")
    options.add_experimental_option("prefs", {"download.default_directory": str(download_dir),
                                              "download.prompt_for_download": False})
    # The sandbox's CA trusted the robot's way (an NSS database under the HOME chromedriver hands its browser).
    home = browser_home(box.tls, download_dir.with_name(f"{download_dir.name}-tls"))
    service = Service(CHROMEDRIVER, env=browser_env(home))
    driver = webdriver.Chrome(options=options, service=service)
    # The old headless shell (the robot's binary, so the comparison is fair) ignores the download preferences;
    # told through the DevTools protocol, as Playwright tells it, it saves where the script looks.
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)})
    return driver


class Peer:
    """One worker: a browser logged in to every portal."""

    def __init__(self, box: Sandbox, passwords: dict[str, str], download_dir: Path) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        self.By, self.ec = By, ec
        self.box = box
        self.downloads = download_dir
        self.driver = _browser(download_dir, box)
        # Polled every 50 ms, not the default 500 ms: a fair peer waits no longer than it must.
        self.wait = WebDriverWait(self.driver, TIMEOUT_S, poll_frequency=0.05)
        for portal, password in passwords.items():
            self.get(portal, "/login")
            self.type("anvandarnamn", USERNAMES[portal])
            self.type("losenord", password)
            self.submit("form")
            self.wait.until(lambda d: "/login" not in d.current_url)

    # -- the usual helpers of such a script --------------------------------------------------------
    def get(self, portal: str, path: str) -> None:
        self.driver.get(self.box.url(portal, path))

    def find(self, css: str):  # type: ignore[no-untyped-def]
        return self.wait.until(self.ec.presence_of_element_located((self.By.CSS_SELECTOR, css)))

    def type(self, name: str, text: str) -> None:
        field = self.find(f"[name='{name}']")
        field.clear()
        field.send_keys(text)

    def submit(self, css: str) -> None:
        """Click the form's button and wait for the next document (marked old one gone, new one loaded)."""
        from selenium.common.exceptions import WebDriverException

        self.driver.execute_script("window.__peer_old = true")
        self.find(f"{css} [type=submit], {css} button").click()

        def next_document(driver) -> bool:  # type: ignore[no-untyped-def]
            try:  # mid-navigation the page may refuse scripts: that is "not yet"
                return bool(driver.execute_script(
                    "return window.__peer_old === undefined && document.readyState === 'complete'"))
            except WebDriverException:
                return False

        self.wait.until(next_document)

    def texts(self, css: str) -> list[str]:
        return [e.text for e in self.driver.find_elements(self.By.CSS_SELECTOR, css)]

    # -- one case ------------------------------------------------------------------------------------
    def case(self, case: FloorCase) -> None:
        base = f"/arende/{case.case_id}"
        self.get("casesystem", f"{base}/sokande")
        self.find("[data-status]")
        self.texts("table.grid td")
        self.get("casesystem", f"{base}/ansokan")
        self.texts("table.grid td")
        for pnr, role in case.members:
            self.skv(pnr)
            self.fk(pnr, case.period)
            self.csn(pnr)
            if role in ADULT_ROLES:
                self.af(pnr)
        if case.outcome != "manual":
            self.get("casesystem", f"{base}/berakning")
            for key in ALL_FIELDS:
                self.type(key, str(case.fields[key]) if key in case.fields else "")
            self.submit("form[action$='/berakning']")
            self.get("casesystem", f"{base}/berakning")
            [self.find(f"input[name='{key}']").get_attribute("value") for key in ALL_FIELDS]
        self.get("casesystem", f"{base}/journal")
        self.type("anteckning", f"Förberett (Selenium-jämförelse) {case.case_id}")
        self.submit("form[action$='/journal']")
        self.get("casesystem", f"{base}/beslut")
        if case.outcome == "manual":
            self.type("orsak", "Selenium-jämförelse")
            self.submit("form[action$='/manuell']")
        else:
            if case.outcome == "partial":
                self.find("[name='behover_kompletteras']").click()
            self.submit("form[action$='/parkera']")

    def skv(self, pnr: str) -> None:
        self.get("skv", "/sok")
        self.type("personnummer", pnr)
        self.submit("form")
        self.texts("table td")

    def fk(self, pnr: str, period: str) -> None:
        self.get("fk", "/app")
        self.type("pnr", pnr)
        self.find("form [type=submit]").click()
        self.wait.until(lambda d: d.execute_script("return document.querySelector('.fk-out').children.length"))
        self.texts(".fk-out td")

    def csn(self, pnr: str) -> None:
        self.get("csn", "/sok")
        self.type("personnummer", pnr)
        self.submit("form")
        links = self.driver.find_elements(self.By.CSS_SELECTOR, "a.csn-download")
        if links:
            before = set(self.downloads.iterdir())
            links[0].click()
            self.wait.until(lambda d: [p for p in set(self.downloads.iterdir()) - before
                                       if p.suffix == ".csv"])
            # Only the finished file: Chromium's .crdownload may still be listed, and be gone a moment later.
            for path in [p for p in set(self.downloads.iterdir()) - before if p.suffix == ".csv"]:
                path.read_text(encoding="utf-8-sig")
                path.unlink()

    def af(self, pnr: str) -> None:
        self.get("af", "/sok")
        self.type("personnummer", pnr)
        self.submit("form")
        self.wait.until(self.ec.frame_to_be_available_and_switch_to_it((self.By.CSS_SELECTOR, "iframe")))
        self.texts("body")
        self.driver.switch_to.default_content()

    def quit(self) -> None:
        self.driver.quit()


def run_peer(box: Sandbox, workers: int) -> tuple[float, list[float], int]:
    """(wall s, per-case durations s, oracle differences) of one night by `workers` Selenium browsers."""
    cases = load_cases(box)
    work: queue.Queue[FloorCase] = queue.Queue()
    for case in cases:
        work.put(case)
    env = sandbox_environ()
    passwords = {p: env[f"CASEBOT_{p.upper()}_PASSWORD"] for p in ("casesystem", *AGENCIES)}
    durations: list[float] = []
    errors: list[BaseException] = []

    def worker(download_dir: Path) -> None:
        try:
            peer = Peer(box, passwords, download_dir)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            return
        try:
            while True:
                try:
                    case = work.get_nowait()
                except queue.Empty:
                    return
                began = time.perf_counter()
                peer.case(case)
                durations.append(time.perf_counter() - began)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            peer.quit()

    with tempfile.TemporaryDirectory() as tmp:
        threads = [threading.Thread(target=worker, args=(Path(tmp) / f"w{i}",)) for i in range(workers)]
        for i in range(workers):
            (Path(tmp) / f"w{i}").mkdir()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"the Selenium peer failed: {errors[0]!r}") from errors[0]
    return wall, durations, len(differences_from_oracle(box, [c.case_id for c in cases]))

