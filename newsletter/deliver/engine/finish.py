"""When a run is over: a send with no open batch left is `sent` (`failed` when every delivery failed);
one with batches to retry waits for the first; one whose other batches are held by other workers is left
to them. And its progress."""

from __future__ import annotations

import time

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from newsletter import clock
from newsletter.db.counters import status_counts
from newsletter.db.session import is_postgres
from newsletter.db.tables import Delivery, DeliveryBatch, Send, SendStatus
from newsletter.schedule.states import transition

OPEN_BATCH_STATES = ("pending", "claimed", "sending")
"""Batch states that keep a send from finishing."""


def finish_or_wait(sessions: sessionmaker[Session], send_id: int, max_wait_seconds: float) -> str | None:
    """The send's status when this run is over (finished, or others still hold claims); else None after
    waiting (at most `max_wait_seconds`) for the next batch due to be retried."""
    with sessions.begin() as session:
        open_batches = dict(
            session.execute(
                select(DeliveryBatch.state, func.count())
                .where(DeliveryBatch.send_id == send_id, DeliveryBatch.state.in_(OPEN_BATCH_STATES))
                .group_by(DeliveryBatch.state)
            ).all()
        )
        if not open_batches:
            send = session.get_one(Send, send_id, with_for_update=is_postgres(session))
            if send.status == "sending":
                failed_all = _every_delivery_failed(session, send_id)
                if failed_all:
                    transition(send, SendStatus.FAILED, error=failed_all)
                else:
                    transition(send, SendStatus.SENT)
            return send.status
        if not open_batches.get("pending"):
            return "sending"
        next_due = session.scalar(
            select(func.min(DeliveryBatch.not_before)).where(
                DeliveryBatch.send_id == send_id, DeliveryBatch.state == "pending"
            )
        )
    wait = 0.0 if next_due is None else (next_due - clock.now()).total_seconds()
    time.sleep(min(max(wait, 0.05), max_wait_seconds))
    return None


def _every_delivery_failed(session: Session, send_id: int) -> str | None:
    """Why the send failed when not one of its deliveries was accepted (or may have been) and some failed."""
    counts = status_counts(session, [send_id])[send_id]
    if counts.get("failed", 0) == 0 or counts.get("accepted", 0) or counts.get("unknown", 0):
        return None
    detail = session.scalar(
        select(Delivery.detail)
        .where(Delivery.send_id == send_id, Delivery.status == "failed")
        .order_by(Delivery.id.desc())
        .limit(1)
    )
    return (
        f"every delivery failed ({counts['failed']}); the last said: {detail} "
        "(fix the cause, then `newsletter retry-failed`)"
    )


def send_progress(sessions: sessionmaker[Session], send_id: int) -> tuple[int, int]:
    """(recipients in finished batches, all recipients): a few hundred batch rows, not every delivery."""
    with sessions() as session:
        done, total = session.execute(
            select(
                func.coalesce(
                    func.sum(case((DeliveryBatch.state == "done", DeliveryBatch.size), else_=0)), 0
                ),
                func.coalesce(func.sum(DeliveryBatch.size), 0),
            ).where(DeliveryBatch.send_id == send_id)
        ).one()
    return int(done), int(total)
