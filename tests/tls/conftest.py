"""A sandbox whose portals serve every kind of certificate: the case system the good one, the agencies a bad one
each. Its CA is the process's shared test CA (tests/sandbox_proc.py), like every test sandbox's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sandbox_proc import Sandbox, start_sandbox

# portal -> the certificate it serves (the case system: the good one)
SERVED = {"skv": "expired", "fk": "wrong_host", "csn": "untrusted", "af": "expiring"}


@pytest.fixture(scope="package")
def mixed_box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = start_sandbox(tmp_path_factory.mktemp("mixed-certs"), cases=3, seed=11, certificates=SERVED)
    try:
        yield box
    finally:
        box.stop()
