"""Who is in a segment: its SQL condition, the mailable readers who meet it, their count and a sample.

`segment_condition` is what a send uses to fix its recipients when it starts: a condition on the
`subscribers` row, to add to `people.recipients.mailable_subscribers(list_ids)` (as
`matching_subscribers` does), so materialising stays one INSERT ... SELECT. List names in `in_list`
are resolved here (an unknown one is a located error); windows are measured back from `now`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.people.recipients import mailable_subscribers
from newsletter.audience.segments.compile import SqlContext, compile_condition
from newsletter.content.segments.checked import (
    Condition,
    Conjunction,
    Disjunction,
    InList,
    ListName,
    Negation,
    Segment,
)
from newsletter.db.session import is_postgres
from newsletter.db.tables import MailingList, Subscriber
from newsletter.errors import SegmentError

UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class Member:
    """One reader of a segment's sample: address, name and attributes."""

    email: str
    name: str | None
    attributes: dict[str, Any]


def segment_condition(
    session: Session,
    segment: Segment,
    *,
    list_ids: Sequence[int] | None = None,
    zone: ZoneInfo = UTC_ZONE,
    now: datetime | None = None,
) -> ColumnElement[bool]:
    """The condition on `subscribers` rows that holds for the readers in `segment`, bound to `now`.

    `list_ids` scope subscription dates and consent (a send's lists); dates are days in `zone`.
    """
    context = SqlContext(
        postgres=is_postgres(session),
        now=now or clock.now(),
        zone=zone,
        list_ids=None if list_ids is None else tuple(list_ids),
        lists=resolve_lists(session, segment),
    )
    return compile_condition(segment.condition, context)


def matching_subscribers(
    session: Session,
    segment: Segment,
    list_ids: Sequence[int] | None,
    *,
    zone: ZoneInfo = UTC_ZONE,
    now: datetime | None = None,
) -> Select[tuple[int, str, str, str | None, Any]]:
    """`mailable_subscribers` (on `list_ids`, or on any list when None) narrowed to the segment."""
    lists = audience_lists(session, list_ids)
    condition = segment_condition(session, segment, list_ids=list_ids, zone=zone, now=now)
    return mailable_subscribers(lists).where(condition)


def count_matching(
    session: Session,
    segment: Segment,
    list_ids: Sequence[int] | None,
    *,
    zone: ZoneInfo = UTC_ZONE,
    now: datetime | None = None,
) -> int:
    """How many mailable readers are in the segment now."""
    query = matching_subscribers(session, segment, list_ids, zone=zone, now=now)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def sample_matching(
    session: Session,
    segment: Segment,
    list_ids: Sequence[int] | None,
    *,
    limit: int = 10,
    zone: ZoneInfo = UTC_ZONE,
    now: datetime | None = None,
) -> list[Member]:
    """The first `limit` mailable readers in the segment, oldest subscriber first."""
    query = matching_subscribers(session, segment, list_ids, zone=zone, now=now)
    rows = session.execute(query.order_by(Subscriber.id).limit(limit))
    return [Member(email, name, dict(attributes or {})) for _id, _public, email, name, attributes in rows]


def audience_lists(session: Session, list_ids: Sequence[int] | None) -> list[int]:
    """The lists a segment is counted on: those given, or every list."""
    if list_ids is not None:
        return list(list_ids)
    return list(session.scalars(select(MailingList.id).order_by(MailingList.id)))


def resolve_lists(session: Session, segment: Segment) -> dict[str, int]:
    """Each list named by `in_list(...)` (lower-case) → its id; an unknown name is a located error."""
    named = _list_names(segment.condition)
    if not named:
        return {}
    wanted = sorted({item.name.lower() for item in named})
    query = select(func.lower(MailingList.name), MailingList.id).where(
        func.lower(MailingList.name).in_(wanted)
    )
    found: dict[str, int] = {str(name): int(list_id) for name, list_id in session.execute(query)}
    missing = [item for item in named if item.name.lower() not in found]
    if missing:
        known = ", ".join(session.scalars(select(MailingList.name).order_by(MailingList.name)))
        lists = f"; lists: {known}" if known else "; there are no lists yet"
        where = segment.where
        raise SegmentError(
            [where.problem(item.line, item.col, f"no list named {item.name!r}{lists}") for item in missing]
        )
    return found


def _list_names(condition: Condition) -> list[ListName]:
    names: list[ListName] = []
    stack: list[Condition] = [condition]
    while stack:
        node = stack.pop()
        if isinstance(node, InList):
            names.extend(node.lists)
        elif isinstance(node, Negation):
            stack.append(node.operand)
        elif isinstance(node, Conjunction | Disjunction):
            stack.extend(node.operands)
    return names
