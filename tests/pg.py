"""A fresh PostgreSQL database per test, on the machine's server (127.0.0.1:5432, or CASEBOT_TEST_PG).

Never skipped: the PostgreSQL backend is part of the product, so a run without a reachable server fails and says
how to start one (`./install.sh --test`, which .ci/run runs, starts it when it is not running).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from bot.errors import SystemException
from bot.store.postgres import connect, scratch_database

SERVER = os.environ.get("CASEBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
START_HINT = "./install.sh --test (or: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)"


@contextmanager
def fresh_database(prefix: str = "casebot_test") -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards."""
    try:
        connect(f"{SERVER}/postgres").close()
    except SystemException as exc:
        raise RuntimeError(f"PostgreSQL for the tests is not reachable ({exc}); start it: {START_HINT}") from exc
    with scratch_database(SERVER, prefix) as url:
        yield url
