"""APScheduler wake-ups: a job per scheduled send in the shared job store, and the worker it wakes."""

from __future__ import annotations

import threading
from datetime import timedelta

from deliver_run.helpers import add_readers, send_status, wait_until
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from support import samples

from newsletter import clock, services
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.config import load_settings
from newsletter.db.tables import Send
from newsletter.deliver.engine.claims import worker_identity
from newsletter.deliver.engine.run import SendRunner
from newsletter.deliver.transports.memory import MemoryTransport
from newsletter.schedule.sends import create_send
from newsletter.schedule.wakeups import add_wakeup
from newsletter.worker import Worker

from .conftest import Jobs


def scheduled(sessions: sessionmaker[Session], delay: timedelta, transport: str = "outbox") -> Send:
    with sessions.begin() as session:
        return create_send(
            session,
            samples.rendered(),
            samples.publication(),
            list_names=["daily-brief"],
            transport=transport,
            at=clock.now() + delay,
        )


def test_a_wakeup_is_stored_per_send_and_replaced_when_rescheduled(
    engine: Engine, session: Session, session_factory: sessionmaker[Session], jobs: Jobs
) -> None:
    add_readers(session, "daily-brief", 1)
    send = scheduled(session_factory, timedelta(days=2))
    add_wakeup(engine, send)
    assert send.scheduled_at is not None
    assert jobs() == {f"send-{send.id}": send.scheduled_at.timestamp()}

    send.scheduled_at += timedelta(hours=1)
    add_wakeup(engine, send)
    assert jobs() == {f"send-{send.id}": send.scheduled_at.timestamp()}


def test_storing_a_wakeup_never_runs_jobs_already_due(
    engine: Engine, session: Session, session_factory: sessionmaker[Session], jobs: Jobs
) -> None:
    add_readers(session, "daily-brief", 1)
    overdue = scheduled(session_factory, -timedelta(minutes=5))  # its worker was down at the time
    later = scheduled(session_factory, timedelta(days=1))

    add_wakeup(engine, overdue)
    add_wakeup(engine, later)  # used to run the overdue job on a shut-down executor: a traceback

    assert set(jobs()) == {f"send-{overdue.id}", f"send-{later.id}"}  # still there for a worker


def test_the_job_wakes_a_sleeping_worker_when_the_send_is_due(
    engine: Engine,
    database_url: str,
    session: Session,
    session_factory: sessionmaker[Session],
    signer: TokenSigner,
    jobs: Jobs,
) -> None:
    add_readers(session, "daily-brief", 3)
    send = scheduled(session_factory, timedelta(seconds=1.5), transport="memory")
    add_wakeup(engine, send)
    transport = MemoryTransport()
    with services.build(load_settings(database_url=database_url)) as svc:
        runner = SendRunner(svc.sessions, transport, signer, worker_identity())
        worker = Worker(svc, runner, poll_seconds=120)  # polling alone would not send it in time
        thread = threading.Thread(target=worker.serve, daemon=True)
        thread.start()
        try:
            wait_until(lambda: send_status(session_factory, send.id) == "sent", timeout=20, what="the send")
        finally:
            worker.stop()
            thread.join(10)
    assert not thread.is_alive()
    assert len(transport.delivered) == 3
    assert f"send-{send.id}" not in jobs()  # a date job is done once it ran
