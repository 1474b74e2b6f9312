"""Send summaries (the `sends` table, the staff pages) read each send's status counters, not its rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from deliver_run.helpers import add_readers, counts, reader_address, schedule
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from newsletter.audience.readers.tokens import TokenSigner
from newsletter.deliver.engine.claims import worker_identity
from newsletter.deliver.engine.run import RunOptions, SendRunner
from newsletter.deliver.transports.memory import MemoryTransport
from newsletter.errors import NotFound
from newsletter.schedule.sends import summaries, summary

READERS = 25
BATCH = 10


@contextmanager
def statements_on(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent to the database in the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def three_sends(session: Session, sessions: sessionmaker[Session], signer: TokenSigner) -> tuple[int, ...]:
    """A send finished (one reader failed), one stopped after its first batch, one not started yet."""
    add_readers(session, "daily-brief", READERS)
    finished, halfway, waiting = (schedule(sessions, transport="memory") for _ in range(3))
    transport = MemoryTransport()
    transport.script(reader_address(7), "failed", detail="550 no such user")
    options = RunOptions(batch_size=BATCH)
    assert SendRunner(sessions, transport, signer, worker_identity(), options).run(finished).status == "sent"
    stopping = SendRunner(sessions, transport, signer, worker_identity(), options)
    stopping.should_stop = lambda: len(transport.batches) == 4  # finished's three, then one of halfway's
    assert stopping.run(halfway).status == "sending"
    return finished, halfway, waiting


def test_summaries_count_each_sends_rows_by_state_leaving_out_states_with_none(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner
) -> None:
    finished, halfway, waiting = three_sends(session, session_factory, signer)

    rows = {row.send.id: row for row in summaries(session)}

    assert list(rows) == [waiting, halfway, finished]  # newest first
    assert rows[finished].counts == counts(session_factory, finished) == {"accepted": 24, "failed": 1}
    assert (rows[finished].done, rows[finished].total) == (25, 25)  # no "pending": 0 left in counts
    assert rows[halfway].counts == counts(session_factory, halfway) == {"accepted": 10, "pending": 15}
    assert (rows[halfway].done, rows[halfway].total) == (10, 25)
    assert (rows[waiting].counts, rows[waiting].total) == ({}, 0)
    assert {row.lists for row in rows.values()} == {("daily-brief",)}
    assert [row.send.id for row in summaries(session, limit=2)] == [waiting, halfway]


def test_summary_is_one_sends_row_of_summaries_by_id_or_public_id(
    session: Session, session_factory: sessionmaker[Session], signer: TokenSigner
) -> None:
    finished, halfway, _ = three_sends(session, session_factory, signer)
    listed = {row.send.id: row for row in summaries(session)}

    assert summary(session, finished) == listed[finished]
    assert summary(session, listed[halfway].send.public_id) == listed[halfway]
    with pytest.raises(NotFound):
        summary(session, 999_999)


def test_summaries_and_summary_read_no_delivery_row(
    engine: Engine, session: Session, session_factory: sessionmaker[Session], signer: TokenSigner
) -> None:
    _, halfway, _ = three_sends(session, session_factory, signer)

    with statements_on(engine) as seen:
        listed = summaries(session)
        one = summary(session, halfway)

    assert [row.total for row in listed] == [0, 25, 25]
    assert one.total == 25
    assert any("send_counters" in statement for statement in seen)
    over_deliveries = [s for s in seen if re.search(r"\bdeliveries\b", s)]
    assert over_deliveries == []
