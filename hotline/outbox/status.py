"""The states of an outbox row, apart from the table: the admin API filters by them."""

from __future__ import annotations

from enum import StrEnum


class OutboxStatus(StrEnum):
    """Lifecycle of an outbox row: pending until sent, or failed for good."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
