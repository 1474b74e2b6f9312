"""Two `newsletter worker --once` processes share one send on PostgreSQL (FOR UPDATE SKIP LOCKED claims)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker
from support.sendgrid_recorder import SendGridRecorder, stall

from .helpers import (
    Workers,
    accepted_counts,
    add_readers,
    cli_environment,
    counts,
    exactly_once,
    schedule,
    send_status,
)

READERS = 5_000
BATCH = 250


def test_two_workers_share_one_send_without_overlap(
    backend: str,
    session: Session,
    session_factory: sessionmaker[Session],
    database_url: str,
    sendgrid_recorder: SendGridRecorder,
    worker_processes: Workers,
) -> None:
    if backend != "postgresql":
        pytest.skip("on SQLite one leased worker runs a send")
    everyone = add_readers(session, "daily-brief", READERS)
    send_id = schedule(session_factory)
    sendgrid_recorder.script(*[stall(0.1)] * (READERS // BATCH))  # slow answers: the workers overlap
    env = cli_environment(
        database_url,
        NEWSLETTER_TRANSPORT="sendgrid",
        NEWSLETTER_SENDGRID_HOST=sendgrid_recorder.url,
        SENDGRID_API_KEY="SG.test",
    )

    started = [worker_processes.start(env, "--batch-size", str(BATCH)) for _ in range(2)]
    outputs = [worker_processes.finish(process) for process in started]

    shares = [accepted_counts(out) for out in outputs]
    assert sum(shares) == READERS
    assert min(shares) >= BATCH, f"one worker did everything: {shares}"
    assert len(sendgrid_recorder.requests) == READERS // BATCH
    assert exactly_once(sendgrid_recorder.accepted_recipients) == {}
    assert sorted(sendgrid_recorder.accepted_recipients) == everyone
    assert counts(session_factory, send_id) == {"accepted": READERS}
    assert send_status(session_factory, send_id) == "sent"
