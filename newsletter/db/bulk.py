"""Fast bulk SQL for imports: INSERT ... ON CONFLICT DO NOTHING for many rows, and `column IN many`.

SQLAlchemy's executemany converts every value of every row through its column type, and a
2,000-item IN list is 2,000 parameters for the driver to splice. For an import that is most of
the time, so here: each column's bind processor is taken once (callers convert constants once
per chunk), SQLite gets the driver's C executemany, and PostgreSQL gets one statement per chunk
with one array per column (unnest) and `= ANY(array)` instead of IN lists.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    FromClause,
    String,
    Table,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import InstrumentedAttribute, Session

from newsletter.db.session import is_postgres


class BulkInsert:
    """Many rows into one table, skipping rows that clash on `conflict`."""

    def __init__(
        self, session: Session, table: FromClause, columns: Sequence[str], conflict: Sequence[str]
    ) -> None:
        assert isinstance(table, Table)
        self._connection = session.connection()
        dialect = self._connection.dialect
        self._postgres = is_postgres(dialect)
        types = [table.c[name].type.dialect_impl(dialect) for name in columns]
        if self._postgres:
            arrays = ", ".join(f"%b::{kind.compile(dialect=dialect)}[]" for kind in types)
            values = f"SELECT * FROM unnest({arrays})"  # noqa: S608 (names and types are ours)
        else:
            values = f"VALUES ({', '.join('?' * len(columns))})"
        self.sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) {values} "
            f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
        )
        self._processors: dict[str, Callable[[Any], Any] | None] = {
            name: kind.bind_processor(dialect) for name, kind in zip(columns, types, strict=True)
        }

    def convert(self, column: str, value: Any) -> Any:
        """`value` as the driver wants it for `column` (a UTC datetime as SQLite text, a dict as JSON)."""
        processor = self._processors[column]
        return processor(value) if processor is not None and value is not None else value

    def run(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert converted rows, in the column order given at construction."""
        if not rows:
            return
        if self._postgres:
            self._connection.exec_driver_sql(
                self.sql, tuple(list(column) for column in zip(*rows, strict=True))
            )
        else:
            self._connection.exec_driver_sql(self.sql, list(rows))


def among(
    session: Session, column: InstrumentedAttribute[Any], values: Collection[Any]
) -> ColumnElement[bool]:
    """`column IN values` with one parameter: an array on PostgreSQL, a JSON array on SQLite."""
    if is_postgres(session):
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    items = func.json_each(bindparam(None, json_text(list(values)), type_=String))
    return column.in_(select(literal_column("value")).select_from(items))


def among_strings(
    session: Session, column: InstrumentedAttribute[Any], values: Collection[str]
) -> ColumnElement[bool]:
    """`column IN values` for text keys, as one JSON parameter on both backends.

    On PostgreSQL this is `= ANY(ARRAY(SELECT ... jsonb_array_elements_text(json)))`: psycopg
    quotes a list of strings element by element in Python (slow for thousands), orjson does not, and a
    large array literal can tip the planner into a sequential scan, which the sub-select
    (estimated at 100 rows) does not.
    """
    if not is_postgres(session):
        return among(session, column, values)
    document = cast(bindparam(None, json_text(list(values)), type_=String), JSONB)
    items = select(cast(func.jsonb_array_elements_text(document), column.type)).scalar_subquery()
    return column == any_(func.array(items))


def json_text(value: Any) -> str:
    """JSON text for a JSON or JSONB column (orjson: several times faster than json)."""
    return orjson.dumps(value).decode("utf-8")
