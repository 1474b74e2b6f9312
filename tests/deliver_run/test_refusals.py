"""Refusals are failures: batches the provider refuses whole pause the send with its words, the worker
exits non-zero, `retry-failed` queues the failed rows once the cause is fixed, and a send whose every
delivery failed never reads `sent`. A provider error is cleared once the send succeeds."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from support.sendgrid_recorder import SendGridRecorder, bad_request
from support.sleeps import Sleeps
from support.smtp_server import free_port

from newsletter.audience.readers.tokens import TokenSigner
from newsletter.cli import main
from newsletter.db.tables import Send
from newsletter.deliver.engine.claims import worker_identity
from newsletter.deliver.engine.run import RunOptions, SendRunner
from newsletter.deliver.transports.sendgrid import SendGridTransport
from newsletter.schedule.sends import retry_failed

from .helpers import (
    add_readers,
    cli_environment,
    counts,
    empty_job_store,
    exactly_once,
    schedule,
    send_status,
)

UNVERIFIED = "The from address does not match a verified Sender Identity."
OPTIONS = RunOptions(
    batch_size=5, refused_batches_before_pause=3, retry_base_seconds=0.01, max_idle_wait_seconds=0.05
)


def runner(sessions: sessionmaker[Session], host: str, signer: TokenSigner, sleeps: Sleeps) -> SendRunner:
    transport = SendGridTransport("SG.test", host=host, sleep=sleeps, max_attempts=2)
    return SendRunner(sessions, transport, signer, worker_identity(), OPTIONS)


def send_error(sessions: sessionmaker[Session], send_id: int) -> str | None:
    with sessions() as session:
        return session.get_one(Send, send_id).error


def test_a_provider_refusing_every_request_pauses_the_send_and_retry_failed_sends_them_once(
    session: Session,
    session_factory: sessionmaker[Session],
    signer: TokenSigner,
    sendgrid_recorder: SendGridRecorder,
    sleeps: Sleeps,
) -> None:
    everyone = add_readers(session, "daily-brief", 30)
    send_id = schedule(session_factory)
    sendgrid_recorder.answer_every_request(bad_request(UNVERIFIED, "from.email"))

    report = runner(session_factory, sendgrid_recorder.url, signer, sleeps).run(send_id)

    assert (report.status, report.counts) == ("paused", {"failed": 15})
    assert len(sendgrid_recorder.requests) == 3  # then it stopped asking
    assert UNVERIFIED in report.error
    assert "3 batches in a row" in report.error
    assert UNVERIFIED in (send_error(session_factory, send_id) or "")
    assert counts(session_factory, send_id) == {"failed": 15, "pending": 15}

    sendgrid_recorder.answer_every_request(None)  # the sender identity is verified now
    with session_factory.begin() as db:
        assert retry_failed(db, str(send_id))[1] == 15
    again = runner(session_factory, sendgrid_recorder.url, signer, sleeps).run(send_id)

    assert (again.status, again.counts) == ("sent", {"accepted": 30})
    assert exactly_once(sendgrid_recorder.accepted_recipients) == {}
    assert sorted(sendgrid_recorder.accepted_recipients) == everyone
    assert counts(session_factory, send_id) == {"accepted": 30}
    assert send_error(session_factory, send_id) is None  # the refusal is over


def test_nothing_listening_pauses_the_send_without_failing_anyone(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner, sleeps: Sleeps
) -> None:
    add_readers(session, "daily-brief", 30)
    send_id = schedule(session_factory)
    closed = f"http://127.0.0.1:{free_port()}"

    report = runner(session_factory, closed, signer, sleeps).run(send_id)

    assert report.status == "paused"
    assert "ConnectionRefusedError" in report.error
    assert counts(session_factory, send_id) == {"pending": 30}  # nobody failed: they wait for the fix


def test_a_send_whose_every_delivery_failed_is_failed_not_sent(
    session: Session,
    session_factory: sessionmaker[Session],
    signer: TokenSigner,
    sendgrid_recorder: SendGridRecorder,
    sleeps: Sleeps,
) -> None:
    add_readers(session, "daily-brief", 8)  # two batches: fewer than the brake waits for
    send_id = schedule(session_factory)
    sendgrid_recorder.answer_every_request(bad_request(UNVERIFIED, "from.email"))

    report = runner(session_factory, sendgrid_recorder.url, signer, sleeps).run(send_id)

    assert report.status == "failed"
    assert send_status(session_factory, send_id) == "failed"
    assert "every delivery failed (8)" in (send_error(session_factory, send_id) or "")
    assert UNVERIFIED in (send_error(session_factory, send_id) or "")


def test_the_worker_exits_non_zero_with_the_providers_words_and_retry_failed_recovers(
    engine: Engine,
    session: Session,
    session_factory: sessionmaker[Session],
    database_url: str,
    sendgrid_recorder: SendGridRecorder,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    everyone = add_readers(session, "daily-brief", 12)
    send_id = schedule(session_factory)
    sendgrid_recorder.answer_every_request(bad_request(UNVERIFIED, "from.email"))
    env = cli_environment(
        database_url,
        NEWSLETTER_TRANSPORT="sendgrid",
        NEWSLETTER_SENDGRID_HOST=sendgrid_recorder.url,
        SENDGRID_API_KEY="SG.test",
    )
    monkeypatch.chdir(tmp_path)
    cli = CliRunner()
    args = ["worker", "--once", "--quiet", "--batch-size", "3", "--pause-after-refusals", "2"]

    refused = cli.invoke(main, args, env=env)

    assert refused.exit_code == 1
    assert f"send {send_id}: paused (6 failed)" in refused.stdout
    assert "error: paused after 2 batches in a row refused by the provider" in refused.stderr
    assert UNVERIFIED in refused.stderr
    assert "Traceback" not in refused.output
    sendgrid_recorder.answer_every_request(None)
    retried = cli.invoke(main, ["retry-failed", str(send_id)], env=env)
    empty_job_store(
        engine
    )  # its wake-up is for no other test's worker    assert retried.exit_code == 0, retried.output
    assert retried.stdout.strip() == f"send {send_id}: 6 failed deliveries queued again; it is scheduled"
    finished = cli.invoke(main, args, env=env)
    assert finished.exit_code == 0, finished.output
    assert f"send {send_id}: sent (12 accepted)" in finished.stdout
    assert sorted(sendgrid_recorder.accepted_recipients) == everyone
    assert counts(session_factory, send_id) == {"accepted": 12}
