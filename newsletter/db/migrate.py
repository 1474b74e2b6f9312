"""Runs the Alembic migrations in newsletter/db/migrations programmatically (no alembic.ini).

On SQLite, Alembic's batch mode changes a table by copying it, dropping the old one and renaming the copy.
With foreign keys enforced, dropping a table that others reference `ON DELETE CASCADE` (sends: deliveries,
batches, counters) would delete their rows, so migrations run with enforcement off and the keys are checked
(`PRAGMA foreign_key_check`) before the migration commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine

from newsletter.db import revisions
from newsletter.db.session import is_postgres
from newsletter.errors import ConfigError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic config pointing at the package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate the database to `revision`; returns the revision it is at afterwards.

    ConfigError when the database is at a revision this code does not know (a newer version migrated it).
    """
    current = current_revision(engine)
    if current is not None and current not in revisions.shipped():
        raise ConfigError(f"the database {revisions.newer_than_code(current)}")
    config = alembic_config()
    with migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return current_revision(engine)


def downgrade(engine: Engine, revision: str) -> str | None:
    """Migrate the database down to `revision`; returns the revision it is at afterwards."""
    config = alembic_config()
    with migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    return current_revision(engine)


@contextmanager
def migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction to migrate in; on SQLite with foreign keys unenforced, and checked before commit."""
    with engine.connect() as connection:
        sqlite = not is_postgres(connection)
        if sqlite:  # a no-op inside a transaction, so before it begins
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                yield connection
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").first()):
                    raise ConfigError(
                        f"a migration broke a foreign key of table {broken[0]}; nothing changed"
                    )
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
