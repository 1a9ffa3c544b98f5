"""The drivers' lists of what they use (`needs`) agree with their code and with the shipped selector files."""

from __future__ import annotations

import inspect
import re

import pytest

from bot.drivers import af, base, casesystem, csn, fk, skv
from bot.drivers.needs import missing
from bot.drivers.portal_drivers import DRIVER_CLASSES
from bot.paths import SELECTORS_DIR
from bot.selectors.load import load_selector_file

# `self.el("screen", "name"` and the other element calls, with the screen and element written out.
CALL = re.compile(r"self\.(?:el|text|present|read_records|submit)\(\s*\"([a-z_]+)\",\s*\"([a-z_]+)\"")
MODULES = {"casesystem": casesystem, "skv": skv, "fk": fk, "af": af, "csn": csn}


def _named_in_code(portal: str) -> set[tuple[str, str]]:
    source = inspect.getsource(MODULES[portal]) + inspect.getsource(base)
    return {(screen, name) for screen, name in CALL.findall(source)}


@pytest.mark.parametrize("portal", sorted(DRIVER_CLASSES))
def test_every_element_the_code_names_is_in_the_drivers_needs(portal: str) -> None:
    needs = DRIVER_CLASSES[portal].needs
    named = _named_in_code(portal)
    assert named, "the pattern found no element calls: it no longer matches the code"
    # The base module's search form belongs to the search-form portals only; the case system's login is common.
    relevant = {(s, n) for s, n in named if s in needs}
    unknown = sorted(f"{s}/{n}" for s, n in relevant if n not in needs[s])
    assert not unknown, f"{portal}: the code uses elements its needs do not list: {unknown}"
    assert relevant >= {("login", "username"), ("login", "submit")}


@pytest.mark.parametrize("portal", sorted(DRIVER_CLASSES))
def test_the_shipped_v1_file_has_every_element_the_driver_needs(portal: str) -> None:
    selectors = load_selector_file(SELECTORS_DIR / f"{portal}.yaml")
    assert [f"{s}/{n}" for s, n, _ in missing(DRIVER_CLASSES[portal].needs, selectors)] == []


def test_a_file_without_an_element_is_told_apart_by_whether_the_robot_can_do_without_it() -> None:
    selectors = load_selector_file(SELECTORS_DIR / "casesystem.yaml")
    screens = dict(selectors.screens)
    screens["inbox"] = screens["inbox"].model_copy(update={"elements": {"table": screens["inbox"].elements["table"]}})
    screens["login"] = screens["login"].model_copy(update={"elements": {
        k: v for k, v in screens["login"].elements.items() if k != "error"}})
    thinner = selectors.model_copy(update={"screens": screens})
    found = {f"{s}/{n}": need.required for s, n, need in missing(casesystem.CaseSystem.needs, thinner)}
    # Without the next-page link the night would read page one and silently leave the rest: required.
    assert found == {"inbox/next_page": True, "login/error": False}


def test_the_elements_the_code_names_through_a_variable_are_listed_too() -> None:
    assert set(casesystem.FIELD_KEYS) | set(casesystem.TOTAL_KEYS) <= set(casesystem.CaseSystem.needs["calc_form"])
    assert set(fk.OUTCOMES) <= set(fk.Fk.needs["result"])
    assert set(af.OUTCOMES) <= set(af.Af.needs["status"])
