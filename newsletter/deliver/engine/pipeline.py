"""PostgreSQL's claim line: a batch's marks, the next batch's hand-over and the claim after it, sent
down one pipelined connection that the server works through while the worker builds a request.

The round is the one `engine/line.py` describes; here it is one round trip. A batch's marks are one
statement (its exceptions through `unnest` and its common outcome by id range as data-modifying
CTEs, whose RETURNING feeds the status counters' upsert), so nothing waits for row counts. Every
statement of a round has a fixed shape compiled once when the line is made (public SQLAlchemy API:
`compile`, `construct_expanded_state`); only rare extra writes (skips) are compiled when they come.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from itertools import starmap
from typing import Any

import psycopg
from psycopg import Connection as PgConnection
from psycopg import Cursor as PgCursor
from psycopg import Pipeline
from sqlalchemy import (
    BigInteger,
    Boolean,
    CompoundSelect,
    DateTime,
    Engine,
    Select,
    String,
    Text,
    Update,
    all_,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter

from newsletter.db.counters import STATUS, Deltas, status_moved
from newsletter.db.tables import Delivery, DeliveryBatch, Send, SendCounter, Subscriber
from newsletter.deliver.engine.claims import (
    Claimed,
    ClaimedBatch,
    claimed_columns,
    in_batch,
    take_first_due,
    unclaim,
)
from newsletter.deliver.engine.line import HANDED_OVER_FROM, Collected
from newsletter.deliver.engine.marks import STILL_PENDING, BatchMarks, Parameters, Write

Compiled = tuple[str, SQLCompiler]


@dataclass
class _Round:
    hand_over: PgCursor[Any] | None
    claim: PgCursor[Any] | None
    status: PgCursor[Any]


class PipelinedLine:
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
                DeliveryBatch.state.in_(HANDED_OVER_FROM),
                sending,
            )
            .values(state="sending", claimed_at=bindparam("now", None))
        )
        self._claim_sql = self._sql(_claim(send_id, me, list_ids, sending))
        self._status_sql = self._sql(select(Send.status).where(Send.id == send_id))
        self._marks_sql = self._sql(_counted(send_id, _mark_statements(send_id)))
        self._settle_sql = self._sql(
            update(DeliveryBatch)
            .where(DeliveryBatch.id == bindparam("batch_id", None))
            .values(
                holder=None,
                state=bindparam("state", None),
                not_before=func.coalesce(
                    bindparam("not_before", None, type_=DateTime(timezone=True)), DeliveryBatch.not_before
                ),
            )
        )
        self._release_sql = self._sql(
            unclaim(
                DeliveryBatch.send_id == send_id, DeliveryBatch.holder == me, DeliveryBatch.state == "claimed"
            )
        )
        self._raw: PoolProxiedConnection | None = None
        self._pg: PgConnection[Any] | None = None
        self._pipeline: Pipeline | None = None

    def __enter__(self) -> PipelinedLine:
        raw = self._engine.raw_connection()
        self._raw = raw
        connection = raw.driver_connection
        if not isinstance(connection, PgConnection):
            raw.close()
            raise TypeError("the claim line needs a psycopg (PostgreSQL) connection")
        self._pg = connection
        try:
            self._pipeline = self._stack.enter_context(connection.pipeline())
        except BaseException:
            raw.invalidate()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        broken = False
        try:
            if self._pg is not None and not self._pg.closed:
                self._round = None
                self._pg.rollback()  # a round left uncollected (an exception between submit and collect)
                self.release()
        except psycopg.Error:
            broken = True  # the connection is gone: recovery puts the claimed batch back (it is stale)
        finally:
            self._pg = self._pipeline = None
            try:
                self._stack.close()
            except psycopg.Error:
                broken = True
            if self._raw is not None:
                raw, self._raw = self._raw, None
                if broken:
                    raw.invalidate()  # never back into the pool
                else:
                    raw.close()

    def submit(
        self,
        marks: BatchMarks | None,
        writes: Sequence[Write],
        *,
        hand_over: int | None,
        claim: bool,
        now: datetime,
    ) -> None:
        """Send the round down the pipeline; no waiting."""
        if self._round is not None:
            raise RuntimeError("collect() the previous round first")
        if marks is not None:
            self._mark(marks)
        self._count_moves([write for write in writes if write.moves_to is not None])
        for write in writes:
            if write.moves_to is None:
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

    def _mark(self, marks: BatchMarks) -> None:
        """The batch's marks and their counters in one statement, then the batch settled."""
        columns: tuple[list[Any], ...] = ([], [], [], [], [])
        for delivery_id, values in marks.exceptions:
            for column, value in zip(columns, (delivery_id, *values), strict=True):
                column.append(value)
        common = marks.common or (None, None, None, None)
        ids, statuses, details, sent_ats, message_ids = columns
        self._run(
            self._marks_sql,
            {
                "ids": ids,
                "statuses": statuses,
                "details": details,
                "sent_ats": sent_ats,
                "message_ids": message_ids,
                "whole": marks.common is not None,
                "first_id": marks.first_id,
                "last_id": marks.last_id,
                "status": common[0],
                "detail": common[1],
                "sent_at": common[2],
                "message_id": common[3],
                "attempts": marks.attempts,
            },
        )
        if marks.settles:
            state = "done" if marks.retry_at is None else "pending"
            self._run(
                self._settle_sql, {"batch_id": marks.batch_id, "state": state, "not_before": marks.retry_at}
            )

    def _count_moves(self, writes: Sequence[Write]) -> None:
        """Run the writes that move rows from pending and add their moves to the send's status counters.

        One statement when none has values of its own (the UPDATEs as data-modifying CTEs feeding the
        counters' upsert); otherwise they run, the pipeline syncs for their row counts, and the counts go
        in one upsert. Either way the counter rows are written once, in key order (no deadlock).
        """
        if not writes:
            return
        if all(write.parameters is None for write in writes):
            self._execute(_counted(self._send_id, [write.statement for write in writes]), None)
            return
        cursors = [(write, self._execute(write.statement, write.parameters)) for write in writes]
        self._pipeline_sync()
        deltas: Deltas = Counter()
        for write, cursor in cursors:
            status_moved(deltas, self._send_id, "pending", write.moves_to or "pending", cursor.rowcount)
        if any(deltas.values()):
            self._execute(_added(deltas), None)

    def _pipeline_sync(self) -> None:
        if self._pipeline is None:
            raise RuntimeError("the claim line is not open")
        self._pipeline.sync()

    # -- statements

    def _connection(self) -> PgConnection[Any]:
        if self._pg is None:
            raise RuntimeError("the claim line is not open")
        return self._pg

    def _sql(self, statement: ClauseElement, keys: Sequence[str] | None = None) -> Compiled:
        """`statement` compiled for psycopg (once, for the statements of every round)."""
        compiled = statement.compile(dialect=self._engine.dialect, column_keys=keys)
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"not a SQL statement: {statement!r}")
        return str(compiled), compiled

    def _execute(self, statement: ClauseElement, parameters: Parameters) -> PgCursor[Any]:
        """Run a one-off Core statement on the pipelined connection, compiled now (rare: skips, and
        settling a batch with nothing left to send)."""
        rows = parameters if isinstance(parameters, list) else None
        keys = list(rows[0]) if rows else (list(parameters) if isinstance(parameters, dict) else None)
        sql, compiled = self._sql(statement, keys)
        cursor = self._connection().cursor()
        if rows is not None:
            cursor.executemany(sql, [compiled.construct_params(row) for row in rows])
        else:
            state = compiled.construct_expanded_state(parameters if isinstance(parameters, dict) else None)
            cursor.execute(state.statement, state.parameters)
        return cursor

    def _run(self, statement: Compiled, params: dict[str, Any]) -> PgCursor[Any]:
        _sql, compiled = statement
        state = compiled.construct_expanded_state(params)
        cursor = self._connection().cursor()
        cursor.execute(state.statement, state.parameters)
        return cursor


