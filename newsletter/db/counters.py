"""Per-send counters in `send_counters`: one sorted upsert adding deltas, and the delivery-status figures.

Event ingestion keeps report figures here; every write that makes delivery rows or changes their
`status` adds its moves under name "status" (key: the status) in the same transaction, so a send's
progress is read from a few counter rows instead of counting its deliveries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.db.session import is_postgres
from newsletter.db.tables import SendCounter

STATUS: Final = "status"
"""The counter name of delivery statuses: (send_id, "status", status) → how many rows have it."""

Deltas = Counter[tuple[int, str, str]]
"""(send_id, name, key) → how much to add."""


def add_counters(session: Session, deltas: Mapping[tuple[int, str, str], int]) -> None:
    """Add each (send_id, name, key) delta to its counter row, creating it at 0 first if needed.

    Rows are written in key order, so concurrent writers lock them in the same order (no deadlock
    between them). Deltas that are all zero write nothing.
    """
    rows = sorted((send_id, name, key, n) for (send_id, name, key), n in deltas.items() if n)
    if not rows:
        return
    upsert = (
        "INSERT INTO send_counters (send_id, name, key, value) {values} ON CONFLICT (send_id, name, key) "
        "DO UPDATE SET value = send_counters.value + excluded.value"
    )
    connection = session.connection()
    if is_postgres(connection):
        connection.exec_driver_sql(
            upsert.format(
                values="SELECT * FROM unnest(%b::bigint[], %b::varchar[], %b::varchar[], %b::bigint[])"
            ),
            tuple(list(column) for column in zip(*rows, strict=True)),
        )
        return
    connection.exec_driver_sql(upsert.format(values="VALUES (?, ?, ?, ?)"), rows)


def status_added(deltas: Deltas, send_id: int, status: str, n: int) -> None:
    """`n` delivery rows of the send were made with `status`."""
    if n:
        deltas[(send_id, STATUS, status)] += n


def status_moved(deltas: Deltas, send_id: int, old: str, new: str, n: int) -> None:
    """`n` delivery rows of the send went from status `old` to `new`."""
    if n and old != new:
        deltas[(send_id, STATUS, old)] -= n
        deltas[(send_id, STATUS, new)] += n


def status_counts(session: Session, send_ids: Collection[int]) -> dict[int, dict[str, int]]:
    """Delivery rows per status of each send (statuses with none left out): counter rows only."""
    counts: dict[int, dict[str, int]] = {send_id: {} for send_id in send_ids}
    if not counts:
        return counts
    query = select(SendCounter.send_id, SendCounter.key, SendCounter.value).where(
        SendCounter.send_id.in_(sorted(counts)), SendCounter.name == STATUS, SendCounter.value != 0
    )
    for send_id, status, n in session.execute(query):
        counts[send_id][status] = n
    return counts
