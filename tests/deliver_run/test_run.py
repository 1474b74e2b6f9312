"""SendRunner in-process: suppressions checked at claim time, merge values per recipient, crash recovery."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from support.sendgrid_recorder import SendGridRecorder
from support.smtp_server import SmtpServer
from support.tokens import unsubscribe_token as link_token

from newsletter import clock, services
from newsletter.audience.people.lists import get_list
from newsletter.audience.people.subscribers import erase_subscriber
from newsletter.audience.people.suppressions import add_suppression
from newsletter.audience.readers.one_click import one_click_unsubscribe
from newsletter.audience.readers.preferences import unsubscribe
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.config import load_settings
from newsletter.db.tables import Delivery, DeliveryBatch, Subscriber
from newsletter.deliver.engine.claims import (
    UNKNOWN_AFTER_CRASH,
    acquire_lease,
    release_lease,
    worker_identity,
)
from newsletter.deliver.engine.run import RunOptions, SendRunner
from newsletter.deliver.transports.base import DeliveryResult, OutgoingBatch, Transport
from newsletter.deliver.transports.memory import MemoryTransport
from newsletter.deliver.transports.outbox import OutboxTransport
from newsletter.deliver.transports.sendgrid import SendGridTransport
from newsletter.deliver.transports.smtp import SmtpTransport
from newsletter.errors import ProviderRefused
from newsletter.worker import run_due

from .helpers import add_readers, counts, exactly_once, reader_address, schedule, send_status, statuses

DEAD_WORKER = "{host}:999999999:dead00"  # no process has this pid: the claim's holder is gone


def make_runner(
    sessions: sessionmaker[Session], transport: Transport, signer: TokenSigner, batch_size: int = 10
) -> SendRunner:
    return SendRunner(sessions, transport, signer, worker_identity(), RunOptions(batch_size=batch_size))


def unsubscribe_token(session: Session, signer: TokenSigner, email: str) -> str:
    """The one-click token in the footer of an earlier issue this reader got."""
    public_id = session.scalar(select(Subscriber.public_id).where(Subscriber.email == email))
    assert public_id is not None
    return link_token(signer, public_id, [get_list(session, "daily-brief").public_id])


def test_who_left_after_scheduling_but_before_their_batch_was_claimed_is_not_mailed(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner
) -> None:
    everyone = add_readers(session, "daily-brief", 30)
    send_id = schedule(session_factory, transport="memory")
    transport = MemoryTransport()
    runner = make_runner(session_factory, transport, signer)
    runner.should_stop = lambda: len(transport.batches) == 1  # stop after the first batch

    assert runner.run(send_id).status == "sending"
    one_click_unsubscribe(session, signer, unsubscribe_token(session, signer, reader_address(25)))
    unsubscribe(session, signer, unsubscribe_token(session, signer, reader_address(3)))  # already mailed
    add_suppression(session, reader_address(15), "hard_bounce", source="test")
    session.commit()
    erase_subscriber(session, reader_address(28))
    runner.should_stop = lambda: False
    report = runner.run(send_id)

    left = {reader_address(n) for n in (15, 25, 28)}
    assert {m.to for m in transport.delivered} == set(everyone) - left
    assert exactly_once(m.to for m in transport.delivered) == {}
    assert report.counts == {"accepted": 17, "skipped": 2}  # erasure itself skipped the third
    assert report.status == "sent"
    rows = statuses(session_factory, send_id)
    assert {rows[email] for email in left - {reader_address(28)}} == {"skipped"}
    assert reader_address(28) not in rows  # erased: the delivery keeps a placeholder address
    assert [status for email, status in rows.items() if email.endswith("@erased.invalid")] == ["skipped"]
    assert rows[reader_address(3)] == "accepted"
    assert counts(session_factory, send_id) == {"accepted": 27, "skipped": 3}


class ErasedInFlight(MemoryTransport):
    """Erases `victim` while the request carrying them is in flight, then answers for the request as a
    whole (one message id, as SendGrid does): accepted, except the addresses in `failing`."""

    def __init__(self, sessions: sessionmaker[Session], victim: str, failing: tuple[str, ...]) -> None:
        super().__init__()
        self._sessions, self._victim, self._failing = sessions, victim, failing

    def send_batch(self, batch: OutgoingBatch) -> list[DeliveryResult]:
        if any(envelope.email == self._victim for envelope in batch.envelopes):
            with self._sessions() as session:
                erase_subscriber(session, self._victim)  # commits
        return [
            DeliveryResult(e.delivery_id, "failed", None, "550 no")
            if e.email in self._failing
            else DeliveryResult(e.delivery_id, "accepted", "request-1", "")
            for e in batch.envelopes
        ]


@pytest.mark.parametrize(
    "failing",
    [(), (reader_address(2), reader_address(4))],
    ids=["one-answer-for-the-batch", "an-answer-per-outcome"],
)
def test_someone_erased_while_their_request_is_in_flight_stays_skipped_and_the_counts_agree(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner, failing: tuple[str, ...]
) -> None:
    add_readers(session, "daily-brief", 6)
    send_id = schedule(session_factory, transport="memory")
    transport = ErasedInFlight(session_factory, reader_address(3), failing)

    report = make_runner(session_factory, transport, signer).run(send_id)

    assert report.status == "sent"
    rows = statuses(session_factory, send_id)
    assert [status for email, status in rows.items() if email.endswith("@erased.invalid")] == ["skipped"]
    accepted = {"accepted": 5 - len(failing)}
    assert counts(session_factory, send_id) == {
        **accepted,
        "skipped": 1,
        **({"failed": 2} if failing else {}),
    }


class RefusedAfterTwo(MemoryTransport):
    """Settles a batch's first two envelopes (one failed, one accepted), then refuses the account."""

    def send_batch(self, batch: OutgoingBatch) -> list[DeliveryResult]:
        first, second = batch.envelopes[:2]
        settled = [
            DeliveryResult(first.delivery_id, "failed", None, "missing merge value"),
            DeliveryResult(second.delivery_id, "accepted", "request-1", ""),
        ]
        raise ProviderRefused("HTTP 401: the API key was refused", settled)


