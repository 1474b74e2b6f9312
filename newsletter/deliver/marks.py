"""Writing a sent batch's outcomes: its delivery rows (one UPDATE per distinct outcome) and the batch itself.

A SendGrid request answers for up to 1000 recipients at once (same status, detail and message id):
when one answer covers every row the batch sent, they are marked with one primary-key range UPDATE;
otherwise one `UPDATE ... WHERE id IN (...)` per answer, and rows whose values are their own (an
outbox file path, an SMTP reply) go in one executemany per status. Rows to retry stay `pending` and
their batch goes back to pending after a back-off, or they fail once the batch was tried `max_attempts`
times. Every UPDATE touches only rows still `pending` (erasure or a stale-claim recovery may have
settled one meanwhile), so its row count is exactly how many rows moved from pending to its status:
those moves are added to the caller's status deltas (`db.counters`), written before its commit.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from newsletter.audience.bulk import among
from newsletter.db.counters import Deltas, status_moved
from newsletter.db.tables import Delivery, DeliveryBatch
from newsletter.deliver.claims import ClaimedBatch, in_batch
from newsletter.deliver.transport import DeliveryResult, chunked

Values = tuple[str, str | None, datetime | None, str | None]
"""(status, detail, sent_at, provider_message_id) of a marked row."""

_MARK_ONE = update(Delivery).where(Delivery.id == bindparam("delivery_id"), Delivery.status == "pending")
"""One row with values of its own (executemany: `delivery_id` and the columns of `_row`)."""


def mark_batch(
    session: Session,
    batch: ClaimedBatch,
    results: Sequence[DeliveryResult],
    *,
    covers_batch: bool,
    now: datetime,
    max_attempts: int,
    retry_base_seconds: float,
    deltas: Deltas,
) -> Counter[str]:
    """Mark each result's row and settle the batch: done, or pending again if a row is to be retried.

    `covers_batch`: `results` answer for every row of the batch still pending (none was left out).
    The status moves are added to `deltas`.
    """
    outcomes = mark_rows(
        session,
        batch,
        results,
        covers_batch=covers_batch,
        now=now,
        max_attempts=max_attempts,
        deltas=deltas,
    )
    retry_at = None
    if outcomes["retry"]:
        retry_at = now + timedelta(seconds=retry_base_seconds * 2 ** (batch.attempts - 1))
    settle(session, batch.batch_id, retry_at=retry_at)
    return outcomes


def mark_rows(
    session: Session,
    batch: ClaimedBatch,
    results: Sequence[DeliveryResult],
    *,
    covers_batch: bool,
    now: datetime,
    max_attempts: int,
    deltas: Deltas,
) -> Counter[str]:
    """Write each result to its row still pending (a retry stays pending, or fails on the batch's last
    attempt); the rows that moved are added to `deltas` by status."""
    give_up = batch.attempts >= max_attempts
    # A request's verdict is shared by its rows: group by it first, work out the row values once per verdict.
    verdicts: defaultdict[tuple[str, str | None, str], list[int]] = defaultdict(list)
    for result in results:
        verdicts[result.outcome, result.provider_message_id, result.detail].append(result.delivery_id)
    groups: defaultdict[Values, list[int]] = defaultdict(list)
    for (outcome, message_id, detail), ids in verdicts.items():
        groups[_values(outcome, message_id, detail, now, give_up, max_attempts)].extend(ids)
    outcomes: Counter[str] = Counter()
    for values, ids in groups.items():
        outcomes["retry" if values[0] == "pending" else values[0]] += len(ids)
    connection = session.connection()
    still_pending = Delivery.status == "pending"
    moved: Counter[str] = Counter()
    if covers_batch and len(groups) == 1:
        ((values, _ids),) = groups.items()
        marked = connection.execute(
            update(Delivery)
            .where(in_batch(batch.send_id, batch.first_id, batch.last_id), still_pending)
            .values(_row(None, values, batch.attempts))
        )
        moved[values[0]] += marked.rowcount
    else:
        singles: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for values, ids in groups.items():
            if len(ids) == 1:
                singles[values[0]].append(_row(ids[0], values, batch.attempts))
        for status, rows in singles.items():
            marked = connection.execute(_MARK_ONE, rows)  # executemany: the count is their sum
            moved[status] += marked.rowcount
        for values, ids in groups.items():
            if len(ids) > 1:
                for chunk in chunked(ids, 1000):
                    marked = connection.execute(
                        update(Delivery)
                        .where(among(session, Delivery.id, chunk), still_pending)
                        .values(_row(None, values, batch.attempts))
                    )
                    moved[values[0]] += marked.rowcount
    for status, n in moved.items():
        status_moved(deltas, batch.send_id, "pending", status, n)
    return outcomes


def settle(session: Session, batch_id: int, *, retry_at: datetime | None = None) -> None:
    """The batch is done; or, with `retry_at`, pending again from then on (its unsettled rows retried)."""
    values: dict[str, Any] = {"holder": None, "state": "done" if retry_at is None else "pending"}
    if retry_at is not None:
        values["not_before"] = retry_at
    session.connection().execute(update(DeliveryBatch).where(DeliveryBatch.id == batch_id).values(values))


def _values(
    outcome: str, message_id: str | None, detail: str, now: datetime, give_up: bool, max_attempts: int
) -> Values:
    if outcome == "retry" and give_up:
        return ("failed", f"gave up after {max_attempts} attempts: {detail}", None, None)
    if outcome == "retry":
        return ("pending", detail or None, None, None)
    sent_at = now if outcome == "accepted" else None
    return (outcome, detail or None, sent_at, message_id)


def _row(delivery_id: int | None, values: Values, attempts: int) -> dict[str, Any]:
    status, detail, sent_at, message_id = values
    row: dict[str, Any] = {} if delivery_id is None else {"delivery_id": delivery_id}
    row.update(
        status=status, detail=detail, sent_at=sent_at, provider_message_id=message_id, attempts=attempts
    )
    return row
