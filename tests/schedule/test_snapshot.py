"""A send keeps the issue as it was rendered when scheduled; a snapshot that was altered is refused."""

from __future__ import annotations

import pytest
from deliver_run.helpers import add_readers, counts, schedule, send_status
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from support import samples

from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db.tables import Send
from newsletter.deliver.engine.claims import worker_identity
from newsletter.deliver.engine.run import RunOptions, SendRunner
from newsletter.deliver.transports.memory import MemoryTransport
from newsletter.errors import ScheduleError
from newsletter.schedule.sends import due_sends
from newsletter.schedule.snapshot import publication_of, rendered_of


def test_the_snapshot_reads_back_as_the_rendered_issue_and_publication(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    add_readers(session, "daily-brief", 1)
    send_id = schedule(session_factory)
    original = samples.rendered()

    with session_factory() as db:
        send = db.get_one(Send, send_id)
        back = rendered_of(send)
        assert publication_of(send) == samples.publication()
    assert (back.subject, back.html, back.text, back.sha256) == (
        original.subject,
        original.html,
        original.text,
        original.sha256,
    )
    values = samples.values(1)
    assert back.html_template.render(values) == original.html_template.render(values)


@pytest.mark.parametrize("column", ["html", "text", "subject"])
def test_an_altered_snapshot_fails_the_send_and_nothing_goes_out(
    column: str, session: Session, session_factory: sessionmaker[Session], signer: TokenSigner
) -> None:
    add_readers(session, "daily-brief", 3)
    send_id = schedule(session_factory, transport="memory")
    with session_factory.begin() as db:
        send = db.get_one(Send, send_id)
        db.execute(
            update(Send).where(Send.id == send_id).values({column: getattr(send, column) + " (edited)"})
        )
    with session_factory() as db, pytest.raises(ScheduleError, match="does not match its sha256"):
        rendered_of(db.get_one(Send, send_id))
    transport = MemoryTransport()

    report = SendRunner(session_factory, transport, signer, worker_identity(), RunOptions()).run(send_id)

    message = f"send {send_id}: the stored issue does not match its sha256; refusing to send"
    assert (report.status, report.error) == ("failed", message)
    assert transport.batches == []
    assert send_status(session_factory, send_id) == "failed"
    with session_factory() as db:
        assert db.get_one(Send, send_id).error == message
        assert send_id not in due_sends(db)  # a failed send is not retried by every worker run
    assert set(counts(session_factory, send_id)) == {"pending"}  # nobody was mailed
