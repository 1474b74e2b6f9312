"""Creating a send's delivery rows from its lists' recipients, once, in one INSERT ... SELECT."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import ColumnElement, func, insert, literal, select
from sqlalchemy.orm import Session

from newsletter.audience.people.recipients import mailable_subscribers
from newsletter.db.counters import Deltas, status_added
from newsletter.db.session import is_postgres
from newsletter.db.tables import Delivery, Send
from newsletter.db.triggers import foreign_keys_proven

COLUMNS = ("send_id", "subscriber_id", "email", "domain", "status", "attempts")


class IdRun(NamedTuple):
    """The ids a statement made: lowest, highest and how many (in one run when `made` fills the span)."""

    first: int
    last: int
    made: int


def materialize(session: Session, send: Send, *, send_list_ids: Sequence[int], deltas: Deltas) -> IdRun:
    """Insert one pending delivery per current recipient; marks the send materialised; the ids made.

    The rows are made by the database from `mailable_subscribers` (INSERT ... SELECT): no recipient
    passes through Python, so time and memory do not grow with Python objects. The ids come back
    without a pass over the rows (SQLite: the statement's last rowid and count, one writer making
    them in a row; PostgreSQL: min, max and count of the INSERT's RETURNING, in the same statement).
    They are added to `deltas` as pending; the caller adds those to the status counters before it commits.
    """
    postgres = is_postgres(session)
    people = mailable_subscribers(send_list_ids).subquery()
    rows = select(
        literal(send.id),
        people.c.id,
        people.c.email,
        _domain(people.c.email, postgres),
        literal("pending"),
        literal(0),
    ).order_by(people.c.id)
    insert_rows = insert(Delivery).from_select(list(COLUMNS), rows)
    # No ON CONFLICT: subscribers' addresses are unique and this runs once per send, under its lock
    # (the unique index still guards it); PostgreSQL's speculative insertion cost ~15% more.
    # The send's foreign key is proven: its row is locked FOR UPDATE by the caller's transaction.
    with foreign_keys_proven(session):
        if postgres:
            made = insert_rows.returning(Delivery.id).cte("made")
            first, last, count = session.execute(
                select(func.min(made.c.id), func.max(made.c.id), func.count()).select_from(made)
            ).one()
            run = IdRun(first or 0, last or 0, count)
        else:
            result = session.execute(insert_rows)
            count = int(result.rowcount or 0)  # type: ignore[attr-defined]
            last = int(result.lastrowid or 0) if count else 0  # type: ignore[attr-defined]
            run = IdRun(last - count + 1 if count else 0, last, count)
    send.materialized = True
    status_added(deltas, send.id, "pending", run.made)
    return run


def _domain(email: ColumnElement[str], postgres: bool) -> ColumnElement[str]:
    """What follows the "@" (stored addresses hold exactly one: quoted local parts are refused)."""
    if postgres:
        return func.split_part(email, "@", 2)
    return func.substr(email, func.instr(email, "@") + 1)
