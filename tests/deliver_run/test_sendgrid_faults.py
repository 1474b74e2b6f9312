"""A send through the SendGrid transport while the stand-in misbehaves: each recipient accepted once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from support.sendgrid_recorder import Reply, SendGridRecorder, accept, drop, rate_limited, server_error
from support.sleeps import Sleeps

from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db.tables import Delivery
from newsletter.deliver.engine.claims import worker_identity
from newsletter.deliver.engine.run import RunOptions, SendRunner
from newsletter.deliver.transports.sendgrid import SendGridTransport
from newsletter.schedule.sends import reconcile_unknown

from .helpers import add_readers, counts, exactly_once, schedule, send_status

READERS = 1_200
BATCH = 300


def runner(
    sessions: sessionmaker[Session], recorder: SendGridRecorder, signer: TokenSigner, sleeps: Sleeps
) -> SendRunner:
    transport = SendGridTransport("SG.test", host=recorder.url, timeout=5.0, sleep=sleeps)
    return SendRunner(sessions, transport, signer, worker_identity(), RunOptions(batch_size=BATCH))


@pytest.mark.parametrize(
    ("fault", "waited"),
    [(rate_limited(reset_in=3), 2.0), (server_error(500), 0.5)],
    ids=["429-then-202", "500-then-202"],
)
def test_a_refused_request_is_sent_again_and_accepted_once(
    session: Session,
    session_factory: sessionmaker[Session],
    sendgrid_recorder: SendGridRecorder,
    signer: TokenSigner,
    sleeps: Sleeps,
    fault: Reply,
    waited: float,
) -> None:
    everyone = add_readers(session, "daily-brief", READERS)
    send_id = schedule(session_factory)
    sendgrid_recorder.script(accept(), fault, accept())

    report = runner(session_factory, sendgrid_recorder, signer, sleeps).run(send_id)

    statuses = [r.status for r in sendgrid_recorder.requests]
    assert statuses == [202, fault.status, 202, 202, 202]
    assert exactly_once(sendgrid_recorder.accepted_recipients) == {}
    assert sorted(sendgrid_recorder.accepted_recipients) == everyone
    assert len(sleeps) == 1
    assert sleeps[0] >= waited  # 429: until X-RateLimit-Reset; 5xx: a jittered back-off
    assert report.status == "sent"
    assert report.counts == {"accepted": READERS}
    assert counts(session_factory, send_id) == {"accepted": READERS}


def test_a_dropped_connection_is_unknown_until_reconciled_then_sent_once(
    session: Session,
    session_factory: sessionmaker[Session],
    sendgrid_recorder: SendGridRecorder,
    signer: TokenSigner,
    sleeps: Sleeps,
) -> None:
    everyone = add_readers(session, "daily-brief", READERS)
    send_id = schedule(session_factory)
    sendgrid_recorder.script(accept(), drop())
    send = runner(session_factory, sendgrid_recorder, signer, sleeps)

    first = send.run(send_id)

    assert first.counts == {"accepted": READERS - BATCH, "unknown": BATCH}
    assert counts(session_factory, send_id) == {"accepted": READERS - BATCH, "unknown": BATCH}
    assert len(sendgrid_recorder.requests) == READERS // BATCH  # the dropped request is not repeated
    assert sleeps == []
    assert send_status(session_factory, send_id) == "sent"
    with session_factory.begin() as db:
        assert reconcile_unknown(db, send_id, requeue=False)[:2] == (BATCH, 0)
    with session_factory.begin() as db:
        assert reconcile_unknown(db, send_id, requeue=True, settled_after=timedelta(0))[:2] == (BATCH, BATCH)
    assert send_status(session_factory, send_id) == "sending"
    assert counts(session_factory, send_id) == {"accepted": READERS - BATCH, "pending": BATCH}

    second = send.run(send_id)

    assert second.counts == {"accepted": BATCH}
    assert second.status == "sent"
    assert exactly_once(sendgrid_recorder.accepted_recipients) == {}
    assert sorted(sendgrid_recorder.accepted_recipients) == everyone
    assert counts(session_factory, send_id) == {"accepted": READERS}


def test_a_rejected_request_fails_its_recipients_with_sendgrids_reason(
    session: Session,
    session_factory: sessionmaker[Session],
    sendgrid_recorder: SendGridRecorder,
    signer: TokenSigner,
    sleeps: Sleeps,
) -> None:
    add_readers(session, "daily-brief", 600)
    send_id = schedule(session_factory)
    sendgrid_recorder.script(Reply("error", 400, "The from address does not match a verified Sender", "from"))

    report = runner(session_factory, sendgrid_recorder, signer, sleeps).run(send_id)

    assert report.counts == {"failed": BATCH, "accepted": 600 - BATCH}
    assert counts(session_factory, send_id) == {"failed": BATCH, "accepted": 600 - BATCH}
    assert report.status == "sent"
    with session_factory() as db:
        details = set(db.scalars(select(Delivery.detail).where(Delivery.status == "failed")))
    assert details == {"HTTP 400: from: The from address does not match a verified Sender"}


def test_a_refused_api_key_fails_the_send_once_with_sendgrids_message_and_mails_nobody(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner, sleeps: Sleeps
) -> None:
    add_readers(session, "daily-brief", 600)
    send_id = schedule(session_factory)
    with SendGridRecorder(api_key="SG.right") as recorder:
        transport = SendGridTransport("SG.wrong", host=recorder.url, timeout=5.0, sleep=sleeps)
        runner = SendRunner(
            session_factory, transport, signer, worker_identity(), RunOptions(batch_size=BATCH)
        )

        report = runner.run(send_id)

    assert len(recorder.requests) == 1  # not once per batch, nor once per recipient
    assert sleeps == []
    assert report.status == "failed"
    assert report.error.startswith("SendGrid refused the API key or its permissions: HTTP 401")
    assert send_status(session_factory, send_id) == "failed"
    assert counts(session_factory, send_id) == {"pending": 600}  # never sent: a resumed send mails them
    with session_factory() as db:
        assert set(db.scalars(select(Delivery.attempts))) == {0}
