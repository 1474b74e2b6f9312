"""Small things a send gets right: `--at` refuses a local time a daylight-saving change skips or repeats
(naming both readings), a send whose lists were deleted is not shown as a test send, and a provider's
error is cleared from a send once it succeeds."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result
from deliver_run.helpers import ISSUES, add_readers, empty_job_store, schedule
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from newsletter.audience.people.lists import get_list
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.cli import main
from newsletter.db.tables import MailingList, Send
from newsletter.deliver.engine.claims import worker_identity
from newsletter.deliver.engine.run import SendRunner
from newsletter.deliver.transports.base import DeliveryResult, OutgoingBatch
from newsletter.deliver.transports.memory import MemoryTransport
from newsletter.errors import ProviderRefused
from newsletter.schedule.sends import resume

ISSUE = ISSUES / "2026-11-20-muscle-loss-culprit.yaml"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (
            "2026-03-29 02:30",
            "error: 2026-03-29 02:30 does not exist in Europe/Berlin: the clocks skip it",
        ),
        (
            "2026-10-25 02:30",
            "error: 2026-10-25 02:30 happens twice in Europe/Berlin (the clocks go back): write it with its "
            "offset, 2026-10-25 02:30+02:00 (CEST) or 2026-10-25 02:30+01:00 (CET)",
        ),
    ],
    ids=["skipped-when-clocks-go-forward", "twice-when-clocks-go-back"],
)
def test_a_local_time_a_clock_change_skips_or_repeats_is_refused(
    cli_env: str, session: Session, session_factory: sessionmaker[Session], at: str, message: str
) -> None:
    add_readers(session, "daily-brief", 2)

    result = run("send", str(ISSUE), "--list", "daily-brief", "--at", at, "--tz", "Europe/Berlin")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(message)
    assert "Traceback" not in result.output
    with session_factory() as db:
        assert db.scalars(select(Send)).all() == []  # nothing scheduled


def test_the_same_time_with_its_offset_is_taken(cli_env: str, session: Session, engine: Engine) -> None:
    add_readers(session, "daily-brief", 2)

    result = run(
        "send", str(ISSUE), "--list", "daily-brief", "--at", "2031-10-26 02:30+01:00", "--tz", "Europe/Berlin"
    )
    empty_job_store(engine)  # its wake-up is for no other test's worker

    assert result.exit_code == 0, result.output
    assert "for 2031-10-26 02:30 CET" in result.stdout


def test_a_send_whose_list_was_deleted_is_not_shown_as_a_test(
    cli_env: str, session: Session, session_factory: sessionmaker[Session]
) -> None:
    add_readers(session, "daily-brief", 2)
    send_id = schedule(session_factory, transport="memory")
    with session_factory.begin() as db:
        db.execute(delete(MailingList).where(MailingList.id == get_list(db, "daily-brief").id))

    result = run("sends")

    assert result.exit_code == 0, result.output
    (line,) = [row for row in result.stdout.splitlines() if f" {send_id} " in row]
    assert "test:" not in line
    assert "(its lists were deleted)" in line


class RefusesOnce(MemoryTransport):
    """Refuses the account on its first batch (a bad API key), then sends."""

    refused = False

    def send_batch(self, batch: OutgoingBatch) -> list[DeliveryResult]:
        if not self.refused:
            self.refused = True
            raise ProviderRefused("HTTP 401: the API key was refused")
        return super().send_batch(batch)


def test_a_providers_error_is_cleared_once_the_send_succeeds(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner
) -> None:
    add_readers(session, "daily-brief", 3)
    send_id = schedule(session_factory, transport="memory")
    runner = SendRunner(session_factory, RefusesOnce(), signer, worker_identity())

    assert runner.run(send_id).status == "failed"
    with session_factory.begin() as db:
        assert db.get_one(Send, send_id).error == "HTTP 401: the API key was refused"
        resume(db, str(send_id))  # the key is fixed
    assert runner.run(send_id).status == "sent"

    with session_factory() as db:
        assert db.get_one(Send, send_id).error is None
