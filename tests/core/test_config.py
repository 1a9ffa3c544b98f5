from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.config import PORTAL_NAMES, Config, load_config
from bot.dev.sandbox import sandbox_config
from bot.errors import ConfigError, ErrorCode
from bot.yamlload import load_model, parse_yaml, secret_problems

PORTALS = """\
portals:
  casesystem:
    url: http://127.0.0.1:8100
    username: robot
    layout: v1
  skv: {url: "http://127.0.0.1:8101", username: kommun, password_env: SKV_PW}
  fk: {url: "http://127.0.0.1:8102", username: kommun, keyring_service: kommun-fk}
  af: {url: "http://127.0.0.1:8103", username: kommun}
  csn: {url: "https://csn.example.se/", username: kommun}
"""


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.code is ErrorCode.CONFIG_INVALID
    return "\n".join(caught.value.problems)


def test_a_full_config_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, """\
data_dir: var/data
log_dir: /tmp/casebot-logs
workers: 4
retries: {max_attempts: 5, backoff_base_s: 1.5}
timeouts: {page_s: 20}
retention: {traces_days: 7}
guidelines: guidelines.yaml
store: {url: "sqlite:///state/casebot.db"}
""" + PORTALS)
    config = load_config(path)
    assert config.data_dir == tmp_path / "var/data"
    assert config.log_dir == Path("/tmp/casebot-logs")
    assert config.guidelines == tmp_path / "guidelines.yaml"
    assert config.store_url == f"sqlite:///{tmp_path / 'state/casebot.db'}"
    assert (config.workers, config.retries.max_attempts, config.timeouts.page_s, config.timeouts.element_s) == \
        (4, 5, 20, 10)
    assert config.retention.traces_days == 7 and config.retention.screenshots_days == 14
    assert config.source == path
    assert config.portals.csn.url == "https://csn.example.se"
    assert config.portals["casesystem"].layout == "v1"


def test_defaults_and_where_each_portal_password_is_looked_up(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, PORTALS))
    assert config.workers == 1 and config.guidelines is None
    assert config.store_url == f"sqlite:///{tmp_path / 'data' / 'casebot.db'}"
    assert [name for name, _ in config.portals.items()] == list(PORTAL_NAMES)
    assert config.portals.casesystem.env_var == "CASEBOT_CASESYSTEM_PASSWORD"
    assert config.portals.skv.env_var == "SKV_PW"
    assert config.portals.fk.service == "kommun-fk"
    assert config.portals.af.service == "casebot/af"


def test_an_invalid_url_names_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, PORTALS.replace("http://127.0.0.1:8100", "htp:/127.0.0.1"))
    assert problems_of(path) == f"{path}:3: portals.casesystem.url: not a valid URL (expected http:// or " \
                                "https:// and a host)"


def test_every_problem_is_reported_in_line_order(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        workers: 0
        retries:
          max_attempts: 3
          backof_base_s: 2
        store: {url: "mysql://db/x"}
        portals:
          casesystem: {url: "http://a", username: robot, layout: version2}
          skv: {url: "http://a", username: ""}
          fk: {url: "http://a", username: kommun, password_env: "9PW"}
          af: {url: "http://a", username: kommun}
        """)
    lines = problems_of(path).splitlines()
    assert lines == [
        f"{path}:1: workers: Input should be greater than or equal to 1",
        f"{path}:4: retries.backof_base_s: unknown key (misspelt?)",
        f"{path}:5: store.url: must start with sqlite:/// or postgresql://",
        f"{path}:6: portals.csn: missing (required)",
        f"{path}:7: portals.casesystem.layout: String should match pattern '^v\\d+$'",
        f"{path}:8: portals.skv.username: String should have at least 1 character",
        f"{path}:9: portals.fk.password_env: not an environment variable name (letters, digits and _, "
        "not starting with a digit)",
    ]


@pytest.mark.parametrize("key", ["password", "lösenord", "secret", "token", "db_password", "api-token"])
def test_a_literal_password_is_refused_without_echoing_it(tmp_path: Path, key: str) -> None:
    path = write(tmp_path, PORTALS.replace("    layout: v1\n", f"    layout: v1\n    {key}: hunter2\n"))
    message = problems_of(path)
    assert f"{path}:6: portals.casesystem.{key}: a literal secret is not allowed" in message
    assert "password_env" in message and "keyring" in message
    assert "hunter2" not in message


def test_only_secret_keys_with_a_value_count() -> None:
    doc = parse_yaml("password_env: PW\ntoken_env: T\npassword:\nsecret: ''\nnested: {api_token: x}\n", Path("c.yaml"))
    assert secret_problems(doc) == ["c.yaml:5: nested.api_token: a literal secret is not allowed in a config file; "
                                    "give the name of an environment variable (password_env) or use the OS keyring"]


def test_a_password_inside_a_url_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, PORTALS + 'store: {url: "postgresql://casebot:hunter2@db/casebot"}\n')
    message = problems_of(path)
    assert "store.url: the URL contains a password" in message and "hunter2" not in message


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "workers: 2\n" + PORTALS + "workers: 3\n")
    assert problems_of(path) == f"{path}:11: workers: duplicate key (first given on line 1)"


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "workers: [1, 2\nlog_dir: x\n")
    assert problems_of(path).startswith(f"{path}:2: not valid YAML:")


def test_a_missing_file_and_a_non_mapping_are_clear(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope.yaml") == f"{tmp_path / 'nope.yaml'}: file not found"
    path = write(tmp_path, "- a\n- b\n")
    assert problems_of(path) == f"{path}:1: expected a mapping of keys to values at the top level"


def test_load_model_works_for_any_model(tmp_path: Path) -> None:
    from pydantic import BaseModel

    class Schedule(BaseModel):
        at: str
        days: list[int]

    path = write(tmp_path, "at: '02:00'\ndays:\n  - 1\n  - x\n", "schedule.yaml")
    with pytest.raises(ConfigError) as caught:
        load_model(path, Schedule)
    assert caught.value.problems[0].startswith(f"{path}:4: days.1: Input should be a valid integer")


def test_back_off_doubles_up_to_its_cap() -> None:
    retries = Config.model_fields["retries"].default
    assert [retries.delay_s(a) for a in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert retries.model_copy(update={"backoff_max_s": 5.0}).delay_s(10) == 5.0


def test_sandbox_config_and_summary_hold_no_secrets(tmp_path: Path) -> None:
    config = sandbox_config(tmp_path, 9000, workers=3)
    assert config.portals.fk.url == "https://127.0.0.1:9002"
    assert config.portals.casesystem.username == "robot"
    summary = config.summary()
    assert summary["workers"] == 3 and summary["portals"]["skv"] == {"url": "https://127.0.0.1:9001",
                                                                     "username": "kommun", "layout": None}
    assert "password" not in str(summary)