def test_rows_settled_before_the_provider_refused_the_account_are_counted(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner
) -> None:
    add_readers(session, "daily-brief", 5)
    send_id = schedule(session_factory, transport="memory")

    report = make_runner(session_factory, RefusedAfterTwo(), signer).run(send_id)

    assert (report.status, report.counts) == ("failed", {"failed": 1, "accepted": 1})
    assert counts(session_factory, send_id) == {"failed": 1, "accepted": 1, "pending": 3}


def test_who_left_before_the_send_started_gets_no_delivery_at_all(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner
) -> None:
    add_readers(session, "daily-brief", 5)
    send_id = schedule(session_factory, transport="memory")
    one_click_unsubscribe(session, signer, unsubscribe_token(session, signer, reader_address(2)))
    transport = MemoryTransport()

    make_runner(session_factory, transport, signer).run(send_id)

    assert reader_address(2) not in statuses(session_factory, send_id)
    assert sorted(m.to for m in transport.delivered) == [reader_address(n) for n in (1, 3, 4, 5)]
    assert counts(session_factory, send_id) == {"accepted": 4}


def test_each_reader_gets_one_smtp_message_with_their_own_values_and_unsubscribe_link(
    session: Session,
    session_factory: sessionmaker[Session],
    signer: TokenSigner,
    smtp_server: SmtpServer,
) -> None:
    everyone = add_readers(session, "daily-brief", 12)
    list_public_id = get_list(session, "daily-brief").public_id
    public_ids = dict(session.execute(select(Subscriber.email, Subscriber.public_id)).all())
    send_id = schedule(session_factory, transport="smtp")

    report = make_runner(session_factory, SmtpTransport.from_url(smtp_server.url()), signer, 5).run(send_id)

    assert report.counts == {"accepted": 12}
    assert sorted(r for received in smtp_server.received for r in received.rcpt_tos) == everyone
    for n, email in enumerate(everyone, 1):
        (message,) = smtp_server.messages_to(email)
        assert message["To"] == email
        assert message["Subject"] == f"Ann{n}, a short walk after dinner"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert text.startswith(f"Hello Ann{n},")
        assert f"Sent to {email}." in html
        link = message["List-Unsubscribe"].strip("<>")
        assert f'href="{link}"' in html
        assert f"Unsubscribe: {link}" in text
        token = link.rsplit("/", 1)[1]
        assert signer.read_unsubscribe(token) == (public_ids[email], (list_public_id,))
    assert statuses(session_factory, send_id) == dict.fromkeys(everyone, "accepted")
    assert counts(session_factory, send_id) == {"accepted": 12}


