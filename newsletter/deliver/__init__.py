"""Delivery: the Transport seam and its SendGrid, SMTP, outbox and in-memory implementations."""

from __future__ import annotations

from newsletter.deliver.memory import MemoryTransport, SentMessage
from newsletter.deliver.outbox import OutboxTransport
from newsletter.deliver.sendgrid import SendGridTransport
from newsletter.deliver.smtp import SmtpOptions, SmtpTransport
from newsletter.deliver.transport import (
    DeliveryResult,
    Envelope,
    Outcome,
    OutgoingBatch,
    Transport,
)

__all__ = [
    "DeliveryResult",
    "Envelope",
    "MemoryTransport",
    "OutboxTransport",
    "Outcome",
    "OutgoingBatch",
    "SendGridTransport",
    "SentMessage",
    "SmtpOptions",
    "SmtpTransport",
    "Transport",
]
