"""PostgreSQL's claim line: one batch's outcomes, the next batch's hand-over and the claim after it,
sent down one pipelined connection that the server works through while the worker builds a request.

A worker holds one batch `claimed` ahead (held, rows read, nothing sent). Per round:
`submit` sends, without waiting, the previous batch's marks, the upcoming batch's `claimed → sending`
(only if this worker still holds it and the send is still sending) and the claim of the batch after
it; the caller then builds the upcoming request; `collect` commits and reads the answers. Only a
batch whose hand-over committed may be sent, so a crash never leaves an unsent batch looking sent
(it stays `claimed`: recovery puts it back to pending) nor a sent one looking unsent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from itertools import starmap
from typing import Any, NamedTuple

import psycopg
from psycopg import Connection as PgConnection
from psycopg import Cursor as PgCursor
from sqlalchemy import Engine, and_, bindparam, exists, literal, or_, select, update
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from newsletter.audience.recipients import mailable
from newsletter.db.tables import Delivery, DeliveryBatch, Send, Subscriber
from newsletter.deliver.claims import Claimed, ClaimedBatch
from newsletter.deliver.marks import Parameters, Write


class Collected(NamedTuple):
    """What a round committed: whether the upcoming batch may be sent, the next claim, the send's status."""

    handed_over: bool
    claimed: ClaimedBatch | None
    status: str


@dataclass
class _Round:
    hand_over: PgCursor[Any] | None
    claim: PgCursor[Any] | None
    status: PgCursor[Any]


class ClaimLine:
    """One worker's pipelined connection for one send (PostgreSQL only); a context manager.

    Leaving it puts any batch still claimed ahead by this worker back to pending.
    """

    def __init__(self, engine: Engine, send_id: int, me: str, *, list_ids: Sequence[int] | None) -> None:
        self._engine = engine
        self._send_id = send_id
        self._me = me
        self._stack = ExitStack()
        self._round: _Round | None = None
        sending = exists().where(Send.id == send_id, Send.status == "sending")
        self._hand_over_sql = self._sql(
            update(DeliveryBatch)
            .where(
                DeliveryBatch.id == bindparam("batch_id", None),
                DeliveryBatch.holder == me,
                DeliveryBatch.state == "claimed",
                sending,
            )
            .values(state="sending", claimed_at=bindparam("now", None))
        )
        self._claim_sql = self._sql(_claim(send_id, me, list_ids, sending))
        self._status_sql = self._sql(select(Send.status).where(Send.id == send_id))
        self._release_sql = self._sql(
            update(DeliveryBatch)
            .where(
                DeliveryBatch.send_id == send_id, DeliveryBatch.holder == me, DeliveryBatch.state == "claimed"
            )
            .values(state="pending", holder=None, attempts=DeliveryBatch.attempts - 1)
        )
        self._pg: PgConnection[Any] | None = None

    def __enter__(self) -> ClaimLine:
        raw = self._engine.raw_connection()
        self._stack.callback(raw.close)
        connection = raw.driver_connection
        if not isinstance(connection, PgConnection):
            raise TypeError("the claim line needs a psycopg (PostgreSQL) connection")
        self._pg = connection
        self._stack.enter_context(connection.pipeline())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._pg is not None and not self._pg.closed:
                self._round = None
                self._pg.rollback()  # a round left uncollected (an exception between submit and collect)
                self.release()
        except psycopg.Error:
            pass  # the connection is gone: recovery puts the claimed batch back (it is stale)
        finally:
            self._pg = None
            self._stack.close()

    def submit(self, writes: Sequence[Write], *, hand_over: int | None, claim: bool, now: datetime) -> None:
        """Send `writes`, the hand-over of batch `hand_over` and (with `claim`) the next claim; no waiting."""
        if self._round is not None:
            raise RuntimeError("collect() the previous round first")
        for write in writes:
            self._execute(write.statement, write.parameters)
        params = {"now": now}
        self._round = _Round(
            hand_over=self._run(self._hand_over_sql, {**params, "batch_id": hand_over})
            if hand_over is not None
            else None,
            claim=self._run(self._claim_sql, params) if claim else None,
            status=self._run(self._status_sql, {}),
        )

    def collect(self) -> Collected:
        """Commit the round and read its answers."""
        if self._round is None:
            raise RuntimeError("nothing submitted")
        round_, self._round = self._round, None
        self._connection().commit()
        handed_over = round_.hand_over is not None and round_.hand_over.rowcount == 1
        claimed = _claimed(self._send_id, round_.claim.fetchall()) if round_.claim is not None else None
        status_row = round_.status.fetchone()
        return Collected(handed_over, claimed, status_row[0] if status_row else "")

    def release(self) -> None:
        """Put this worker's batches claimed ahead back to pending (committed)."""
        connection = self._connection()
        self._run(self._release_sql, {})
        connection.commit()

    # -- statements

    def _connection(self) -> PgConnection[Any]:
        if self._pg is None:
            raise RuntimeError("the claim line is not open")
        return self._pg

    def _sql(self, statement: ClauseElement, keys: Sequence[str] | None = None) -> tuple[str, SQLCompiler]:
        """`statement` compiled for psycopg; its own constants come from `construct_expanded_state`."""
        compiled = statement.compile(dialect=self._engine.dialect, column_keys=keys)
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"not a SQL statement: {statement!r}")
        return str(compiled), compiled

    def _execute(self, statement: ClauseElement, parameters: Parameters) -> PgCursor[Any]:
        """Run a Core statement on the pipelined connection (its values bound by psycopg, not SQLAlchemy)."""
        cursor = self._connection().cursor()
        if isinstance(parameters, list):
            _sql, compiled = self._sql(statement, list(parameters[0]) if parameters else None)
            states = [compiled.construct_expanded_state(row) for row in parameters]
            cursor.executemany(states[0].statement, [state.parameters for state in states])
        else:
            _sql, compiled = self._sql(statement, list(parameters) if parameters else None)
            state = compiled.construct_expanded_state(parameters)
            cursor.execute(state.statement, state.parameters)
        return cursor

    def _run(self, statement: tuple[str, SQLCompiler], params: dict[str, Any]) -> PgCursor[Any]:
        _sql, compiled = statement
        state = compiled.construct_expanded_state(params)
        cursor = self._connection().cursor()
        cursor.execute(state.statement, state.parameters)
        return cursor


