"""Which schema revision a database is at, and whether this code can use it, without importing Alembic.

Commands check the database before they start, and most should not pay for loading Alembic: the revisions
are read from the migration files' `revision` / `down_revision` lines (a test holds this to Alembic's view).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, column, inspect, select, table

VERSIONS_DIR = Path(__file__).resolve().parent / "migrations" / "versions"
VERSION_TABLE = "alembic_version"
_VERSION = table(VERSION_TABLE, column("version_num"))
_LINE = re.compile(r"""^(down_revision|revision)\s*=\s*(?:["']([^"']+)["']|None)\s*$""", re.MULTILINE)


@cache
def shipped() -> dict[str, str | None]:
    """Every revision this code ships → the revision it follows (None for the first)."""
    chain: dict[str, str | None] = {}
    for path in sorted(VERSIONS_DIR.glob("*.py")):
        found = dict(_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" in found:
            chain[found["revision"]] = found.get("down_revision") or None
    return chain


def head() -> str | None:
    """The newest revision this code ships (the one no other follows)."""
    followed = set(shipped().values())
    return next((revision for revision in shipped() if revision not in followed), None)


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        return connection.execute(select(_VERSION.c.version_num)).scalar()


def schema_problem(engine: Engine) -> str | None:
    """Why this code cannot use the database (never migrated, behind, newer than the code), or None."""
    at, newest = current(engine), head()
    if at == newest:
        return None
    if at is not None and at not in shipped():
        return newer_than_code(at)
    return f"is at revision {at or 'none'}, this version needs {newest}; run `newsletter db upgrade`"


def newer_than_code(at: str) -> str:
    """The sentence for a database migrated by a newer version of the code."""
    return (
        f"is at revision {at}, newer than this version of newsletter knows (its newest is {head()}); "
        "run the newer version, or restore a backup"
    )
