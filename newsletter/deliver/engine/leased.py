"""SQLite's claim line: the send's one leased worker, one transaction per round.

SQLite has one writer at a time, so a send is worked on by one worker holding its lease
(`claims.acquire_lease`, renewed every round). Each round is one transaction: the previous batch's
marks, other writes, the lease renewed, the upcoming batch handed over (`claimed → sending`) and the
next batch claimed ahead with its rows read, and the status counters' upsert last. It runs in `submit`;
`collect` hands back its answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from itertools import starmap

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from newsletter.db.counters import Deltas, add_counters
from newsletter.db.tables import Delivery, DeliveryBatch, Send, Subscriber
from newsletter.deliver.engine.claims import (
    Claimed,
    ClaimedBatch,
    acquire_lease,
    claimed_columns,
    in_batch,
    take_first_due,
    unclaim,
)
from newsletter.deliver.engine.line import HANDED_OVER_FROM, Collected
from newsletter.deliver.engine.marks import BatchMarks, Write, run_marks, run_writes


def lease_name(send_id: int) -> str:
    """The name of the lease a send's one SQLite worker holds."""
    return f"send-{send_id}"


class LeasedLine:
    """One worker's rounds on one send (SQLite), each its own committed transaction."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        send_id: int,
        me: str,
        *,
        list_ids: Sequence[int] | None,
        lease_seconds: float,
    ) -> None:
        self._sessions = sessions
        self._send_id = send_id
        self._me = me
        self._list_ids = list_ids
        self._lease_seconds = lease_seconds
        self._answer: Collected | None = None

    def __enter__(self) -> LeasedLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self._answer = None
        self.release()

    def submit(
        self,
        marks: BatchMarks | None,
        writes: Sequence[Write],
        *,
        hand_over: int | None,
        claim: bool,
        now: datetime,
    ) -> None:
        """Run the whole round now, in one transaction."""
        if self._answer is not None:
            raise RuntimeError("collect() the previous round first")
        with self._sessions.begin() as session:
            deltas: Deltas = Counter()
            if marks is not None:
                run_marks(session, marks, deltas)
            run_writes(session, writes, self._send_id, deltas)
            status = session.scalar(select(Send.status).where(Send.id == self._send_id)) or ""
            held = acquire_lease(session, lease_name(self._send_id), self._me, self._lease_seconds)
            go = held and status == "sending"
            handed_over = go and hand_over is not None and self._hand_over(session, hand_over, now)
            claimed = self._claim(session, now) if go and claim else None
            add_counters(session, deltas)
        self._answer = Collected(handed_over, claimed, status, held)

    def collect(self) -> Collected:
        """The answer of the round `submit` ran."""
        if self._answer is None:
            raise RuntimeError("nothing submitted")
        answer, self._answer = self._answer, None
        return answer

    def release(self) -> None:
        """Put this worker's batches claimed ahead back to pending (committed)."""
        with self._sessions.begin() as session:
            session.execute(
                unclaim(
                    DeliveryBatch.send_id == self._send_id,
                    DeliveryBatch.holder == self._me,
                    DeliveryBatch.state == "claimed",
                )
            )

    def _hand_over(self, session: Session, batch_id: int, now: datetime) -> bool:
        result = session.connection().execute(
            update(DeliveryBatch)
            .where(
                DeliveryBatch.id == batch_id,
                DeliveryBatch.holder == self._me,
                DeliveryBatch.state.in_(HANDED_OVER_FROM),
            )
            .values(state="sending", claimed_at=now)
        )
        return bool(result.rowcount)

    def _claim(self, session: Session, now: datetime) -> ClaimedBatch | None:
        connection = session.connection()
        take = take_first_due(self._send_id, self._me, state="claimed", now=now, skip_locked=False)
        taken = connection.execute(take).first()
        if taken is None:
            return None
        batch_id, first_id, last_id, attempts = taken
        rows = connection.execute(
            select(*claimed_columns(self._list_ids))
            .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(in_batch(self._send_id, first_id, last_id), Delivery.status == "pending")
            .order_by(Delivery.id)
        ).all()
        return ClaimedBatch(
            batch_id, self._send_id, first_id, last_id, attempts, list(starmap(Claimed, rows))
        )
