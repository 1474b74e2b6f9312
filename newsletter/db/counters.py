"""Per-send counters in `send_counters`: one upsert adding many deltas, in key order.

Event ingestion keeps report figures here, in the transaction that stores the events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from sqlalchemy.orm import Session

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
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            upsert.format(
                values="SELECT * FROM unnest(%b::bigint[], %b::varchar[], %b::varchar[], %b::bigint[])"
            ),
            tuple(list(column) for column in zip(*rows, strict=True)),
        )
        return
    connection.exec_driver_sql(upsert.format(values="VALUES (?, ?, ?, ?)"), rows)
