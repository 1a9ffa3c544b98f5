"""Logging for a run: human lines on the console, JSON lines in `<log_dir>/run-<run_id>.jsonl`.

Masking is done once, in a loguru patcher, before any sink sees the record: the message, every extra field and
the exception text. So a sink added later (pytest, an alert mailer) gets masked records too. The patcher turns
an exception into masked traceback text in `extra["traceback"]` (plus `exc_type`, and `code` for our own
errors): no sink ever gets the exception object, whose frames' local variables loguru's `diagnose` would print.

Per case:

    with case_context("EB-2024-00001", names=["Anna", "Svensson"]):
        with logger.contextualize(step="fill"):
            logger.info("filled {} fields", n)
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TextIO

from loguru import logger

from bot.errors import CasebotError
from bot.masking import exception_names, mask_text, mask_value, masked_names

# Extra keys the JSON line lifts to the top level: what operators filter on.
TOP_LEVEL_EXTRA = ("run_id", "case_id", "step", "code", "worker", "portal", "exc_type")


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, unique across store resets (a fresh database must not reuse an old run's log file name). The
    suffix is letters: with four digits, `HHMMSS-NNNN` is shaped like a personnummer and the masking, rightly
    cautious, would hide the run id in alerts and logs."""
    now = now or datetime.now(UTC)
    suffix = "".join(secrets.choice(_RUN_ID_LETTERS) for _ in range(4))
    return f"{now:%Y%m%d-%H%M%S}-{suffix}"


_RUN_ID_LETTERS = "abcdefghjkmnpqrstuvwxyz"


# -- masking ------------------------------------------------------------------------------------------------
def _format_exception(exc: BaseException) -> str:
    try:
        return "".join(traceback.format_exception(exc))
    except Exception:  # a broken __str__ must not break logging
        return f"{type(exc).__qualname__}: <unprintable>\n"


def mask_record(record: Any) -> None:
    """The loguru patcher: mask the message, the extra fields and the exception before any sink runs.

    The exception is rendered here, as plain Python traceback text (source lines, no variable values), masked,
    and moved to `extra["traceback"]`; the record keeps no exception object. That way no sink can render one
    itself, and a sink added with loguru's default `diagnose=True` cannot print a local variable holding a pnr.
    """
    exc_info = record["exception"]
    names: tuple[str, ...] = ()
    extra = dict(record["extra"])
    if exc_info is not None and exc_info.value is not None:
        names = exception_names(exc_info.value)
        extra["traceback"] = _format_exception(exc_info.value)
        extra.setdefault("exc_type", type(exc_info.value).__qualname__)
        code = getattr(exc_info.value, "code", None)
        if isinstance(exc_info.value, CasebotError) and code is not None:
            extra.setdefault("code", code.value)
        record["exception"] = None
    record["message"] = mask_text(record["message"], names)
    record["extra"] = mask_value(extra, names)


def install_masking() -> None:
    """Make masking apply to every record of the process. Idempotent. It takes loguru's single global patcher
    slot: add other patchers with `logger.patch(...)`, never `logger.configure(patcher=...)`."""
    logger.configure(patcher=mask_record)


# -- sinks --------------------------------------------------------------------------------------------------
def _console_format(record: Any) -> str:
    extra = record["extra"]
    where = ""
    if extra.get("case_id"):
        where = "[{extra[case_id]} {extra[step]}] " if extra.get("step") else "[{extra[case_id]}] "
    elif extra.get("step"):
        where = "[{extra[step]}] "
    code = "{extra[code]} " if extra.get("code") else ""
    tail = "{extra[traceback]}" if extra.get("traceback") else ""
    return "<green>{time:HH:mm:ss}</green> <level>{level: <7}</level> " + where + code + "{message}\n" + tail


def json_line(record: Any) -> str:
    """One record as one JSON object (no newline). Values are already masked by the patcher."""
    extra = dict(record["extra"])
    entry: dict[str, Any] = {
        "time": record["time"].isoformat(),
        "level": record["level"].name,
        "message": record["message"],
    }
    for key in TOP_LEVEL_EXTRA:
        if key in extra:
            entry[key] = extra.pop(key)
    entry.update(logger=record["name"], function=record["function"], line=record["line"])
    if "traceback" in extra:
        entry["exception"] = extra.pop("traceback")
    if extra:
        entry["extra"] = extra
    return json.dumps(entry, ensure_ascii=False, default=str)


class JsonLinesFile:
    """A loguru sink writing one JSON object per line to a file only the owner can read."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.path = path
        self._file: IO[str] = os.fdopen(fd, "a", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()

    def write(self, message: Any) -> None:
        line = json_line(message.record)
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()

    def stop(self) -> None:
        with self._lock:
            self._file.close()


@dataclass
class LogSetup:
    run_id: str
    path: Path
    handler_ids: list[int] = field(default_factory=list)

    def close(self) -> None:
        for handler_id in self.handler_ids:
            logger.remove(handler_id)
        self.handler_ids.clear()


def purge_old_logs(log_dir: Path, days: float, now: float | None = None) -> list[Path]:
    cutoff = (now if now is not None else time.time()) - days * 86400
    removed = []
    for path in log_dir.glob("run-*.jsonl"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def setup_logging(log_dir: Path, run_id: str | None = None, *, level: str = "DEBUG", console_level: str = "INFO",
                  console: TextIO | bool = True, retention_days: float | None = None) -> LogSetup:
    """Replace all sinks with the console (stderr, or the given stream; False for none) and the run's JSON file.
    A resumed run passes its id again and appends to the same file."""
    run_id = run_id or new_run_id()
    install_masking()
    logger.remove()
    logger.configure(extra={"run_id": run_id})
    if retention_days is not None and log_dir.exists():
        purge_old_logs(log_dir, retention_days)
    sink = JsonLinesFile(log_dir / f"run-{run_id}.jsonl")
    setup = LogSetup(run_id=run_id, path=sink.path)
    setup.handler_ids.append(logger.add(sink, level=level, format="{message}", backtrace=False, diagnose=False))
    if console is not False:
        stream = sys.stderr if console is True else console
        setup.handler_ids.append(logger.add(stream, level=console_level, format=_console_format,
                                            backtrace=False, diagnose=False))
    return setup


@contextmanager
def case_context(case_id: str, *, names: Iterable[str] = (), **extra: Any) -> Iterator[None]:
    """Tag every record inside with the case id (and any extra fields) and mask the case's names."""
    with logger.contextualize(case_id=case_id, **extra), masked_names(names):
        yield


install_masking()
