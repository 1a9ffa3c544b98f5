"""What a certificate says that an operator reads: its names and how long it has left. Shared by the portals'
certificates (`bot.tls`) and the robot's own client certificates (`bot.clientcert`)."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509
from cryptography.x509.oid import NameOID


def days_until(when: datetime, now: datetime | None = None) -> float:
    return (when - (now or datetime.now(UTC))).total_seconds() / 86400


def common_name(name: x509.Name) -> str:
    """A certificate's subject or issuer as an operator names it: its CN, else the whole name."""
    common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(common[0].value) if common else name.rfc4514_string()


class Validity:
    """What a certificate's end date says (for the server's and the robot's own alike)."""

    not_after: datetime

    def days_left(self, now: datetime | None = None) -> float:
        return days_until(self.not_after, now)

    def expires_within(self, days: int, now: datetime | None = None) -> bool:
        return self.days_left(now) <= days