def start_without_sending(runner: SendRunner, send_id: int) -> None:
    """Run the send's start only (its rows made and cut into batches), as a worker stopped at once would."""
    should_stop, runner.should_stop = runner.should_stop, lambda: True
    runner.run(send_id)
    runner.should_stop = should_stop


def claim_first_batch_as(
    sessions: sessionmaker[Session], send_id: int, holder: str, state: str = "sending"
) -> list[str]:
    """Leave the first batch `sending` held by `holder`, as a worker mid-request leaves it; its rows.

    With state="claimed": as a PostgreSQL worker leaves the batch it claimed ahead (nothing sent).
    """
    with sessions.begin() as session:
        batch = session.scalars(
            select(DeliveryBatch).where(DeliveryBatch.send_id == send_id).order_by(DeliveryBatch.id)
        ).first()
        assert batch is not None
        batch.state, batch.holder, batch.claimed_at, batch.attempts = state, holder, clock.now(), 1
        rows = select(Delivery.email).where(Delivery.id.between(batch.first_id, batch.last_id))
        return sorted(session.scalars(rows))


def leave_claimed_by_a_dead_worker(sessions: sessionmaker[Session], send_id: int, emails: list[str]) -> None:
    """The state a worker killed mid-request leaves: its batch (`emails`) still `sending`, held by it."""
    assert claim_first_batch_as(sessions, send_id, DEAD_WORKER.format(host=socket.gethostname())) == emails


def test_a_dead_workers_claims_are_rewritten_by_an_idempotent_transport(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner, tmp_path: Path
) -> None:
    everyone = add_readers(session, "daily-brief", 6)
    send_id = schedule(session_factory, transport="outbox")
    outbox = OutboxTransport(tmp_path)
    runner = make_runner(session_factory, outbox, signer, 3)
    start_without_sending(runner, send_id)
    leave_claimed_by_a_dead_worker(session_factory, send_id, everyone[:3])

    report = runner.run(send_id)

    assert report.counts == {"accepted": 6}
    assert statuses(session_factory, send_id) == dict.fromkeys(everyone, "accepted")
    assert counts(session_factory, send_id) == {"accepted": 6}
    assert len(list((tmp_path / f"send-{send_id}").glob("*.eml"))) == 6


def test_a_dead_workers_claims_are_unknown_with_sendgrid_and_not_resent(
    session: Session,
    session_factory: sessionmaker[Session],
    signer: TokenSigner,
    sendgrid_recorder: SendGridRecorder,
) -> None:
    everyone = add_readers(session, "daily-brief", 6)
    send_id = schedule(session_factory)
    runner = make_runner(session_factory, SendGridTransport("SG.test", host=sendgrid_recorder.url), signer, 3)
    start_without_sending(runner, send_id)
    leave_claimed_by_a_dead_worker(session_factory, send_id, everyone[:3])

    report = runner.run(send_id)

    assert report.counts == {"accepted": 3}
    assert sendgrid_recorder.accepted_recipients == everyone[3:]
    assert counts(session_factory, send_id) == {"unknown": 3, "accepted": 3}
    with session_factory() as db:
        assert set(db.scalars(select(Delivery.detail).where(Delivery.status == "unknown"))) == {
            UNKNOWN_AFTER_CRASH
        }
    assert send_status(session_factory, send_id) == "sent"


def test_a_batch_a_dead_worker_claimed_ahead_is_sent_by_the_next_worker_not_given_up_as_unknown(
    session: Session,
    session_factory: sessionmaker[Session],
    signer: TokenSigner,
    sendgrid_recorder: SendGridRecorder,
) -> None:
    everyone = add_readers(session, "daily-brief", 6)
    send_id = schedule(session_factory)
    runner = make_runner(session_factory, SendGridTransport("SG.test", host=sendgrid_recorder.url), signer, 3)
    start_without_sending(runner, send_id)
    dead = DEAD_WORKER.format(host=socket.gethostname())
    assert claim_first_batch_as(session_factory, send_id, dead, state="claimed") == everyone[:3]

    report = runner.run(send_id)

    assert report.counts == {"accepted": 6}
    assert sorted(sendgrid_recorder.accepted_recipients) == everyone
    assert counts(session_factory, send_id) == {"accepted": 6}
    with session_factory() as db:  # the dead worker's claim was taken back, not counted as an attempt
        assert db.scalars(select(DeliveryBatch.attempts).order_by(DeliveryBatch.id)).all() == [1, 1]


