"""Writing a sent batch's outcomes: what to write (`BatchMarks`) and writing it through a session.

A SendGrid request answers for up to 1000 recipients at once, so most rows of a batch share one
outcome. `BatchMarks` says it that way: the common outcome of the batch's rows, and only the rows
whose outcome differs (an SMTP reply, a missing merge value, a refused address) one by one. Written
as one primary-key range UPDATE for the common outcome (leaving out the exceptions) plus one
executemany per status for the exceptions, then the batch settled. Rows to retry stay `pending` and
their batch goes back to pending after a back-off, or they fail once the batch was tried
`max_attempts` times. Every UPDATE touches only rows still `pending` (erasure or a stale-claim
recovery may have settled one meanwhile), so how many rows it changed is exactly how many moved from
pending to its status: those moves are counted in the send's status counters in the same transaction.

This module writes marks through a session (`run_marks`: SQLite's leased line, and any one-off);
PostgreSQL's claim line writes the same `BatchMarks` in one pipelined statement (`engine/pipeline.py`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Update, bindparam, not_, update
from sqlalchemy.orm import Session

from newsletter.db.bulk import among
from newsletter.db.counters import Deltas, status_moved
from newsletter.db.tables import Delivery, DeliveryBatch
from newsletter.deliver.engine.claims import ClaimedBatch, in_batch
from newsletter.deliver.transports.base import DeliveryResult


class Values(NamedTuple):
    """What a mark sets on a row: status ("pending" for a retry), detail, sent_at, provider message id."""

    status: str
    detail: str | None
    sent_at: datetime | None
    message_id: str | None


Parameters = dict[str, Any] | list[dict[str, Any]] | None

STILL_PENDING = Delivery.status == "pending"

_MARK_ONE = update(Delivery).where(Delivery.id == bindparam("delivery_id"), STILL_PENDING)
"""One row with values of its own (executemany: `delivery_id` and the columns of `_row`)."""


class Write(NamedTuple):
    """One statement that changes delivery rows or batches, with its parameters (a list: executemany).

    `moves_to`: the statement moves delivery rows still `pending` (its WHERE says so) to this status;
    the rows it changed are counted as moves in the send's status counters.
    """

    statement: Update
    parameters: Parameters = None
    moves_to: str | None = None


@dataclass(frozen=True, slots=True)
class BatchMarks:
    """A sent batch's outcomes: `common` for every row of the batch still pending except `exceptions`
    (None: no common outcome, only the exceptions), then the batch settled (`settles`): done, or pending
    again from `retry_at`. `outcomes` counts the rows by outcome ("retry": left pending)."""

    send_id: int
    batch_id: int
    first_id: int
    last_id: int
    attempts: int
    common: Values | None
    exceptions: list[tuple[int, Values]]
    retry_at: datetime | None
    settles: bool = True
    outcomes: Counter[str] = field(default_factory=Counter)

    def exception_ids(self) -> list[int]:
        """The delivery ids marked one by one."""
        return [delivery_id for delivery_id, _ in self.exceptions]


def batch_marks(
    batch: ClaimedBatch,
    results: Sequence[DeliveryResult],
    *,
    whole_batch: bool,
    now: datetime,
    max_attempts: int,
    retry_base_seconds: float,
    settles: bool = True,
) -> BatchMarks:
    """The marks of a sent batch. `whole_batch`: `results` answer for every row of the batch still
    pending (the common outcome may then be written by id range); otherwise every result is an exception."""
    give_up = batch.attempts >= max_attempts
    verdicts: Counter[tuple[str, str | None, str]] = Counter(
        (result.outcome, result.provider_message_id, result.detail) for result in results
    )
    common_verdict = verdicts.most_common(1)[0][0] if whole_batch and verdicts else None
    memo: dict[tuple[str, str | None, str], Values] = {}
    exceptions: list[tuple[int, Values]] = []
    outcomes: Counter[str] = Counter()
    for verdict, n in verdicts.items():
        values = memo[verdict] = _values(*verdict, now, give_up, max_attempts)
        outcomes["retry" if values.status == "pending" else values.status] += n
    if len(verdicts) > 1 or common_verdict is None:
        for result in results:
            verdict = (result.outcome, result.provider_message_id, result.detail)
            if verdict != common_verdict:
                exceptions.append((result.delivery_id, memo[verdict]))
    retry_at = None
    if outcomes["retry"]:
        retry_at = now + timedelta(seconds=retry_base_seconds * 2 ** (batch.attempts - 1))
    common = memo[common_verdict] if common_verdict is not None else None
    return BatchMarks(
        batch.send_id,
        batch.batch_id,
        batch.first_id,
        batch.last_id,
        batch.attempts,
        common,
        exceptions,
        retry_at,
        settles,
        outcomes,
    )


def run_marks(session: Session, marks: BatchMarks, deltas: Deltas) -> None:
    """Write `marks` on the session's connection, their moves added to `deltas`: the exceptions (one
    executemany per status), the common outcome (one range UPDATE leaving them out), the batch settled."""
    connection = session.connection()
    by_status: dict[str, list[dict[str, Any]]] = {}
    for delivery_id, values in marks.exceptions:
        by_status.setdefault(values.status, []).append(_row(delivery_id, values, marks.attempts))
    for status, rows in by_status.items():
        result = connection.execute(_MARK_ONE, rows)
        status_moved(deltas, marks.send_id, "pending", status, result.rowcount)
    if marks.common is not None:
        where = [in_batch(marks.send_id, marks.first_id, marks.last_id), STILL_PENDING]
        if marks.exceptions:
            where.append(not_(among(session, Delivery.id, marks.exception_ids())))
        result = connection.execute(
            update(Delivery).where(*where).values(_row(None, marks.common, marks.attempts))
        )
        status_moved(deltas, marks.send_id, "pending", marks.common.status, result.rowcount)
    if marks.settles:
        connection.execute(settle_write(marks.batch_id, retry_at=marks.retry_at).statement)


def settle_write(batch_id: int, *, retry_at: datetime | None = None) -> Write:
    """The batch done; or, with `retry_at`, pending again from then on (its unsettled rows retried)."""
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
        return Values("failed", f"gave up after {max_attempts} attempts: {detail}", None, None)
    if outcome == "retry":
        return Values("pending", detail or None, None, None)
    sent_at = now if outcome == "accepted" else None
    return Values(outcome, detail or None, sent_at, message_id)


def _row(delivery_id: int | None, values: Values, attempts: int) -> dict[str, Any]:
    row: dict[str, Any] = {} if delivery_id is None else {"delivery_id": delivery_id}
    row.update(
        status=values.status,
        detail=values.detail,
        sent_at=values.sent_at,
        provider_message_id=values.message_id,
        attempts=attempts,
    )
    return row
