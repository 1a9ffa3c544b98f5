"""Playwright lifecycle: Debian's Chromium, one context per worker, blocked media, traces for failures."""
