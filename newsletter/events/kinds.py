"""SendGrid event kinds: a bit each (deliveries remember those seen), report figures, suppressions.

A delivery's `event_flags` has one bit per kind below. A unique figure (e.g. unique opens) is a mask
of bits: a delivery counts once, when the first event of any kind in the mask arrives for it.
"""

from __future__ import annotations

from typing import Final

PROCESSED: Final = 1 << 0
DELIVERED: Final = 1 << 1
DEFERRED: Final = 1 << 2
HARD_BOUNCE: Final = 1 << 3
BLOCKED: Final = 1 << 4
DROPPED: Final = 1 << 5
OPEN: Final = 1 << 6
MACHINE_OPEN: Final = 1 << 7
CLICK: Final = 1 << 8
SPAMREPORT: Final = 1 << 9
UNSUBSCRIBE: Final = 1 << 10
GROUP_UNSUBSCRIBE: Final = 1 << 11
GROUP_RESUBSCRIBE: Final = 1 << 12

UNIQUE_FIGURES: Final = {
    "processed": PROCESSED,
    "delivered": DELIVERED,
    "deferred": DEFERRED,
    "bounced": HARD_BOUNCE | BLOCKED,
    "hard_bounces": HARD_BOUNCE,
    "blocked": BLOCKED,
    "dropped": DROPPED,
    "unique_opens": OPEN,
    "unique_machine_opens": MACHINE_OPEN,
    "unique_clicks": CLICK,
    "unsubscribes": UNSUBSCRIBE | GROUP_UNSUBSCRIBE,
    "spam_complaints": SPAMREPORT,
}
"""Report figures counted once per delivery, each the mask of the event kinds that make it."""

SUPPRESSING: Final = {
    "hard_bounce": "hard_bounce",
    "spamreport": "spam_complaint",
    "unsubscribe": "unsubscribed",
    "group_unsubscribe": "unsubscribed",
}
"""Event kind → suppression reason (global). Blocked/soft bounces, deferrals and drops suppress nothing."""


def kind_of(event_type: str, bounce_type: str | None, machine_open: bool | None) -> str:
    """An event's kind: its SendGrid type, bounces split (hard_bounce/blocked), machine opens apart."""
    if event_type == "bounce":
        return "blocked" if bounce_type == "blocked" else "hard_bounce"
    if event_type == "open" and machine_open:
        return "machine_open"
    return event_type


BITS: Final = {
    "processed": PROCESSED,
    "delivered": DELIVERED,
    "deferred": DEFERRED,
    "hard_bounce": HARD_BOUNCE,
    "blocked": BLOCKED,
    "dropped": DROPPED,
    "open": OPEN,
    "machine_open": MACHINE_OPEN,
    "click": CLICK,
    "spamreport": SPAMREPORT,
    "unsubscribe": UNSUBSCRIBE,
    "group_unsubscribe": GROUP_UNSUBSCRIBE,
    "group_resubscribe": GROUP_RESUBSCRIBE,
}
"""Event kind → its bit in Delivery.event_flags; unknown kinds have none (stored and counted, no effect)."""

OUTCOME_OF: Final = {
    "delivered": "delivered",
    "hard_bounce": "bounced",
    "blocked": "blocked",
    "dropped": "dropped",
    "deferred": "deferred",
}
"""Event kind → the Delivery.outcome it records."""
