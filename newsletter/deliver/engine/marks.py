"""Writing a sent batch's outcomes: its delivery rows (one UPDATE per distinct outcome) and the batch itself.

A SendGrid request answers for up to 1000 recipients at once (same status, detail and message id):
when one answer covers every row the batch sent, they are marked with one primary-key range UPDATE;
otherwise one `UPDATE ... WHERE id IN (...)` per answer, and rows whose values are their own (an
outbox file path, an SMTP reply) go in one executemany per status. Rows to retry stay `pending` and
their batch goes back to pending after a back-off, or they fail once the batch was tried `max_attempts`
times. Every UPDATE touches only rows still `pending` (erasure or a stale-claim recovery may have
settled one meanwhile), so how many rows it changed is exactly how many moved from pending to its
status: those moves are counted in the send's status counters (`db.counters`) in the same transaction.

The statements are built apart from running them (`Write`), so PostgreSQL's pipelined loop can send
them down its own connection (`deliver/pipeline.py`, counting the moves in SQL) while the usual path
runs them on the session and counts the moves from each statement's row count (`run_writes`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Update, bindparam, update
from sqlalchemy.orm import Session

from newsletter.db.bulk import among
from newsletter.db.counters import Deltas, status_moved
from newsletter.db.tables import Delivery, DeliveryBatch
from newsletter.deliver.engine.claims import ClaimedBatch, in_batch
from newsletter.deliver.transports.base import DeliveryResult, chunked

Values = tuple[str, str | None, datetime | None, str | None]
"""(status, detail, sent_at, provider_message_id) of a marked row."""

Parameters = dict[str, Any] | list[dict[str, Any]] | None

STILL_PENDING = Delivery.status == "pending"
MARKED_COLUMNS = ("status", "detail", "sent_at", "provider_message_id", "attempts")
"""The columns a mark sets (`_row`)."""

_MARK_ONE = update(Delivery).where(Delivery.id == bindparam("delivery_id"), STILL_PENDING)
"""One row with values of its own (executemany: `delivery_id` and the columns of `_row`)."""


class Write(NamedTuple):
    """One statement that records outcomes, with its parameters (a list: executed once per item).

    `moves_to`: the statement moves delivery rows still `pending` (its WHERE says so) to this status;
    the rows it changed are counted as moves in the send's status counters.
    """

    statement: Update
    parameters: Parameters = None
    moves_to: str | None = None
    whole_batch: WholeBatch | None = None


class WholeBatch(NamedTuple):
    """What a `Write` marking all of a batch's pending rows alike sets (lets a caller keep one statement)."""

    first_id: int
    last_id: int
    values: dict[str, Any]


def batch_writes(
    session: Session,
    batch: ClaimedBatch,
    results: Sequence[DeliveryResult],
    *,
    covers_batch: bool,
    now: datetime,
    max_attempts: int,
    retry_base_seconds: float,
) -> tuple[list[Write], Counter[str]]:
    """The writes recording a sent batch (its rows, then the batch settled), and the rows' outcomes."""
    writes, outcomes = row_writes(
        session, batch, results, covers_batch=covers_batch, now=now, max_attempts=max_attempts
    )
    retry_at = None
    if outcomes["retry"]:
        retry_at = now + timedelta(seconds=retry_base_seconds * 2 ** (batch.attempts - 1))
    writes.append(settle_write(batch.batch_id, retry_at=retry_at))
    return writes, outcomes


def row_writes(
    session: Session,
    batch: ClaimedBatch,
    results: Sequence[DeliveryResult],
    *,
    covers_batch: bool,
    now: datetime,
    max_attempts: int,
) -> tuple[list[Write], Counter[str]]:
    """The statements writing each result to its row, and the rows' outcomes ("retry": left pending)."""
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
    if covers_batch and len(groups) == 1:
        ((values, _ids),) = groups.items()
        row = _row(None, values, batch.attempts)
        whole = (
            update(Delivery)
            .where(in_batch(batch.send_id, batch.first_id, batch.last_id), STILL_PENDING)
            .values(row)
        )
        covers = WholeBatch(batch.first_id, batch.last_id, row)
        return [Write(whole, moves_to=values[0], whole_batch=covers)], outcomes
    writes: list[Write] = []
    singles: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for values, ids in groups.items():
        if len(ids) == 1:
            singles[values[0]].append(_row(ids[0], values, batch.attempts))
    for status, rows in singles.items():
        writes.append(Write(_MARK_ONE, rows, moves_to=status))
    for values, ids in groups.items():
        if len(ids) > 1:
            for chunk in chunked(ids, 1000):
                statement = (
                    update(Delivery)
                    .where(among(session, Delivery.id, chunk), STILL_PENDING)
                    .values(_row(None, values, batch.attempts))
                )
                writes.append(Write(statement, moves_to=values[0]))
    return writes, outcomes


def settle(session: Session, batch_id: int, *, retry_at: datetime | None = None) -> None:
    """The batch is done; or, with `retry_at`, pending again from then on (its unsettled rows retried)."""
    session.connection().execute(settle_write(batch_id, retry_at=retry_at).statement)


def settle_write(batch_id: int, *, retry_at: datetime | None = None) -> Write:
    """What `settle` writes."""
    values: dict[str, Any] = {"holder": None, "state": "done" if retry_at is None else "pending"}
    if retry_at is not None:
        values["not_before"] = retry_at
    return Write(update(DeliveryBatch).where(DeliveryBatch.id == batch_id).values(values))


def run_writes(session: Session, writes: Sequence[Write], send_id: int, deltas: Deltas) -> None:
    """Run `writes` in order on the session's connection (Core: no ORM bulk-update machinery); the rows
    each one moved from pending are added to `deltas` (executemany: the sum over its parameter sets)."""
    connection = session.connection()
    for write in writes:
        result = connection.execute(write.statement, write.parameters)
        if write.moves_to is not None:
            status_moved(deltas, send_id, "pending", write.moves_to, result.rowcount)


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
