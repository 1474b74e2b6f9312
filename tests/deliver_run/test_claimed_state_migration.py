"""Migration 0006 (the `claimed` batch state) up and down, with a batch claimed ahead in the database."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.db.migrate import alembic_config, current_revision, head_revision, upgrade
from newsletter.db.tables import DeliveryBatch, Send

CLAIMED_STATE = "0006"
BEFORE = "0005"


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def a_send_with_a_batch_claimed_ahead(engine: Engine) -> int:
    now = clock.now()
    with Session(engine) as session, session.begin():
        send = Send(
            issue_slug="daily",
            subject="s",
            html="<p>x</p>",
            text="x",
            sha256="0" * 64,
            publication={},
            transport="memory",
            status="sending",
            created_at=now,
            updated_at=now,
        )
        session.add(send)
        session.flush()
        session.add_all(
            [
                DeliveryBatch(send_id=send.id, first_id=1, last_id=3, size=3, state="done", attempts=1),
                DeliveryBatch(
                    send_id=send.id,
                    first_id=4,
                    last_id=6,
                    size=3,
                    state="claimed",
                    attempts=2,
                    holder="w:1:a",
                ),
            ]
        )
        return send.id


def test_downgrading_puts_batches_claimed_ahead_back_to_pending_and_upgrading_again_allows_the_state(
    blank_engine: Engine,
) -> None:
    assert upgrade(blank_engine, CLAIMED_STATE) == CLAIMED_STATE
    send_id = a_send_with_a_batch_claimed_ahead(blank_engine)

    downgrade(blank_engine, BEFORE)

    assert current_revision(blank_engine) == BEFORE
    with Session(blank_engine) as session:
        rows = session.execute(
            select(DeliveryBatch.state, DeliveryBatch.attempts, DeliveryBatch.holder)
            .where(DeliveryBatch.send_id == send_id)
            .order_by(DeliveryBatch.id)
        ).all()
        assert [tuple(r) for r in rows] == [("done", 1, None), ("pending", 1, None)]
    with pytest.raises(IntegrityError), Session(blank_engine) as session, session.begin():
        session.execute(update(DeliveryBatch).values(state="claimed"))  # the old schema knows no `claimed`
    assert upgrade(blank_engine) == head_revision()
    with Session(blank_engine) as session, session.begin():
        session.execute(update(DeliveryBatch).where(DeliveryBatch.state == "pending").values(state="claimed"))
