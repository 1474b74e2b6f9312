"""Migrations up and down on both backends: each revision's own test (0006 onwards) and the whole chain."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from events.helpers import make_send
from sqlalchemy import Column, Engine, Integer, delete, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from support.counts import assert_status_counts_agree, status_counters
from support.schema import ours_on

from newsletter.db import revisions
from newsletter.db.counters import STATUS
from newsletter.db.migrate import (
    alembic_config,
    current_revision,
    downgrade,
    migrating,
    upgrade,
)
from newsletter.db.tables import Base, Delivery, DeliveryBatch, SendCounter


def counters(engine: Engine) -> list[tuple[int, str, str, int]]:
    """Every counter row, sorted."""
    with Session(engine) as session:
        query = select(SendCounter.send_id, SendCounter.name, SendCounter.key, SendCounter.value)
        return sorted((send_id, name, key, value) for send_id, name, key, value in session.execute(query))


def test_0007_backfills_status_counters_and_its_downgrade_removes_only_those(blank_engine: Engine) -> None:
    assert upgrade(blank_engine, "0006") == "0006"
    with Session(blank_engine) as session:  # sends made before 0007: rows, and no status counters yet
        mixed, _ = make_send(session, ["a@x.org", "b@x.org", "c@y.org", "d@y.org"], statuses={1: "unknown"})
        waiting, _ = make_send(session, ["e@x.org", "f@x.org"], status="pending")
        empty, _ = make_send(session, [])
        session.execute(delete(SendCounter).where(SendCounter.name == STATUS))
        session.execute(insert(SendCounter).values(send_id=mixed, name="events", key="delivered", value=3))
        session.commit()
    before = counters(blank_engine)

    assert upgrade(blank_engine, "0007") == "0007"

    with Session(blank_engine) as session:
        assert assert_status_counts_agree(session, mixed) == {"accepted": 3, "unknown": 1}
        assert assert_status_counts_agree(session, waiting) == {"pending": 2}
        assert status_counters(session, empty) == {}
    assert downgrade(blank_engine, "0006") == "0006"
    assert counters(blank_engine) == before  # the events counter stays; status counters are gone
    assert upgrade(blank_engine) == revisions.head()
    with Session(blank_engine) as session:
        assert status_counters(session, mixed) == {"accepted": 3, "unknown": 1}


def test_every_migration_goes_down_to_nothing_and_back_up_to_the_models(blank_engine: Engine) -> None:
    assert upgrade(blank_engine) == revisions.head()
    assert downgrade(blank_engine, "base") is None
    assert upgrade(blank_engine) == revisions.head()
    with blank_engine.connect() as conn:
        include = ours_on(blank_engine.dialect.name)
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include})
        assert compare_metadata(context, Base.metadata) == []


def a_send_with_a_batch_claimed_ahead(engine: Engine) -> int:
    with Session(engine) as session:
        send_id, _ = make_send(session, [])
        claimed = {"state": "claimed", "attempts": 2, "holder": "w:1:a"}
        session.add_all(
            [
                DeliveryBatch(send_id=send_id, first_id=1, last_id=3, size=3, state="done", attempts=1),
                DeliveryBatch(send_id=send_id, first_id=4, last_id=6, size=3, **claimed),
            ]
        )
        session.commit()
        return send_id


def test_downgrading_puts_batches_claimed_ahead_back_to_pending_and_upgrading_again_allows_the_state(
    blank_engine: Engine,
) -> None:
    assert upgrade(blank_engine, "0006") == "0006"
    send_id = a_send_with_a_batch_claimed_ahead(blank_engine)

    assert downgrade(blank_engine, "0005") == "0005"

    with Session(blank_engine) as session:
        rows = session.execute(
            select(DeliveryBatch.state, DeliveryBatch.attempts, DeliveryBatch.holder)
            .where(DeliveryBatch.send_id == send_id)
            .order_by(DeliveryBatch.id)
        ).all()
        assert [tuple(r) for r in rows] == [("done", 1, None), ("pending", 1, None)]
    with pytest.raises(IntegrityError), Session(blank_engine) as session, session.begin():
        session.execute(update(DeliveryBatch).values(state="claimed"))  # the old schema knows no `claimed`
    assert upgrade(blank_engine) == revisions.head()
    with Session(blank_engine) as session, session.begin():
        session.execute(update(DeliveryBatch).where(DeliveryBatch.state == "pending").values(state="claimed"))


def test_a_migration_that_recreates_sends_on_sqlite_keeps_the_rows_that_reference_it(
    engine: Engine, backend: str
) -> None:
    """Batch mode copies, drops and renames a table: the drop must not cascade to deliveries and batches."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL alters a table in place; only SQLite's batch mode recreates it")
    with Session(engine) as session:
        send_id, _ = make_send(session, ["a@x.org", "b@y.org"])
        session.commit()
    with migrating(engine) as connection:
        operations = Operations(MigrationContext.configure(connection))
        with operations.batch_alter_table("sends", recreate="always") as batch:
            batch.add_column(Column("scratch", Integer))
        with operations.batch_alter_table("sends", recreate="always") as batch:
            batch.drop_column("scratch")
    with Session(engine) as session:
        assert (
            session.scalar(select(func.count()).select_from(Delivery).where(Delivery.send_id == send_id)) == 2
        )
        assert_status_counts_agree(session, send_id)
        with engine.connect() as connection:  # enforcement is back on for everyone else
            if engine.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _send_columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("sends")}


