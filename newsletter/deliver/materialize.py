"""Creating a send's delivery rows from its lists' recipients, once, in keyset batches."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from newsletter.audience.recipients import recipients
from newsletter.db.session import dialect_insert
from newsletter.db.tables import Delivery, Send


def materialize(session: Session, send: Send, *, send_list_ids: Sequence[int], batch_size: int = 5000) -> int:
    """Insert one pending delivery per current recipient (duplicates ignored); marks the send materialised."""
    total = 0
    insert_rows = dialect_insert(session, Delivery).on_conflict_do_nothing(
        index_elements=["send_id", "email"]
    )
    for batch in recipients(session, send_list_ids, batch_size=batch_size):
        rows = [
            {
                "send_id": send.id,
                "subscriber_id": r.subscriber_id,
                "email": r.email,
                "domain": r.email.rpartition("@")[2],
                "status": "pending",
                "attempts": 0,
            }
            for r in batch
        ]
        session.execute(insert_rows, rows)
        total += len(rows)
    send.materialized = True
    return total
