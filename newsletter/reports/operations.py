"""What an operator watches, read from what the stages already keep: sends by state, delivery rows by
status (the status counters), batches by state, the batches each worker holds and when it last claimed,
and the progress and speed of each send in flight."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.db.counters import STATUS, status_counts
from newsletter.db.tables import DeliveryBatch, Send, SendCounter

HELD = ("claimed", "sending")
"""Batch states a worker holds."""
IN_FLIGHT = ("sending", "paused")
"""Send states whose progress is shown per send."""
OPEN = ("pending",)
"""Delivery statuses not settled yet."""


@dataclass(frozen=True)
class WorkerClaims:
    """Batches one worker holds now, and the newest of their claim times."""

    worker: str
    batches: int
    last_claim: datetime | None


@dataclass(frozen=True)
class SendInFlight:
    """A send being sent (or paused): its rows by status, and settled rows per second since it started."""

    send_id: int
    status: str
    counts: dict[str, int]
    per_second: float


@dataclass(frozen=True)
class Operations:
    """One look at the whole system."""

    sends: dict[str, int]
    deliveries: dict[str, int]
    batches: dict[str, int]
    workers: list[WorkerClaims]
    in_flight: list[SendInFlight]


def operations(session: Session) -> Operations:
    """Counts by state from a few small GROUP BYs (counter and batch rows, never delivery rows)."""
    sends = _by_key(session, select(Send.status, func.count()).group_by(Send.status))
    deliveries = _by_key(
        session,
        select(SendCounter.key, func.sum(SendCounter.value))
        .where(SendCounter.name == STATUS)
        .group_by(SendCounter.key),
    )
    batches = _by_key(session, select(DeliveryBatch.state, func.count()).group_by(DeliveryBatch.state))
    held = session.execute(
        select(DeliveryBatch.holder, func.count(), func.max(DeliveryBatch.claimed_at))
        .where(DeliveryBatch.state.in_(HELD), DeliveryBatch.holder.is_not(None))
        .group_by(DeliveryBatch.holder)
        .order_by(DeliveryBatch.holder)
    )
    workers = [WorkerClaims(str(holder), n, last) for holder, n, last in held]
    return Operations(
        sends=sends,
        deliveries=deliveries,
        batches=batches,
        workers=workers,
        in_flight=_in_flight(session),
    )


def _by_key(session: Session, query: Select[str, int]) -> dict[str, int]:
    return {str(key): int(value or 0) for key, value in session.execute(query)}


def _in_flight(session: Session) -> list[SendInFlight]:
    rows = session.execute(
        select(Send.id, Send.status, Send.started_at).where(Send.status.in_(IN_FLIGHT)).order_by(Send.id)
    )
    sends = list(rows)
    counts = status_counts(session, [send_id for send_id, _, _ in sends])
    now = clock.now()
    out = []
    for send_id, status, started_at in sends:
        mine = counts.get(send_id, {})
        settled = sum(n for state, n in mine.items() if state not in OPEN)
        seconds = (now - started_at).total_seconds() if started_at else 0.0
        out.append(SendInFlight(send_id, status, mine, settled / seconds if seconds > 0 else 0.0))
    return out