def test_0011_drops_the_unused_sendgrid_batch_id_and_keeps_every_send_and_delivery(
    blank_engine: Engine,
) -> None:
    assert upgrade(blank_engine, "0007") == "0007"
    with Session(blank_engine) as session:
        send_id, _ = make_send(session, ["a@x.org", "b@y.org", "c@y.org"], statuses={1: "unknown"})
        session.commit()
    assert "sendgrid_batch_id" in _send_columns(blank_engine)

    assert upgrade(blank_engine, "0011") == "0011"

    assert "sendgrid_batch_id" not in _send_columns(blank_engine)
    with Session(blank_engine) as session:
        assert assert_status_counts_agree(session, send_id) == {"accepted": 2, "unknown": 1}
    assert downgrade(blank_engine, "0007") == "0007"
    assert "sendgrid_batch_id" in _send_columns(blank_engine)
    with Session(blank_engine) as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 3


def test_the_revisions_read_without_alembic_are_alembics() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert revisions.shipped() == {s.revision: s.down_revision for s in scripts.walk_revisions()}


def test_the_revision_read_without_alembic_is_alembics(blank_engine: Engine) -> None:
    assert revisions.current(blank_engine) is None
    upgrade(blank_engine, "0006")
    assert revisions.current(blank_engine) == current_revision(blank_engine) == "0006"


def test_0008_adds_sessions_totp_and_an_append_only_audit_log_and_its_downgrade_keeps_accounts_and_sends(
    blank_engine: Engine,
) -> None:
    from sqlalchemy import text

    from newsletter.db.audit import Action, Actor, record
    from newsletter.db.tables import AuditEntry, Send, StaffUser
    from newsletter.staff import add_user

    assert upgrade(blank_engine, "0007") == "0007"
    with Session(blank_engine) as session:
        send_id, _ = make_send(session, ["a@x.org"])
        session.commit()
    with blank_engine.begin() as conn:  # an account made before 0008 (no TOTP columns yet)
        conn.execute(
            text(
                "INSERT INTO staff_users (email, password_hash, role, active, created_at) "
                "VALUES ('ed@x.org', 'hash', 'editor', true, '2026-11-20 06:00:00')"
            )
        )

    assert upgrade(blank_engine, "0008") == "0008"

    with Session(blank_engine) as session:
        assert session.get(Send, send_id).hide_from_archive is False  # type: ignore[union-attr]
        user = session.scalars(select(StaffUser)).one()
        assert (user.totp_secret, user.password_changed_at) == (None, None)
        add_user(session, "admin@x.org", "admin", "a long enough password")
        record(session, Actor("admin@x.org", address="127.0.0.1"), Action.USER_ADD, "ed@x.org")
        session.commit()
    for statement in ("UPDATE audit_log SET actor = 'someone-else'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), blank_engine.begin() as conn:
            conn.execute(text(statement))
    with Session(blank_engine) as session:
        assert session.scalars(select(AuditEntry.actor)).all() == ["admin@x.org"]

    assert downgrade(blank_engine, "0007") == "0007"
    with blank_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM staff_users")).scalar() == 2
        assert conn.execute(text("SELECT count(*) FROM sends")).scalar() == 1
    assert upgrade(blank_engine) == revisions.head()


def test_0012_adds_saved_segments_and_on_postgresql_the_attribute_index_and_its_downgrade_removes_both(
    blank_engine: Engine,
) -> None:
    assert upgrade(blank_engine, "0012") == "0012"
    postgres = blank_engine.dialect.name == "postgresql"
    inspector = inspect(blank_engine)
    assert "segments" in inspector.get_table_names()
    indexes = {index["name"] for index in inspector.get_indexes("subscribers")}
    assert ("ix_subscribers_attributes" in indexes) is postgres
    if postgres:
        with blank_engine.connect() as conn:
            definition = conn.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_subscribers_attributes'"
            ).scalar()
        assert definition is not None
        assert "USING gin (attributes jsonb_path_ops)" in definition

    assert downgrade(blank_engine, "0011") == "0011"
    inspector = inspect(blank_engine)
    assert "segments" not in inspector.get_table_names()
    assert "ix_subscribers_attributes" not in {
        index["name"] for index in inspector.get_indexes("subscribers")
    }
