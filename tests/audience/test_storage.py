"""The database kernel: migrations match the models on both backends; SQLite is set up safely."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from support.schema import ours_on

from newsletter.db.migrate import current_revision, upgrade
from newsletter.db.revisions import head
from newsletter.db.session import make_engine
from newsletter.db.tables import Base, MailingList, Subscriber


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        include = ours_on(engine.dialect.name)
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include})
        assert compare_metadata(context, Base.metadata) == []
    assert current_revision(engine) == head()


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    assert upgrade(engine) == head()


def test_sqlite_file_gets_its_folder_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/nested/var/newsletter.db")
    try:
        assert upgrade(engine) == head()
        assert (tmp_path / "nested" / "var" / "newsletter.db").is_file()
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
    finally:
        engine.dispose()


def _subscriber(email: str, when: datetime) -> Subscriber:
    return Subscriber(
        email=email, email_hash=email, attributes={}, status="enabled", created_at=when, updated_at=when
    )


def test_times_come_back_as_utc(session: Session) -> None:
    paris = timezone(timedelta(hours=1))
    session.add(_subscriber("a@example.com", datetime(2026, 1, 2, 9, 30, tzinfo=paris)))
    session.commit()
    session.expire_all()
    stored = session.scalars(select(Subscriber)).one()
    assert stored.created_at == datetime(2026, 1, 2, 8, 30, tzinfo=UTC)
    assert stored.created_at.tzinfo is UTC


def test_naive_times_are_refused(session: Session) -> None:
    session.add(_subscriber("a@example.com", datetime(2026, 1, 2, 9, 30)))
    with pytest.raises(Exception, match="naive datetime"):
        session.commit()


def test_emails_are_unique(session: Session) -> None:
    now = datetime.now(UTC)
    session.add(_subscriber("a@example.com", now))
    session.commit()
    session.add(
        Subscriber(
            email="a@example.com",
            email_hash="other",
            attributes={},
            status="enabled",
            created_at=now,
            updated_at=now,
        )
    )
    with pytest.raises(IntegrityError):
        session.commit()


def test_status_values_are_checked(session: Session) -> None:
    now = datetime.now(UTC)
    session.add(MailingList(name="x", description="", visibility="secret", opt_in="single", created_at=now))
    with pytest.raises(IntegrityError):
        session.commit()
