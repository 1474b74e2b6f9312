"""Mailing lists: creating them, finding them by name or public id, and summarising them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.db.tables import MailingList, Subscription
from newsletter.errors import AudienceError, NotFound

NAME_MAX = 100


@dataclass(frozen=True)
class ListSummary:
    """One row of `newsletter lists list`."""

    name: str
    public_id: str
    visibility: str
    opt_in: str
    description: str
    active: int


def create_list(
    session: Session,
    name: str,
    *,
    double_opt_in: bool = False,
    private: bool = False,
    description: str = "",
) -> MailingList:
    """Create a list; names are unique (case-insensitively) and at most 100 characters."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise AudienceError(f"a list name must be 1 to {NAME_MAX} characters long")
    clash = session.scalar(select(MailingList).where(func.lower(MailingList.name) == name.lower()))
    if clash is not None:
        raise AudienceError(f"a list named {clash.name!r} already exists")
    mailing_list = MailingList(
        name=name,
        description=description.strip(),
        visibility="private" if private else "public",
        opt_in="double" if double_opt_in else "single",
        created_at=clock.now(),
    )
    session.add(mailing_list)
    session.commit()
    return mailing_list


def get_list(session: Session, name: str) -> MailingList:
    """The list called `name` (case-insensitive); NotFound names the lists that exist."""
    found = session.scalar(select(MailingList).where(func.lower(MailingList.name) == name.strip().lower()))
    if found is None:
        names = ", ".join(session.scalars(select(MailingList.name).order_by(MailingList.name)))
        known = f"; lists: {names}" if names else "; there are no lists yet"
        raise NotFound(f"no list named {name!r}{known}")
    return found


def get_list_by_public_id(session: Session, public_id: str) -> MailingList:
    """The list with this public id (from a form or token)."""
    found = session.scalar(select(MailingList).where(MailingList.public_id == public_id))
    if found is None:
        raise NotFound("that list does not exist (any more)")
    return found


def list_summaries(session: Session) -> list[ListSummary]:
    """Every list with its number of active subscriptions, by name."""
    active = (
        select(Subscription.list_id, func.count().label("n"))
        .where(Subscription.status == "active")
        .group_by(Subscription.list_id)
        .subquery()
    )
    query = (
        select(MailingList, func.coalesce(active.c.n, 0))
        .outerjoin(active, active.c.list_id == MailingList.id)
        .order_by(MailingList.name)
    )
    return [
        ListSummary(
            name=row.name,
            public_id=row.public_id,
            visibility=row.visibility,
            opt_in=row.opt_in,
            description=row.description,
            active=int(count),
        )
        for row, count in session.execute(query)
    ]