def _claim(send_id: int, me: str, list_ids: Sequence[int] | None, sending: Any) -> ClauseElement:
    """Claim the send's first due pending batch as `claimed` and read its pending rows, in one statement.

    One row per pending delivery of the batch (batch columns first); a batch with none still gives
    one row (its delivery columns NULL), so it can be settled.
    """
    due = (
        select(DeliveryBatch.id)
        .where(
            DeliveryBatch.send_id == send_id,
            DeliveryBatch.state == "pending",
            or_(DeliveryBatch.not_before.is_(None), DeliveryBatch.not_before <= bindparam("now", None)),
        )
        .order_by(DeliveryBatch.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    taken = (
        update(DeliveryBatch)
        .where(DeliveryBatch.id == due, sending)
        .values(
            state="claimed", holder=me, claimed_at=bindparam("now", None), attempts=DeliveryBatch.attempts + 1
        )
        .returning(DeliveryBatch.id, DeliveryBatch.first_id, DeliveryBatch.last_id, DeliveryBatch.attempts)
        .cte("taken")
    )
    now_mailable = mailable(list_ids) if list_ids is not None else literal(True)
    rows = and_(
        Delivery.id.between(taken.c.first_id, taken.c.last_id),
        Delivery.send_id + 0 == send_id,
        Delivery.status == "pending",
    )
    return (
        select(
            taken.c.id,
            taken.c.first_id,
            taken.c.last_id,
            taken.c.attempts,
            Delivery.id,
            Delivery.subscriber_id,
            Delivery.email,
            Subscriber.public_id,
            Subscriber.name,
            Subscriber.attributes["first_name"].as_string(),
            Subscriber.attributes["last_name"].as_string(),
            now_mailable,
        )
        .select_from(taken)
        .outerjoin(Delivery, rows)
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .order_by(Delivery.id)
    )


def _claimed(send_id: int, rows: Sequence[tuple[Any, ...]]) -> ClaimedBatch | None:
    if not rows:
        return None
    batch_id, first_id, last_id, attempts = rows[0][:4]
    claimed = list(starmap(Claimed, _delivery_columns(rows)))
    return ClaimedBatch(batch_id, send_id, first_id, last_id, attempts, claimed)


def _delivery_columns(rows: Sequence[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        if row[4] is not None:
            yield row[4:]


__all__ = ["ClaimLine", "Collected"]
