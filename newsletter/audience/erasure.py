"""What GDPR erasure scrubs beyond the person's own rows: their address in deliveries, their traces in events.

Counts stay: delivery rows keep their send, status and domain (the report's per-provider
figures), events keep their type, time and links to the delivery. What goes: the address
(replaced by `erased-<delivery id>@erased.invalid`, unique per send as the index wants, in a
reserved top-level domain that can never be mailed), the address inside provider messages, and
from events the address hash, IP address, user agent and address fields of the provider's detail.
A delivery still pending becomes skipped, as the sender would have made it (its person is gone),
so no placeholder is ever mailed.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, func, literal, or_, select, update
from sqlalchemy.orm import Session

from newsletter.db.tables import Delivery, Event, Send

PLACEHOLDER_DOMAIN = "erased.invalid"
PERSONAL_DETAIL_KEYS = frozenset({"email", "ip", "useragent", "user_agent"})
"""Provider event fields that identify the person or their device; removed on erasure."""


def placeholder(delivery_id: int) -> str:
    """The non-identifying address an erased delivery keeps."""
    return f"erased-{delivery_id}@{PLACEHOLDER_DOMAIN}"


def scrub_sending_log(session: Session, subscriber_id: int | None, address: str, digest: str) -> None:
    """Replace the address in this person's deliveries; strip their events. The caller commits."""
    mine: list[ColumnElement[bool]] = [Delivery.send_id.in_(select(Send.id)) & (Delivery.email == address)]
    if subscriber_id is not None:
        mine.append(Delivery.subscriber_id == subscriber_id)
    delivery_ids = list(session.scalars(select(Delivery.id).where(or_(*mine))))
    if delivery_ids:
        erased = literal("erased-") + cast(Delivery.id, String) + literal(f"@{PLACEHOLDER_DOMAIN}")
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids))
            .values(
                email=erased,
                # One still waiting is never sent (a test send would mail whatever address it holds).
                status=case((Delivery.status == "pending", "skipped"), else_=Delivery.status),
                detail=case(
                    (Delivery.status == "pending", "erased before it was sent"),
                    else_=func.replace(Delivery.detail, address, erased),
                ),
            )
            .execution_options(synchronize_session=False)
        )
    _scrub_events(session, delivery_ids, address, digest)


def _scrub_events(session: Session, delivery_ids: list[int], address: str, digest: str) -> None:
    query = select(Event.id, Event.delivery_id, Event.url, Event.detail).where(
        or_(Event.email_hash == digest, Event.delivery_id.in_(delivery_ids))
    )
    pattern = re.compile(re.escape(address), re.IGNORECASE)
    changes = [
        {
            "id": event_id,
            "email_hash": None,
            "url": _replace(url, pattern, delivery_id),
            "detail": _scrubbed(detail or {}, pattern, delivery_id),
        }
        for event_id, delivery_id, url, detail in session.execute(query)
    ]
    if changes:
        session.execute(update(Event), changes)


def _scrubbed(value: Any, pattern: re.Pattern[str], delivery_id: int | None) -> Any:
    """`value` without personal keys, the address replaced wherever it appears in text."""
    if isinstance(value, dict):
        return {
            key: _scrubbed(item, pattern, delivery_id)
            for key, item in value.items()
            if key not in PERSONAL_DETAIL_KEYS
        }
    if isinstance(value, list):
        return [_scrubbed(item, pattern, delivery_id) for item in value]
    if isinstance(value, str):
        return _replace(value, pattern, delivery_id)
    return value


def _replace(text: str | None, pattern: re.Pattern[str], delivery_id: int | None) -> str | None:
    if text is None:
        return None
    return pattern.sub(placeholder(delivery_id) if delivery_id is not None else "erased", text)
