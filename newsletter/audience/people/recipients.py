"""Who gets a send: active, non-suppressed members of some lists, streamed in keyset batches."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from newsletter.db.tables import Subscriber, Subscription, Suppression


@dataclass(frozen=True, slots=True)
class Recipient:
    """One person to mail: ids for the delivery row and links, and what merge tags need."""

    subscriber_id: int
    public_id: str
    email: str
    name: str | None
    attributes: Mapping[str, Any]


def recipients(
    session: Session, list_ids: Sequence[int], *, batch_size: int = 1000
) -> Iterator[list[Recipient]]:
    """Batches of recipients in subscriber-id order, each read after the previous batch's last id.

    A subscriber is included when active on at least one of `list_ids` without a suppression
    for that list, has no global suppression, and is not blocklisted.
    """
    after = 0
    mailable = mailable_subscribers(list_ids)
    while True:
        query = mailable.where(Subscriber.id > after).order_by(Subscriber.id)
        batch = [_recipient(row) for row in session.execute(query.limit(batch_size))]
        if not batch:
            return
        yield batch
        after = batch[-1].subscriber_id


def mailable_subscribers(list_ids: Sequence[int]) -> Select[tuple[int, str, str, str | None, Any]]:
    """SELECT id, public_id, email, name, attributes FROM subscribers who may be mailed on `list_ids`.

    The one definition of "who gets a send": `recipients()` pages through it, and a send's delivery
    rows are created from it inside the database (INSERT ... SELECT) without a row passing through Python.
    """
    return select(*_COLUMNS).where(*_mailable(list_ids))


def mailable(list_ids: Sequence[int]) -> ColumnElement[bool]:
    """True for a `subscribers` row that may be mailed on `list_ids` now (for a column of a join)."""
    return and_(*_mailable(list_ids))


_COLUMNS = (
    Subscriber.id,
    Subscriber.public_id,
    Subscriber.email,
    Subscriber.name,
    Subscriber.attributes,
)


def _mailable(list_ids: Sequence[int]) -> list[ColumnElement[bool]]:
    listed = (
        select(Subscription.list_id)
        .where(
            Subscription.subscriber_id == Subscriber.id,
            Subscription.list_id.in_(list(list_ids)),
            Subscription.status == "active",
            ~_suppressed(Suppression.list_id == Subscription.list_id),
        )
        .correlate_except(Subscription)
        .exists()
    )
    return [
        Subscriber.status == "enabled",
        listed,
        ~_suppressed(Suppression.list_id.is_(None)),
    ]


def _suppressed(scope: ColumnElement[bool]) -> ColumnElement[bool]:
    """A suppression of the outer subscriber's address in `scope` (correlated explicitly, never a join)."""
    return (
        select(Suppression.id)
        .where(Suppression.email_hash == Subscriber.email_hash, scope)
        .correlate_except(Suppression)
        .exists()
    )


def _recipient(row: tuple[int, str, str, str | None, dict[str, Any]]) -> Recipient:
    subscriber_id, public_id, email, name, attributes = row
    return Recipient(subscriber_id, public_id, email, name, MappingProxyType(dict(attributes)))


def count_recipients(session: Session, list_ids: Sequence[int]) -> int:
    """How many people `recipients(list_ids)` would yield now."""
    query = select(func.count()).select_from(Subscriber).where(*_mailable(list_ids))
    return int(session.scalar(query) or 0)
