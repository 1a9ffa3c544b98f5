"""Scheduled nightly runs: schedule files (data), the APScheduler that fires them, and what guards a run."""
