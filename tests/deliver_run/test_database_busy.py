"""SQLite busy: another process holds the database's write lock longer than the busy timeout while a
batch is in flight. The worker waits (one log line per try) and marks the batch as it was answered once
the lock is gone: every row accepted once, none unknown."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy.orm import Session, sessionmaker
from support.sendgrid_recorder import Reply, SendGridRecorder

from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db import session as db_session
from newsletter.db.session import make_engine, make_session_factory
from newsletter.deliver.engine.claims import worker_identity
from newsletter.deliver.engine.resilience import Backoff
from newsletter.deliver.engine.run import RunOptions, SendRunner
from newsletter.deliver.transports.sendgrid import SendGridTransport

from .helpers import add_readers, counts, exactly_once, schedule

READERS, BATCH = 600, 100


class LocksTheDatabaseOnRequest(SendGridRecorder):
    """On request `n`, another connection takes the database's write lock for `hold` seconds."""

    def __init__(self, path: str, n: int, hold: float) -> None:
        super().__init__(api_key="SG.test")
        self.path, self.n, self.hold = path, n, hold
        self.seen = 0
        self.released = threading.Event()

    def _next_reply(self) -> Reply:
        self.seen += 1
        if self.seen == self.n:
            locker = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")

            def release() -> None:
                locker.execute("COMMIT")
                locker.close()
                self.released.set()

            threading.Timer(self.hold, release).start()
        return super()._next_reply()


def test_a_database_locked_past_the_busy_timeout_is_waited_for_and_nothing_becomes_unknown(
    backend: str,
    database_url: str,
    session: Session,
    session_factory: sessionmaker[Session],
    signer: TokenSigner,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if backend != "sqlite":
        pytest.skip(
            "a file lock is SQLite's (PostgreSQL's restart is tests/deliver_run/test_database_restart.py)"
        )
    everyone = add_readers(session, "daily-brief", READERS)
    send_id = schedule(session_factory)
    monkeypatch.setattr(db_session, "SQLITE_BUSY_TIMEOUT_MS", 100)
    impatient = make_engine(database_url)
    recorder = LocksTheDatabaseOnRequest(database_url.removeprefix("sqlite:///"), n=3, hold=2.0)
    with recorder:
        transport = SendGridTransport("SG.test", host=recorder.url)
        runner = SendRunner(
            make_session_factory(impatient),
            transport,
            signer,
            worker_identity(),
            RunOptions(batch_size=BATCH),
            backoff=Backoff(first=0.1, most=0.3),
        )

        report = runner.run(send_id)

        assert recorder.released.is_set()
        assert exactly_once(recorder.accepted_recipients) == {}
        assert sorted(recorder.accepted_recipients) == everyone
    impatient.dispose()
    assert (report.status, report.counts) == ("sent", {"accepted": READERS})
    assert counts(session_factory, send_id) == {"accepted": READERS}
    waits = [r.getMessage() for r in caplog.records if "database unavailable" in r.getMessage()]
    assert waits
    assert all("database is locked" in line for line in waits)
