"""Tests start the sandbox the way the demo does (see bot/dev/sandbox.py)."""

from bot.dev.sandbox import PORTAL_NAMES, Sandbox, free_port_base, start_sandbox

__all__ = ["PORTAL_NAMES", "Sandbox", "free_port_base", "start_sandbox"]