def test_a_worker_told_to_stop_leaves_no_batch_claimed_and_the_next_run_sends_the_rest_once(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner
) -> None:
    everyone = add_readers(session, "daily-brief", 30)
    send_id = schedule(session_factory, transport="memory")
    transport = MemoryTransport()
    runner = make_runner(session_factory, transport, signer)
    runner.should_stop = lambda: len(transport.batches) == 1

    assert runner.run(send_id).status == "sending"

    with session_factory() as db:
        batches = db.execute(
            select(DeliveryBatch.state, DeliveryBatch.attempts, DeliveryBatch.holder).order_by(
                DeliveryBatch.id
            )
        ).all()
    assert [tuple(b) for b in batches] == [("done", 1, None), ("pending", 0, None), ("pending", 0, None)]
    runner.should_stop = lambda: False
    assert runner.run(send_id).status == "sent"
    assert exactly_once(m.to for m in transport.delivered) == exactly_once(everyone)


def test_on_postgresql_a_live_workers_claims_are_left_to_it_until_stale(
    backend: str, session: Session, session_factory: sessionmaker[Session], signer: TokenSigner
) -> None:
    if backend != "postgresql":
        pytest.skip("several workers share a send on PostgreSQL only (SQLite: one leased worker)")
    everyone = add_readers(session, "daily-brief", 6)
    send_id = schedule(session_factory, transport="memory")
    transport = MemoryTransport()
    runner = make_runner(session_factory, transport, signer, 3)
    start_without_sending(runner, send_id)
    assert claim_first_batch_as(session_factory, send_id, "other-host:42:abcdef") == everyone[:3]

    first = runner.run(send_id)

    assert first.status == "sending"  # the other worker is still busy with its batch
    assert sorted(m.to for m in transport.delivered) == everyone[3:]
    with session_factory.begin() as db:  # ... until its claim is older than stale_after_seconds
        db.execute(
            update(DeliveryBatch)
            .where(DeliveryBatch.state == "sending")
            .values(claimed_at=clock.now() - timedelta(hours=1))
        )
    second = runner.run(send_id)
    assert second.status == "sent"
    assert counts(session_factory, send_id) == {"unknown": 3, "accepted": 3}


def test_a_retry_goes_back_to_pending_after_a_back_off_and_gives_up_after_max_attempts(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner
) -> None:
    add_readers(session, "daily-brief", 3)
    send_id = schedule(session_factory, transport="memory")
    transport = MemoryTransport()
    transport.script(reader_address(1), "retry", detail="451 4.7.1 try again later")
    transport.script(reader_address(2), "retry", "retry", "retry", detail="421 busy")
    options = RunOptions(batch_size=10, max_attempts=3, retry_base_seconds=0.05, max_idle_wait_seconds=0.2)
    runner = SendRunner(session_factory, transport, signer, worker_identity(), options)

    report = runner.run(send_id)

    assert report.status == "sent"
    assert report.counts == {"accepted": 2, "retry": 3, "failed": 1}
    assert [m.to for m in transport.delivered] == [reader_address(3), reader_address(1)]
    with session_factory() as db:
        rows = {r.email: r for r in db.scalars(select(Delivery).where(Delivery.send_id == send_id))}
    assert (rows[reader_address(1)].status, rows[reader_address(1)].attempts) == ("accepted", 2)
    failed = rows[reader_address(2)]
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert failed.detail == "gave up after 3 attempts: 421 busy"
    assert counts(session_factory, send_id) == {"accepted": 2, "failed": 1}


def test_on_sqlite_one_worker_holds_a_send_and_another_leaves_it_alone(
    backend: str,
    database_url: str,
    session: Session,
    session_factory: sessionmaker[Session],
    signer: TokenSigner,
) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL shares a send between workers")
    add_readers(session, "daily-brief", 3)
    send_id = schedule(session_factory, transport="memory")
    other = worker_identity()  # a live worker (this process) holding the send's lease
    with session_factory.begin() as db:
        assert acquire_lease(db, f"send-{send_id}", other, 60)
    transport = MemoryTransport()

    with services.build(load_settings(database_url=database_url)) as svc:
        reports = run_due(svc, make_runner(svc.sessions, transport, signer))  # returns: no busy loop

    assert [(r.send_id, r.status, r.counts) for r in reports] == [(send_id, "scheduled", {})]
    assert transport.batches == []
    with session_factory.begin() as db:
        release_lease(db, f"send-{send_id}", other)
    assert make_runner(session_factory, transport, signer).run(send_id).status == "sent"
    assert counts(session_factory, send_id) == {"accepted": 3}