def _mark_statements(send_id: int) -> list[Update]:
    """A batch's marks as two UPDATEs with bind parameters: the exceptions, one row each (arrays zipped
    by `unnest`), and the common outcome for the rest of the batch's pending rows (when `whole`)."""
    ids = cast(bindparam("ids", None), ARRAY(BigInteger))
    given = (
        func.unnest(
            ids,
            cast(bindparam("statuses", None), ARRAY(String)),
            cast(bindparam("details", None), ARRAY(Text)),
            cast(bindparam("sent_ats", None), ARRAY(DateTime(timezone=True))),
            cast(bindparam("message_ids", None), ARRAY(String)),
        )
        .table_valued("id", "status", "detail", "sent_at", "message_id")
        .render_derived(name="given")
    )
    attempts: BindParameter[Any] = bindparam("attempts", None)
    own = (
        update(Delivery)
        .where(Delivery.id == given.c.id, STILL_PENDING)
        .values(
            status=given.c.status,
            detail=given.c.detail,
            sent_at=given.c.sent_at,
            provider_message_id=given.c.message_id,
            attempts=attempts,
        )
    )
    rest = (
        update(Delivery)
        .where(
            bindparam("whole", None, type_=Boolean),
            in_batch(send_id, bindparam("first_id", None), bindparam("last_id", None)),
            STILL_PENDING,
            Delivery.id != all_(ids),
        )
        .values(
            status=bindparam("status", None),
            detail=bindparam("detail", None),
            sent_at=bindparam("sent_at", None, type_=DateTime(timezone=True)),
            provider_message_id=bindparam("message_id", None),
            attempts=attempts,
        )
    )
    return [own, rest]


