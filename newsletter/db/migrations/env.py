"""Alembic environment: migrates the connection handed over by newsletter.db.migrate (online only)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from newsletter.db.tables import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through newsletter.db.migrate.upgrade (or `newsletter db upgrade`)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
