"""Unknown means unknown: `reconcile --requeue-unknown` takes only deliveries whose request is older than a
settled window (24 hours unless shortened, with a warning) and never one the provider reported on; it
says how many it left and why."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FrozenClock
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from newsletter.audience.readers.tokens import TokenSigner
from newsletter.cli import main
from newsletter.db.tables import Delivery
from newsletter.deliver.engine.claims import worker_identity
from newsletter.deliver.engine.run import RunOptions, SendRunner
from newsletter.deliver.transports.memory import MemoryTransport

from .helpers import add_readers, cli_environment, counts, reader_address, schedule

UNKNOWN = [reader_address(n) for n in (1, 2, 3, 4)]
HEARD_OF = reader_address(4)  # an event arrived for it (ingestion would have settled it; this one raced)


def send_with_unknowns(
    session: Session, sessions: sessionmaker[Session], signer: TokenSigner
) -> tuple[int, MemoryTransport, SendRunner]:
    add_readers(session, "daily-brief", 9)
    send_id = schedule(sessions, transport="memory")
    transport = MemoryTransport()
    for email in UNKNOWN:
        transport.script(email, "unknown", detail="connection dropped")
    runner = SendRunner(sessions, transport, signer, worker_identity(), RunOptions(batch_size=5))
    assert runner.run(send_id).status == "sent"
    with sessions.begin() as db:
        db.execute(update(Delivery).where(Delivery.email == HEARD_OF).values(event_flags=1))
    return send_id, transport, runner


def test_requeue_waits_for_the_settled_window_and_never_takes_a_reported_delivery(
    session: Session,
    session_factory: sessionmaker[Session],
    signer: TokenSigner,
    database_url: str,
    frozen_clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    send_id, transport, runner = send_with_unknowns(session, session_factory, signer)
    env = cli_environment(database_url, NEWSLETTER_TRANSPORT="outbox")
    monkeypatch.chdir(tmp_path)
    reconcile = ["reconcile", str(send_id), "--requeue-unknown"]

    early = CliRunner().invoke(main, reconcile, env=env)

    assert early.exit_code == 0, early.output
    assert early.stdout.splitlines() == [
        "4 unknown; 0 queued again",
        "3 left: their request is under 24 hours old",
        "1 left: the provider reported on them (they were accepted)",
    ]
    assert counts(session_factory, send_id) == {"accepted": 5, "unknown": 4}

    frozen_clock.advance(hours=25)
    settled = CliRunner().invoke(main, reconcile, env=env)

    assert settled.stdout.splitlines() == [
        "4 unknown; 3 queued again",
        "1 left: the provider reported on them (they were accepted)",
    ]
    assert runner.run(send_id).status == "sent"
    assert [m.to for m in transport.messages if m.outcome == "accepted"].count(HEARD_OF) == 0
    assert counts(session_factory, send_id) == {"accepted": 8, "unknown": 1}


def test_a_shorter_window_is_allowed_with_a_warning(
    session: Session,
    session_factory: sessionmaker[Session],
    signer: TokenSigner,
    database_url: str,
    frozen_clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    send_id, _transport, _runner = send_with_unknowns(session, session_factory, signer)
    frozen_clock.advance(hours=2)
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(
        main,
        ["reconcile", str(send_id), "--requeue-unknown", "--settled-hours", "1"],
        env=cli_environment(database_url, NEWSLETTER_TRANSPORT="outbox"),
    )

    assert result.exit_code == 0, result.output
    assert "warning: requeuing deliveries unknown for only 1 hours" in result.stderr
    assert result.stdout.splitlines()[0] == "4 unknown; 3 queued again"
    assert counts(session_factory, send_id) == {"accepted": 5, "unknown": 1, "pending": 3}