def _claim(send_id: int, me: str, list_ids: Sequence[int] | None, sending: Any) -> ClauseElement:
    """Claim the send's first due pending batch as `claimed` and read its pending rows, in one statement.

    One row per pending delivery of the batch (batch columns first); a batch with none still gives
    one row (its delivery columns NULL), so it can be settled.
    """
    now: BindParameter[Any] = bindparam("now", None)
    take = take_first_due(send_id, me, state="claimed", now=now, skip_locked=True, where=[sending])
    taken = take.cte("taken")
    rows = and_(in_batch(send_id, taken.c.first_id, taken.c.last_id), Delivery.status == "pending")
    return (
        select(taken.c.id, taken.c.first_id, taken.c.last_id, taken.c.attempts, *claimed_columns(list_ids))
        .select_from(taken)
        .outerjoin(Delivery, rows)
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .order_by(Delivery.id)
    )


def _counted(send_id: int, statements: Sequence[Update]) -> ClauseElement:
    """The UPDATEs (each moving rows still pending to one status) and, in the same statement, their
    moves added to the send's status counters: `WITH m0 AS (UPDATE ... RETURNING status), ...
    INSERT INTO send_counters ... ON CONFLICT DO UPDATE` (data-modifying CTEs run exactly once)."""
    moves = [statement.returning(Delivery.status).cte(f"moved_{n}") for n, statement in enumerate(statements)]
    selects = [select(move.c.status.label("status")) for move in moves]
    moved = (selects[0] if len(selects) == 1 else union_all(*selects)).cte("moved")
    to = select(moved.c.status.label("key"), func.count().label("n")).group_by(moved.c.status)
    from_pending = select(literal("pending").label("key"), (-func.count()).label("n")).select_from(moved)
    deltas = union_all(to, from_pending).subquery("deltas")
    total = func.sum(deltas.c.n)
    rows = (
        select(literal(send_id), literal(STATUS), deltas.c.key, cast(total, BigInteger))
        .group_by(deltas.c.key)
        .having(total != 0)
        .order_by(deltas.c.key)
    )
    statement = _upsert(rows)
    for cte in [*moves, moved]:
        statement = statement.add_cte(cte)
    return statement


def _added(deltas: Deltas) -> ClauseElement:
    """Add these (send_id, name, key) deltas to their counters, in key order."""
    rows: list[Any] = [
        select(literal(send_id), literal(name), literal(key), literal(n, BigInteger))
        for (send_id, name, key), n in sorted(deltas.items())
        if n
    ]
    return _upsert(rows[0] if len(rows) == 1 else union_all(*rows))


def _upsert(rows: Select[Any] | CompoundSelect[Any]) -> Insert:
    statement = pg_insert(SendCounter).from_select(["send_id", "name", "key", "value"], rows)
    return statement.on_conflict_do_update(
        index_elements=["send_id", "name", "key"],
        set_={"value": SendCounter.value + statement.excluded.value},
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


__all__ = ["PipelinedLine"]
