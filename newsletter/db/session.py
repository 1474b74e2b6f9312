"""The engine and session factory for NEWSLETTER_DATABASE_URL (SQLite file or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_CACHE_KIB = 32_000
"""Page cache per connection, grown only as used: keeps a large import's indexes in memory."""
SQLITE_CHECKPOINT_PAGES = 10_000
"""Checkpoint the WAL every ~40 MB rather than 4 MB: bulk writes rewrite the same pages less."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; for a SQLite file: creates its folder; WAL, foreign keys, busy timeout, cache."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine`; objects stay readable after commit (expire_on_commit=False)."""
    return sessionmaker(engine, expire_on_commit=False)


def describe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def is_postgres(where: Session | Connection | Engine | Dialect) -> bool:
    """Whether `where` (a session, connection, engine or dialect) talks to PostgreSQL rather than SQLite."""
    if isinstance(where, Session):
        where = where.get_bind()
    dialect = where if isinstance(where, Dialect) else where.dialect
    return dialect.name == "postgresql"


def dialect_insert(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of the session's dialect, so callers can add ON CONFLICT clauses (SQLite or PostgreSQL)."""
    if is_postgres(session):
        return postgresql.insert(table)
    return sqlite.insert(table)
