"""`newsletter worker --once` killed with SIGKILL mid-send, then restarted: nobody mailed twice, nobody lost.

The worker is the real CLI in a subprocess, sending through the SendGrid transport to the recording
stand-in that runs in this test process. The stand-in holds one request so the kill lands at a
known point: after the claim was committed, with the request in flight.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker
from support.sendgrid_recorder import Reply, SendGridRecorder, accept, drop, stall

from newsletter.cli import main

from .helpers import (
    Workers,
    accepted_counts,
    add_readers,
    cli_environment,
    counts,
    exactly_once,
    request_recipients,
    schedule,
    send_status,
    statuses,
    wait_until,
)

READERS = 1_500
BATCH = 300


class HeldBeforeAnswerRecorder(SendGridRecorder):
    """Takes request number `hold` in full, then waits for `release` before deciding what to answer.

    While held nothing is recorded: it models a request SendGrid never accepted (the worker died
    between committing its claim and the request being taken). Once released it is dropped.
    """

    def __init__(self, hold: int) -> None:
        super().__init__(api_key="SG.test")
        self.hold = hold
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._seen = 0
        self._seen_lock = threading.Lock()

    def _next_reply(self) -> Reply:
        with self._seen_lock:
            self._seen += 1
            number = self._seen
        if number != self.hold:
            return super()._next_reply()
        self.arrived.set()
        self.release.wait(30)
        return drop()


@pytest.fixture
def held_recorder() -> Iterator[HeldBeforeAnswerRecorder]:
    """A stand-in holding the third request until released."""
    recorder = HeldBeforeAnswerRecorder(hold=3)
    with recorder:
        try:
            yield recorder
        finally:
            recorder.release.set()


def sendgrid_env(database_url: str, recorder: SendGridRecorder) -> dict[str, str]:
    return cli_environment(
        database_url,
        NEWSLETTER_TRANSPORT="sendgrid",
        NEWSLETTER_SENDGRID_HOST=recorder.url,
        SENDGRID_API_KEY="SG.test",
    )


def test_killed_while_a_request_is_in_flight_the_restart_finishes_without_resending_it(
    session: Session,
    session_factory: sessionmaker[Session],
    database_url: str,
    sendgrid_recorder: SendGridRecorder,
    worker_processes: Workers,
) -> None:
    everyone = add_readers(session, "daily-brief", READERS)
    send_id = schedule(session_factory)
    sendgrid_recorder.script(accept(), accept(), stall(60))  # the third request is taken, then held
    env = sendgrid_env(database_url, sendgrid_recorder)

    first = worker_processes.start(env, "--batch-size", str(BATCH))
    wait_until(lambda: len(sendgrid_recorder.requests) == 3, what="the third request")
    worker_processes.kill(first)
    out = worker_processes.finish(worker_processes.start(env, "--batch-size", str(BATCH)))

    requests = sendgrid_recorder.requests
    assert all(r.accepted for r in requests)  # the held one too: SendGrid took it before the kill
    assert exactly_once(sendgrid_recorder.accepted_recipients) == {}
    assert sorted(sendgrid_recorder.accepted_recipients) == everyone
    held = set(request_recipients(requests[2].body))
    assert len(held) == BATCH
    rows = statuses(session_factory, send_id)
    assert {rows[email] for email in held} == {"unknown"}  # the worker cannot know: never re-sent
    assert {rows[email] for email in set(everyone) - held} == {"accepted"}
    assert counts(session_factory, send_id) == {"unknown": BATCH, "accepted": READERS - BATCH}
    assert send_status(session_factory, send_id) == "sent"
    assert f"send {send_id}: sent ({READERS - 3 * BATCH} accepted)" in out


def test_killed_after_claiming_before_the_request_was_taken_reconcile_sends_those_once(
    session: Session,
    session_factory: sessionmaker[Session],
    database_url: str,
    held_recorder: HeldBeforeAnswerRecorder,
    worker_processes: Workers,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    everyone = add_readers(session, "daily-brief", READERS)
    send_id = schedule(session_factory)
    env = sendgrid_env(database_url, held_recorder)

    first = worker_processes.start(env, "--batch-size", str(BATCH))
    assert held_recorder.arrived.wait(30), "the third request never came"
    worker_processes.kill(first)
    held_recorder.release.set()  # the stand-in drops it: not accepted
    restart = worker_processes.finish(worker_processes.start(env, "--batch-size", str(BATCH)))

    assert f"send {send_id}: sent ({READERS - 3 * BATCH} accepted)" in restart
    assert counts(session_factory, send_id) == {"accepted": READERS - BATCH, "unknown": BATCH}
    missing = set(everyone) - set(held_recorder.accepted_recipients)
    assert {
        email for email, state in statuses(session_factory, send_id).items() if state == "unknown"
    } == missing

    monkeypatch.chdir(tmp_path)
    reconcile = CliRunner().invoke(
        main, ["reconcile", str(send_id), "--requeue-unknown", "--settled-hours", "0"], env=env
    )
    assert reconcile.exit_code == 0, reconcile.output
    assert reconcile.stdout.strip() == f"{BATCH} unknown; {BATCH} queued again"
    assert counts(session_factory, send_id) == {"accepted": READERS - BATCH, "pending": BATCH}
    last = CliRunner().invoke(main, ["worker", "--once", "--quiet"], env=env)  # a new worker, in-process

    assert last.exit_code == 0, last.output
    assert accepted_counts(last.stdout) == BATCH
    assert exactly_once(held_recorder.accepted_recipients) == {}
    assert sorted(held_recorder.accepted_recipients) == everyone
    assert counts(session_factory, send_id) == {"accepted": READERS}
    assert send_status(session_factory, send_id) == "sent"
