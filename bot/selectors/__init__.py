"""Selector files: logical element names → ordered fallback strategies, loaded from `selectors/*.yaml`."""
