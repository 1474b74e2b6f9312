"""Unsubscribes through our own links, recorded as events of the delivery they were mailed in.

One `unsubscribe` event per delivery (`detail.source` "newsletter"), its flag and the send's counters, counted
once even when SendGrid reports the same unsubscribe; it suppresses nothing and leaves the delivery's status.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Final

import orjson
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.addresses import email_hash
from newsletter.db.counters import Deltas, add_counters
from newsletter.db.tables import Delivery
from newsletter.events import kinds
from newsletter.events.ingest import Target, count_events, count_unique
from newsletter.events.sendgrid_webhook import Event
from newsletter.events.store import insert_events

SOURCE: Final = "newsletter"
EVENT_ID_PREFIX: Final = "newsletter-unsubscribe:"
"""`sg_event_id` of our own unsubscribe events: this prefix and the delivery id (never a SendGrid id)."""

_DELIVERY = (
    select(Delivery.send_id, Delivery.email, Delivery.domain, Delivery.event_flags)
    .where(Delivery.id == bindparam("id"))
    .with_for_update(key_share=True)  # PostgreSQL: FOR NO KEY UPDATE, as ingestion locks it
)
_SET_FLAG = (
    update(Delivery)
    .where(Delivery.id == bindparam("delivery"))
    .values(event_flags=Delivery.event_flags.op("|")(kinds.UNSUBSCRIBE))
)


def own_event_id(delivery_id: int) -> str:
    """The `sg_event_id` of the unsubscribe event recorded for `delivery_id` through our own link."""
    return f"{EVENT_ID_PREFIX}{delivery_id}"


def record_own_unsubscribe(
    session: Session, delivery_id: int, *, via: str, at: datetime | None = None
) -> bool:
    """Count an unsubscribe through our link in its delivery's send; False if already counted or no such
    delivery. The caller commits."""
    connection = session.connection()
    row = connection.execute(_DELIVERY, {"id": delivery_id}).first()  # SQLite ignores FOR ... UPDATE
    if row is None:
        return False
    now = at or clock.now()
    event_id = own_event_id(delivery_id)
    detail = orjson.dumps({"source": SOURCE, "via": via}).decode()
    event = (event_id, "unsubscribe", now, now, row.send_id, delivery_id, email_hash(row.email))
    rest = (row.domain[:255], None, None, None, None, None, None, detail)
    if not insert_events(session, [event + rest]):
        return False
    connection.execute(_SET_FLAG, {"delivery": delivery_id})
    counted = Event(event_id, "unsubscribe", now, send_id=row.send_id, delivery_id=delivery_id)
    target = Target(delivery_id, row.send_id, row.domain, row.email)
    deltas: Deltas = Counter()
    count_events([(counted, target)], deltas)
    count_unique(target, row.event_flags, row.event_flags | kinds.UNSUBSCRIBE, [counted], deltas)
    add_counters(session, deltas)
    return True
