"""A send's delivery rows cut into batches: every pending row in exactly one batch, none larger than asked."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from newsletter.db.counters import Deltas
from newsletter.db.tables import Delivery, DeliveryBatch, Send
from newsletter.deliver.engine.claims import plan_batches
from newsletter.deliver.engine.materialize import materialize
from newsletter.schedule.sends import send_list_ids

from .helpers import add_readers, schedule


def materialised(sessions: sessionmaker[Session], send_id: int) -> list[int]:
    deltas: Deltas = Counter()
    with sessions.begin() as session:
        send = session.get_one(Send, send_id)
        run = materialize(session, send, send_list_ids=send_list_ids(session, send), deltas=deltas)
    with sessions() as session:
        ids = sorted(session.scalars(select(Delivery.id).where(Delivery.send_id == send_id)))
    assert (run.first, run.last, run.made) == (ids[0], ids[-1], len(ids))  # what it says it made
    assert deltas == {(send_id, "status", "pending"): len(ids)}  # for the caller's counters
    return ids


def test_batches_cut_from_what_materialising_made_match_those_cut_from_the_table(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    add_readers(session, "daily-brief", 23)
    told, looked = (schedule(session_factory, transport="memory") for _ in range(2))
    ids = {send_id: materialised(session_factory, send_id) for send_id in (told, looked)}

    with session_factory.begin() as db:
        assert plan_batches(db, told, 10, made=(ids[told][0], ids[told][-1], len(ids[told]))) == 3
        assert plan_batches(db, looked, 10) == 3
    with session_factory() as db:
        ranges = {
            send_id: [
                (b.first_id - ids[send_id][0], b.last_id - ids[send_id][0], b.size)
                for b in db.scalars(select(DeliveryBatch).where(DeliveryBatch.send_id == send_id))
            ]
            for send_id in (told, looked)
        }
    assert ranges[told] == ranges[looked] == [(0, 9, 10), (10, 19, 10), (20, 22, 3)]


@pytest.mark.parametrize("settled", [[], [3, 4, 17]], ids=["one-run-of-ids", "with-gaps"])
def test_each_pending_row_is_in_exactly_one_batch_of_at_most_the_size(
    session: Session, session_factory: sessionmaker[Session], settled: list[int]
) -> None:
    add_readers(session, "daily-brief", 25)
    send_id = schedule(session_factory, transport="memory")
    ids = materialised(session_factory, send_id)
    with session_factory.begin() as db:  # rows already settled (say, skipped) are left out
        db.execute(
            update(Delivery).where(Delivery.id.in_([ids[i] for i in settled])).values(status="skipped")
        )
    pending = [delivery_id for i, delivery_id in enumerate(ids) if i not in settled]

    with session_factory.begin() as db:
        made = plan_batches(db, send_id, 10)
    with session_factory() as db:
        batches = db.scalars(
            select(DeliveryBatch).where(DeliveryBatch.send_id == send_id).order_by(DeliveryBatch.id)
        ).all()
        cut = [[i for i in pending if batch.first_id <= i <= batch.last_id] for batch in batches]

    assert made == len(batches) == 3
    assert [len(rows) for rows in cut] == [batch.size for batch in batches] == [10, 10, len(pending) - 20]
    assert sorted(i for rows in cut for i in rows) == pending  # each once, none left out
    assert {batch.state for batch in batches} == {"pending"}
    with session_factory.begin() as db:
        assert plan_batches(db, send_id, 10) == 0  # once per send
