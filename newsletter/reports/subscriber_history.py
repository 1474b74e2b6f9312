"""One subscriber's mail history for staff: their deliveries and the provider events about them, paged.

Deliveries are found by `deliveries.subscriber_id` (indexed) and events through their delivery
(`events.delivery_id`, indexed), newest first. A page holds at most PAGE_SIZE rows and says how many
there are in all, so a reader of ten years of daily issues costs one page of rows, not ten years.
After a GDPR erasure the deliveries keep no subscriber id, so nothing is shown for that person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.db.tables import Delivery, Event, Send
from newsletter.events.own_unsubscribe import EVENT_ID_PREFIX

PAGE_SIZE: Final = 50
Row = TypeVar("Row")


@dataclass(frozen=True)
class Page(Generic[Row]):
    """Rows of one page (1-based) out of `total`."""

    rows: list[Row]
    page: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        """How many pages there are (at least 1)."""
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True)
class DeliveryLine:
    """One issue sent (or being sent) to the subscriber."""

    send_id: int
    issue_slug: str
    subject: str
    is_test: bool
    status: str
    outcome: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class EventLine:
    """One event about one of the subscriber's deliveries: `source` is "sendgrid", or "newsletter" for an
    unsubscribe through our own link (see events.own_unsubscribe)."""

    type: str
    occurred_at: datetime
    send_id: int
    issue_slug: str
    url: str | None
    bounce_type: str | None
    classification: str | None
    source: str


def deliveries_page(session: Session, subscriber_id: int, page: int = 1) -> Page[DeliveryLine]:
    """The subscriber's deliveries, newest first."""
    where = Delivery.subscriber_id == subscriber_id
    query = (
        select(
            Send.id.label("send_id"),
            Send.issue_slug,
            Send.subject,
            Send.is_test,
            Delivery.status,
            Delivery.outcome,
            Delivery.sent_at,
        )
        .join(Send, Send.id == Delivery.send_id)
        .where(where)
        .order_by(Delivery.id.desc())
    )
    total = session.scalar(select(func.count()).select_from(Delivery).where(where)) or 0
    page = _clamp(page, total)
    found = session.execute(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    return Page([DeliveryLine(**row._asdict()) for row in found], page, total)


def events_page(session: Session, subscriber_id: int, page: int = 1) -> Page[EventLine]:
    """Provider events about the subscriber's deliveries, newest first (by when they happened)."""
    joined = select(Event.id).join(Delivery, Delivery.id == Event.delivery_id)
    where = Delivery.subscriber_id == subscriber_id
    query = (
        select(
            Event.type,
            Event.occurred_at,
            Delivery.send_id,
            Send.issue_slug,
            Event.url,
            Event.bounce_type,
            Event.classification,
            Event.sg_event_id,
        )
        .join(Delivery, Delivery.id == Event.delivery_id)
        .join(Send, Send.id == Delivery.send_id)
        .where(where)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
    )
    total = session.scalar(select(func.count()).select_from(joined.where(where).subquery())) or 0
    page = _clamp(page, total)
    found = session.execute(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    return Page([_event_line(**row._asdict()) for row in found], page, total)


def _event_line(sg_event_id: str, **fields: Any) -> EventLine:
    source = "newsletter" if sg_event_id.startswith(EVENT_ID_PREFIX) else "sendgrid"
    return EventLine(**fields, source=source)


def _clamp(page: int, total: int) -> int:
    return min(max(1, page), max(1, -(-total // PAGE_SIZE)))
