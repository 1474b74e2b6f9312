"""Creating a send's delivery rows from its lists' recipients, once, in one INSERT ... SELECT."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, literal, select, text
from sqlalchemy.orm import Session

from newsletter.audience.recipients import mailable_subscribers
from newsletter.db.session import dialect_insert
from newsletter.db.tables import Delivery, Send

COLUMNS = ("send_id", "subscriber_id", "email", "domain", "status", "attempts")


def materialize(session: Session, send: Send, *, send_list_ids: Sequence[int]) -> int:
    """Insert one pending delivery per current recipient (duplicates ignored); marks the send materialised.

    The rows are made by the database from `mailable_subscribers` (INSERT ... SELECT ... ON CONFLICT
    DO NOTHING): no recipient passes through Python, so time and memory do not grow with Python objects.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    people = mailable_subscribers(send_list_ids).subquery()
    rows = select(
        literal(send.id),
        people.c.id,
        people.c.email,
        _domain(people.c.email, postgres),
        literal("pending"),
        literal(0),
    ).order_by(people.c.id)
    insert = dialect_insert(session, Delivery).from_select(list(COLUMNS), rows)
    result = session.execute(insert.on_conflict_do_nothing(index_elements=["send_id", "email"]))
    if postgres:
        # The table just grew by a whole list: without fresh statistics (autovacuum may take a minute,
        # or be off) the planner can scan every delivery for each batch it claims or marks.
        session.execute(text("ANALYZE deliveries"))
    send.materialized = True
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _domain(email: ColumnElement[str], postgres: bool) -> ColumnElement[str]:
    """What follows the "@" (stored addresses hold exactly one: quoted local parts are refused)."""
    if postgres:
        return func.split_part(email, "@", 2)
    return func.substr(email, func.instr(email, "@") + 1)
