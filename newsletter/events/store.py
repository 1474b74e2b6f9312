"""Set-based SQL for ingestion: events in with ON CONFLICT DO NOTHING RETURNING, and delivery rows.

One statement per batch where the database allows it: PostgreSQL gets one array per column (unnest),
SQLite a multi-row VALUES (or the driver's C executemany). Values are converted by each column's own
bind processor, once, rather than through the ORM per row.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from newsletter.db.bulk import among
from newsletter.db.session import is_postgres
from newsletter.db.tables import Delivery, Event

EVENT_COLUMNS: Final = (
    "sg_event_id",
    "type",
    "occurred_at",
    "received_at",
    "send_id",
    "delivery_id",
    "email_hash",
    "domain",
    "sg_message_id",
    "bounce_type",
    "classification",
    "machine_open",
    "url",
    "suppression",
    "detail",
)
_PG_TYPES: Final = {
    "occurred_at": "timestamptz",
    "received_at": "timestamptz",
    "send_id": "bigint",
    "delivery_id": "bigint",
    "machine_open": "boolean",
    "url": "text",
    "detail": "text",
}
SQLITE_ROWS_PER_STATEMENT: Final = 1000


class DeliveryState(NamedTuple):
    """What ingestion reads and writes on a delivery row."""

    id: int
    event_flags: int
    status: str
    outcome: str | None
    outcome_at: datetime | None


def insert_events(session: Session, rows: Sequence[tuple[Any, ...]]) -> set[str]:
    """Insert event rows (tuples in EVENT_COLUMNS order, detail as JSON text), skipping known sg_event_ids.

    Returns the sg_event_ids actually inserted.
    """
    if not rows:
        return set()
    connection = session.connection()
    table = Event.__table__
    assert isinstance(table, Table)
    names = ", ".join(EVENT_COLUMNS)
    if is_postgres(session):
        arrays = ", ".join(f"%b::{_PG_TYPES.get(c, 'varchar')}[]" for c in EVENT_COLUMNS)
        columns = ", ".join("detail::jsonb" if c == "detail" else c for c in EVENT_COLUMNS)
        sql = (
            f"INSERT INTO events ({names}) SELECT {columns} FROM unnest({arrays}) AS v({names}) "  # noqa: S608
            "ON CONFLICT (sg_event_id) DO NOTHING RETURNING sg_event_id"
        )
        params = tuple(list(column) for column in zip(*rows, strict=True))
        return {r[0] for r in connection.exec_driver_sql(sql, params)}
    when = EVENT_COLUMNS.index("occurred_at")
    times: dict[datetime, str | None] = {}  # a batch's events share a few seconds, and one received_at
    inserted: set[str] = set()
    for start in range(0, len(rows), SQLITE_ROWS_PER_STATEMENT):
        chunk = rows[start : start + SQLITE_ROWS_PER_STATEMENT]
        one = f"({', '.join('?' * len(EVENT_COLUMNS))})"
        sql = (
            f"INSERT INTO events ({names}) VALUES {', '.join([one] * len(chunk))} "  # noqa: S608
            "ON CONFLICT (sg_event_id) DO NOTHING RETURNING sg_event_id"
        )
        flat = [value for row in chunk for value in row]
        for i in range(when, len(flat), len(EVENT_COLUMNS)):
            flat[i] = times.get(flat[i]) or times.setdefault(flat[i], sqlite_time(flat[i]))
            flat[i + 1] = times.get(flat[i + 1]) or times.setdefault(flat[i + 1], sqlite_time(flat[i + 1]))
        inserted.update(r[0] for r in connection.exec_driver_sql(sql, tuple(flat)))
    return inserted


def lock_deliveries(session: Session, ids: Collection[int]) -> dict[int, DeliveryState]:
    """The current state of these deliveries, locked until commit on PostgreSQL (id order).

    FOR NO KEY UPDATE: ingestion never changes keys, so it need not block other transactions' foreign
    key checks against these rows (as a plain FOR UPDATE would).
    """
    if not ids:
        return {}
    query = (
        select(Delivery.id, Delivery.event_flags, Delivery.status, Delivery.outcome, Delivery.outcome_at)
        .where(among(session, Delivery.id, sorted(ids)))
        .order_by(Delivery.id)
        .with_for_update(key_share=True)  # PostgreSQL: FOR NO KEY UPDATE
    )
    return {row.id: DeliveryState(*row) for row in session.execute(query)}


def update_deliveries(session: Session, states: Sequence[DeliveryState]) -> None:
    """Write flags, outcome, outcome_at and status back to these delivery rows."""
    if not states:
        return
    connection = session.connection()
    if is_postgres(session):
        connection.exec_driver_sql(
            "UPDATE deliveries AS d SET event_flags = v.f, status = v.s, outcome = v.o, outcome_at = v.t "
            "FROM unnest(%b::bigint[], %b::int[], %b::varchar[], %b::varchar[], %b::timestamptz[]) "
            "AS v(id, f, s, o, t) WHERE d.id = v.id",
            tuple(list(column) for column in zip(*states, strict=True)),
        )
        return
    connection.exec_driver_sql(
        "UPDATE deliveries SET event_flags = ?, status = ?, outcome = ?, outcome_at = ? WHERE id = ?",
        [(s.event_flags, s.status, s.outcome, sqlite_time(s.outcome_at), s.id) for s in states],
    )


def sqlite_time(value: datetime | None) -> str | None:
    """An aware datetime as UTCDateTime stores it on SQLite (naive UTC, microseconds): fast, for bulk rows."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given; use newsletter.clock.now()")
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]
