"""A throw-away PostgreSQL schema for a benchmark run (created, pointed at, dropped)."""

from __future__ import annotations

import os
import secrets


def postgres_schema(base: str) -> tuple[str, str]:
    """A fresh schema and a URL whose search_path points at it."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    joiner = "&" if "?" in base else "?"
    return schema, f"{base}{joiner}options=-csearch_path%3D{schema}"


def drop_schema(base: str, schema: str) -> None:
    """Remove a schema made by postgres_schema."""
    from sqlalchemy import create_engine, text

    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
