"""Fixtures shared with the calc tests (tests/calc_data.py)."""

from tests.calc_data import guidelines, norms

__all__ = ["guidelines", "norms"]
