"""Pausing, resuming and cancelling a send while a worker is in the middle of it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from deliver_run.helpers import add_readers, counts, exactly_once, schedule, send_status
from sqlalchemy.orm import Session, sessionmaker

from newsletter.audience.readers.tokens import TokenSigner
from newsletter.deliver.engine.claims import worker_identity
from newsletter.deliver.engine.run import RunOptions, SendRunner
from newsletter.deliver.transports.base import DeliveryResult, OutgoingBatch
from newsletter.deliver.transports.memory import MemoryTransport
from newsletter.errors import ScheduleError
from newsletter.schedule import sends

READERS = 50
BATCH = 10

Action = Callable[[Session, int], object]


class SomeoneActsDuringBatch(MemoryTransport):
    """During its batch number `during`, someone runs `action` on the send (from another terminal)."""

    def __init__(self, sessions: sessionmaker[Session], send_id: int, action: Action, during: int) -> None:
        super().__init__(max_batch_size=BATCH)
        self._sessions, self._send_id, self._action, self._during = sessions, send_id, action, during

    def send_batch(self, batch: OutgoingBatch) -> list[DeliveryResult]:
        if len(self.batches) + 1 == self._during:
            with self._sessions.begin() as session:
                self._action(session, self._send_id)
        return super().send_batch(batch)


def runner(sessions: sessionmaker[Session], transport: MemoryTransport, signer: TokenSigner) -> SendRunner:
    return SendRunner(sessions, transport, signer, worker_identity(), RunOptions(batch_size=BATCH))


def test_pause_lets_the_batch_in_flight_finish_then_stops_and_resume_continues_where_it_stopped(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner
) -> None:
    everyone = add_readers(session, "daily-brief", READERS)
    send_id = schedule(session_factory, transport="memory")
    transport = SomeoneActsDuringBatch(session_factory, send_id, sends.pause, during=2)

    paused = runner(session_factory, transport, signer).run(send_id)

    assert paused.status == "paused"
    assert len(transport.batches) == 2  # the batch in flight went out; no third was claimed
    assert counts(session_factory, send_id) == {"accepted": 2 * BATCH, "pending": READERS - 2 * BATCH}
    with session_factory() as db:
        assert send_id not in sends.due_sends(db)  # workers leave a paused send alone
    assert runner(session_factory, transport, signer).run(send_id).status == "paused"
    assert len(transport.batches) == 2

    with session_factory.begin() as db:
        sends.resume(db, send_id)
    resumed = runner(session_factory, transport, signer).run(send_id)

    assert resumed.status == "sent"
    assert resumed.counts == {"accepted": READERS - 2 * BATCH}
    assert exactly_once(m.to for m in transport.delivered) == {}
    assert sorted(m.to for m in transport.delivered) == everyone
    assert counts(session_factory, send_id) == {"accepted": READERS}


def test_cancel_stops_after_the_batch_in_flight_and_nobody_else_is_mailed(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner
) -> None:
    add_readers(session, "daily-brief", READERS)
    send_id = schedule(session_factory, transport="memory")
    transport = SomeoneActsDuringBatch(session_factory, send_id, sends.cancel, during=3)

    report = runner(session_factory, transport, signer).run(send_id)
    again = runner(session_factory, transport, signer).run(send_id)

    assert (report.status, again.status) == ("cancelled", "cancelled")
    assert len(transport.delivered) == 3 * BATCH
    assert counts(session_factory, send_id) == {"accepted": 3 * BATCH, "pending": READERS - 3 * BATCH}
    assert send_status(session_factory, send_id) == "cancelled"
    with session_factory.begin() as db, pytest.raises(ScheduleError, match="is cancelled; cannot resume it"):
        sends.resume(db, send_id)


def test_a_send_paused_before_it_started_does_not_start(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner
) -> None:
    add_readers(session, "daily-brief", 3)
    send_id = schedule(session_factory, transport="memory")
    with session_factory.begin() as db:
        sends.pause(db, send_id)
    transport = MemoryTransport()

    report = runner(session_factory, transport, signer).run(send_id)

    assert report.status == "paused"
    assert transport.batches == []
    assert counts(session_factory, send_id) == {}  # not even materialised
