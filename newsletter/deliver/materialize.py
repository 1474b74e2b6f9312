"""Creating a send's delivery rows from its lists' recipients, once, in keyset batches."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from newsletter.audience.bulk import BulkInsert
from newsletter.audience.recipients import recipients
from newsletter.db.tables import Delivery, Send

COLUMNS = ("send_id", "subscriber_id", "email", "domain", "status", "attempts")


def materialize(session: Session, send: Send, *, send_list_ids: Sequence[int], batch_size: int = 5000) -> int:
    """Insert one pending delivery per current recipient (duplicates ignored); marks the send materialised."""
    total = 0
    rows = BulkInsert(session, Delivery.__table__, COLUMNS, conflict=("send_id", "email"))
    for batch in recipients(session, send_list_ids, batch_size=batch_size):
        rows.run(
            [(send.id, r.subscriber_id, r.email, r.email.rpartition("@")[2], "pending", 0) for r in batch]
        )
        total += len(batch)
    if session.get_bind().dialect.name == "postgresql":
        # The table just grew by a whole list: without fresh statistics (autovacuum may take a minute,
        # or be off) the planner can scan every delivery for each batch it claims or marks.
        session.execute(text("ANALYZE deliveries"))
    send.materialized = True
    return total
