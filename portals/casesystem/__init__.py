"""The legacy case-management system the robot prepares cases in (see docs/sandbox-casesystem.md)."""
