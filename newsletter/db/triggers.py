"""Skipping PostgreSQL's foreign-key triggers for one statement whose keys the caller has proved."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from newsletter.db.session import is_postgres


def may_skip_triggers(cursor: Any) -> bool:
    """Whether this role may set session_replication_role (superuser, or granted on PostgreSQL 15+)."""
    cursor.execute(
        "SELECT current_setting('is_superuser') = 'on', current_setting('server_version_num')::int"
    )
    superuser, version = cursor.fetchone()
    if superuser:
        return True
    if version < 150000:
        return False
    cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
    return bool(cursor.fetchone()[0])


@contextmanager
def foreign_keys_proven(session: Session, *, allowed: bool | None = None) -> Iterator[bool]:
    """Run the block with foreign-key triggers off where PostgreSQL lets this role; yields whether it did.

    Only for statements whose every key the caller has made certain in the same transaction (a row it
    locked, or rows the statement itself creates): constraints stay, other writes are checked as usual.
    Elsewhere (SQLite, an unprivileged role) the block runs with every check, only slower. `allowed`:
    the answer of `may_skip_triggers` when the caller already has it (None: ask the database).
    """
    skip = False
    if is_postgres(session):
        skip = allowed if allowed is not None else _may_skip_here(session)
    if skip:
        session.execute(text("SET LOCAL session_replication_role = replica"))
    try:
        yield skip
    finally:
        if skip:
            session.execute(text("SET LOCAL session_replication_role = origin"))


def _may_skip_here(session: Session) -> bool:
    return may_skip_triggers(session.connection().connection.driver_connection.cursor())  # type: ignore[union-attr]
