"""A send's delivery-status counters checked against its delivery rows (a GROUP BY over `deliveries`)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from newsletter.db.counters import STATUS
from newsletter.db.tables import Delivery, SendCounter


def status_counts_of_rows(session: Session, send_id: int) -> dict[str, int]:
    """The send's delivery rows per status, counted from the rows themselves."""
    query = select(Delivery.status, func.count()).where(Delivery.send_id == send_id).group_by(Delivery.status)
    return dict(session.execute(query).all())


def status_counters(session: Session, send_id: int) -> dict[str, int]:
    """The send's status counters, zeros left out (negative ones kept: they would be a bug)."""
    query = select(SendCounter.key, SendCounter.value).where(
        SendCounter.send_id == send_id, SendCounter.name == STATUS
    )
    return {status: n for status, n in session.execute(query) if n}


def assert_status_counts_agree(sessions: Session | sessionmaker[Session], send_id: int) -> dict[str, int]:
    """Fail unless the send's status counters equal its rows' statuses; the counts.

    Given a session factory, reads through a new session (a fresh view of what was committed).
    """
    if isinstance(sessions, sessionmaker):
        with sessions() as session:
            return assert_status_counts_agree(session, send_id)
    rows = status_counts_of_rows(sessions, send_id)
    counters = status_counters(sessions, send_id)
    assert counters == rows, f"send {send_id}: status counters {counters} but delivery rows {rows}"
    return rows
