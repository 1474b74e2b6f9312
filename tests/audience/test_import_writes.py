"""How an import writes new people: every membership and evidence row refers to a real person and list."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.addresses import email_hash
from newsletter.audience.csvimport import newcomers as newcomers_module
from newsletter.audience.csvimport.importer import import_csv
from newsletter.audience.csvimport.staging import Record
from newsletter.audience.csvimport.upsert import ChunkWriter
from newsletter.audience.people.recipients import recipients
from newsletter.audience.people.subscribers import add_subscriber
from newsletter.db.tables import ConsentEvidence, MailingList, Subscriber, Subscription

from .conftest import WriteCsv

ROWS = [["email", "name", "city"]] + [[f"Reader{i}@Example.com", f"Reader {i}", "Leeds"] for i in range(30)]


def _orphans(session: Session) -> int:
    """Memberships and evidence rows whose person or list does not exist."""
    people = select(Subscriber.id)
    lists = select(MailingList.id)
    count = 0
    for table in (Subscription, ConsentEvidence):
        query = select(func.count()).where(
            table.subscriber_id.not_in(people) | table.list_id.not_in(lists)  # type: ignore[attr-defined]
        )
        count += session.scalar(query.select_from(table)) or 0
    return count


@pytest.mark.parametrize("trusted", [True, False], ids=["fk-triggers-skipped", "fk-checked"])
def test_new_people_join_with_evidence_whether_or_not_key_checks_are_skipped(
    session: Session,
    e_alert: MailingList,
    write_csv: WriteCsv,
    monkeypatch: pytest.MonkeyPatch,
    trusted: bool,
) -> None:
    monkeypatch.setattr(newcomers_module, "may_skip_triggers", lambda _cursor: trusted)
    report = import_csv(session, write_csv(ROWS), "e-alert", chunk_size=7)
    assert (report.added, report.rejected) == (30, 0)
    assert session.scalar(select(func.count()).select_from(Subscription)) == 30
    evidence = session.scalars(select(ConsentEvidence)).all()
    assert {(e.action, e.method, e.source, e.list_id) for e in evidence} == {
        ("subscribe", "import", "members.csv", e_alert.id)
    }
    assert len(evidence) == 30
    assert _orphans(session) == 0
    mailed = [r.email for batch in recipients(session, [e_alert.id]) for r in batch]
    assert sorted(mailed) == sorted(f"reader{i}@example.com" for i in range(30))


def test_postgres_key_checks_come_back_within_the_transaction(
    session: Session, e_alert: MailingList, backend: str
) -> None:
    """Only the new people's statement skips the triggers; later writes of the chunk are checked."""
    if backend != "postgresql":
        pytest.skip("session_replication_role is PostgreSQL's")
    writer = newcomers_module.Newcomers(session, e_alert.id, "members.csv", trust_fresh_keys=True)
    record = Record("ann@example.com", email_hash("ann@example.com"), "Ann", {}, [2])
    assert writer.add([record], clock.now()) == []
    role = session.connection().exec_driver_sql("SHOW session_replication_role").scalar()
    session.commit()
    assert role == "origin"


def test_someone_added_meanwhile_still_joins_the_list_once(
    session: Session,
    e_alert: MailingList,
    write_csv: WriteCsv,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An address another process adds between the chunk's look-up and its insert is joined, not lost."""
    assert add_subscriber(session, "reader3@example.com", "e-alert") == "added"
    session.execute(Subscription.__table__.delete())
    session.commit()
    missed: Any = ChunkWriter._known
    monkeypatch.setattr(ChunkWriter, "_known", lambda self, records: {})
    report = import_csv(session, write_csv(ROWS), "e-alert", chunk_size=7)
    monkeypatch.setattr(ChunkWriter, "_known", missed)
    assert report.added == 30
    assert session.scalar(select(func.count()).select_from(Subscriber)) == 30
    assert session.scalar(select(func.count()).select_from(Subscription)) == 30
    reader3 = session.scalar(select(Subscriber).where(Subscriber.email == "reader3@example.com"))
    assert reader3 is not None
    assert reader3.name is None  # the other process's row is kept as it was
    assert _orphans(session) == 0


def test_a_failing_chunk_is_rolled_back_whole_and_stops_the_import(
    session: Session, e_alert: MailingList, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    joined: Any = ChunkWriter._join
    calls = []

    def join_then_fail(self: ChunkWriter, emails: list[str], now: Any) -> None:
        calls.append(len(emails))
        joined(self, emails, now)
        if len(calls) == 2:
            raise RuntimeError("the database went away")

    monkeypatch.setattr(ChunkWriter, "_join", join_then_fail)
    with pytest.raises(RuntimeError, match="went away"):
        import_csv(session, write_csv(ROWS), "e-alert", chunk_size=7)
    assert len(calls) == 2  # stopped at the failing chunk
    assert session.scalar(select(func.count()).select_from(Subscriber)) == 7
    assert session.scalar(select(func.count()).select_from(Subscription)) == 7
    assert session.scalar(select(func.count()).select_from(ConsentEvidence)) == 7
    monkeypatch.undo()
    again = import_csv(session, write_csv(ROWS), "e-alert", chunk_size=7)
    assert (again.added, again.unchanged) == (23, 7)
