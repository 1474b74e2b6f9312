"""Claiming a send's delivery batches: leases (SQLite), SKIP LOCKED (PostgreSQL), stale-claim recovery."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Update, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.people.recipients import mailable
from newsletter.db.counters import Deltas, status_moved
from newsletter.db.session import dialect_insert, is_postgres
from newsletter.db.tables import Delivery, DeliveryBatch, Subscriber, WorkerLease

UNKNOWN_AFTER_CRASH = "the worker stopped while this request was in flight; outcome unknown until reconciled"


def worker_identity() -> str:
    """`host:pid:random`: unique per process, and tells a restarted worker on the same host who died."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def holder_is_dead(holder: str) -> bool:
    """True when `holder` names a process on this host that no longer runs."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


HEARTBEAT_PREFIX = "worker:"


def heartbeat_name(worker_id: str) -> str:
    """The lease row that is `worker_id`'s heartbeat."""
    return HEARTBEAT_PREFIX + worker_id


def expired_heartbeats(session: Session, holders: Collection[str]) -> set[str]:
    """Which of `holders` have a heartbeat that ran out: they stopped beating, so they are dead."""
    names = {heartbeat_name(holder): holder for holder in holders if holder}
    if not names:
        return set()
    expired = session.scalars(
        select(WorkerLease.name).where(WorkerLease.name.in_(names), WorkerLease.expires_at < clock.now())
    )
    return {names[name] for name in expired}


def acquire_lease(session: Session, name: str, holder: str, seconds: float) -> bool:
    """Take or renew lease `name` for `holder`; True if held. Commits nothing itself."""
    now = clock.now()
    expires = now + timedelta(seconds=seconds)
    renewed = session.execute(
        update(WorkerLease)
        .where(WorkerLease.name == name, or_(WorkerLease.holder == holder, WorkerLease.expires_at <= now))
        .values(holder=holder, expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    if renewed.rowcount:  # type: ignore[attr-defined]
        return True
    current = session.scalar(select(WorkerLease.holder).where(WorkerLease.name == name))
    if current is None:
        stmt = dialect_insert(session, WorkerLease).on_conflict_do_nothing(index_elements=["name"])
        inserted = session.connection().execute(stmt, {"name": name, "holder": holder, "expires_at": expires})
        return bool(inserted.rowcount)
    if holder_is_dead(current):
        taken = session.execute(
            update(WorkerLease)
            .where(WorkerLease.name == name, WorkerLease.holder == current)
            .values(holder=holder, expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        return bool(taken.rowcount)  # type: ignore[attr-defined]
    return False


def release_lease(session: Session, name: str, holder: str) -> None:
    """Give up lease `name` if `holder` has it."""
    session.execute(
        update(WorkerLease)
        .where(WorkerLease.name == name, WorkerLease.holder == holder)
        .values(expires_at=clock.now())
        .execution_options(synchronize_session=False)
    )


def plan_batches(
    session: Session, send_id: int, size: int, *, made: tuple[int, int, int] | None = None
) -> int:
    """Cut the send's pending rows into batches of `size` consecutive rows (by id), unless it has some.

    Once per send, when a worker first starts it (under the send's row lock or lease): ranges never
    overlap, so no row can be claimed by two workers. `made`: (first id, last id, count) of the rows
    materialising just made, all pending (saves a pass over them). Returns how many batches it made.
    """
    if session.scalar(select(DeliveryBatch.id).where(DeliveryBatch.send_id == send_id).limit(1)):
        return 0
    pending = (Delivery.send_id == send_id, Delivery.status == "pending")
    first, last, count = (
        made
        or session.execute(
            select(func.min(Delivery.id), func.max(Delivery.id), func.count()).where(*pending)
        ).one()
    )
    if not count:
        return 0
    if last - first + 1 == count:  # every id in between is one of them (the usual case): cut by arithmetic
        starts = range(first, last + 1, size)
        session.execute(
            insert(DeliveryBatch),
            [
                {
                    "send_id": send_id,
                    "first_id": start,
                    "last_id": min(start + size - 1, last),
                    "size": min(size, last + 1 - start),
                    "state": "pending",
                    "attempts": 0,
                }
                for start in starts
            ],
        )
        return len(starts)
    numbered = (
        select(
            Delivery.id,
            ((func.row_number().over(order_by=Delivery.id) - 1) // size).label("n"),
        )
        .where(*pending)
        .subquery()
    )
    ranges = select(
        literal(send_id),
        func.min(numbered.c.id),
        func.max(numbered.c.id),
        func.count(),
        literal("pending"),
        literal(0),
    ).group_by(numbered.c.n)
    columns = ["send_id", "first_id", "last_id", "size", "state", "attempts"]
    inserted = session.execute(insert(DeliveryBatch).from_select(columns, ranges).returning(DeliveryBatch.id))
    return len(inserted.all())


def recover_stale(
    session: Session,
    send_id: int,
    me: str,
    *,
    stale_before: datetime,
    resend: bool,
    exclusive: bool,
    deltas: Deltas,
) -> int:
    """Batches a stopped worker held: `claimed` ones (nothing sent) pending again; `sending` ones
    pending again if resending is harmless, else done with their unsent rows `unknown` (never blindly
    re-sent), counted in `deltas`. Returns how many batches it recovered.

    With `exclusive` (we hold the send's lease) every other holder's claim is stale; otherwise a claim
    is stale when its holder's heartbeat ran out (`engine/heartbeat.py`), when it is older than
    `stale_before`, or when its holder is a dead process on this host.
    """
    query = select(
        DeliveryBatch.id,
        DeliveryBatch.state,
        DeliveryBatch.first_id,
        DeliveryBatch.last_id,
        DeliveryBatch.holder,
        DeliveryBatch.claimed_at,
    ).where(
        DeliveryBatch.send_id == send_id,
        DeliveryBatch.state.in_(("claimed", "sending")),
        or_(DeliveryBatch.holder.is_(None), DeliveryBatch.holder != me),
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    held = session.execute(query).all()
    stopped_beating = expired_heartbeats(session, {row.holder for row in held if row.holder})
    stale = [
        row
        for row in held
        if exclusive
        or row.claimed_at is None
        or row.claimed_at < stale_before
        or row.holder in stopped_beating
        or holder_is_dead(row.holder or "")
    ]
    claimed_ahead = [row.id for row in stale if row.state == "claimed"]
    if claimed_ahead:
        session.execute(unclaim(DeliveryBatch.id.in_(claimed_ahead)))
    for row in stale:
        if row.state == "claimed":
            continue
        if not resend:
            unknown = session.connection().execute(
                update(Delivery)
                .where(in_batch(send_id, row.first_id, row.last_id), Delivery.status == "pending")
                .values(status="unknown", detail=UNKNOWN_AFTER_CRASH)
            )
            status_moved(deltas, send_id, "pending", "unknown", unknown.rowcount)
        session.execute(
            update(DeliveryBatch)
            .where(DeliveryBatch.id == row.id)
            .values(state="pending" if resend else "done", holder=None)
            .execution_options(synchronize_session=False)
        )
    return len(stale)


def unclaim(*where: ColumnElement[bool]) -> Update:
    """UPDATE giving the batches matching `where` back to pending, their claim not counted as an attempt
    (nothing of them was sent: a batch claimed ahead, or one whose send the provider refused)."""
    return (
        update(DeliveryBatch)
        .where(*where)
        .values(state="pending", holder=None, attempts=DeliveryBatch.attempts - 1)
        .execution_options(synchronize_session=False)
    )


def in_batch(send_id: int, first_id: Any, last_id: Any) -> ColumnElement[bool]:
    """WHERE clause for a batch's delivery rows: a primary-key range scan.

    `send_id + 0` keeps the planner off the (send_id, email) index: SQLite would otherwise walk all
    of the send's rows for each batch. The send check stays: another send's rows may share the range.
    The bounds are ids, or columns / bind parameters holding them.
    """
    return Delivery.id.between(first_id, last_id) & (Delivery.send_id + 0 == send_id)


class Claimed(NamedTuple):
    """One claimed delivery row with what the merge needs, and whether its subscriber may be mailed now."""

    delivery_id: int
    subscriber_id: int | None
    email: str
    public_id: str | None
    name: str | None
    first_name: str | None  # the attributes merge tags use (reading the whole JSON costs more)
    last_name: str | None
    mailable: bool = True


@dataclass(frozen=True, slots=True)
class ClaimedBatch:
    """A batch this worker holds (`attempts` counts its claims, this one included) and its pending rows."""

    batch_id: int
    send_id: int
    first_id: int
    last_id: int
    attempts: int
    rows: list[Claimed]


def claimed_columns(list_ids: Sequence[int] | None) -> tuple[Any, ...]:
    """What a claim reads of each delivery row, in `Claimed`'s order (outer-join `Subscriber`).

    With `list_ids`, the last says whether the subscriber may still be mailed on those lists
    (unsubscribed, suppressed or erased since scheduling: not); a test send's rows always may.
    """
    now_mailable = mailable(list_ids) if list_ids is not None else literal(True)
    return (
        Delivery.id,
        Delivery.subscriber_id,
        Delivery.email,
        Subscriber.public_id,
        Subscriber.name,
        Subscriber.attributes["first_name"].as_string(),
        Subscriber.attributes["last_name"].as_string(),
        now_mailable,
    )


def take_first_due(
    send_id: int, me: str, *, state: str, now: Any, skip_locked: bool, where: Sequence[Any] = ()
) -> Update:
    """UPDATE holding the send's first due pending batch for `me` in `state` (`sending`, or `claimed`
    ahead), its attempt counted; RETURNING its id, first_id, last_id and attempts. `now`: a time or a
    bind parameter; `skip_locked` (PostgreSQL): concurrent workers take different batches; `where`:
    further conditions on the UPDATE (the claim line's "send still sending")."""
    due = (
        select(DeliveryBatch.id)
        .where(
            DeliveryBatch.send_id == send_id,
            DeliveryBatch.state == "pending",
            or_(DeliveryBatch.not_before.is_(None), DeliveryBatch.not_before <= now),
        )
        .order_by(DeliveryBatch.id)
        .limit(1)
    )
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    return (
        update(DeliveryBatch)
        .where(DeliveryBatch.id == due.scalar_subquery(), *where)
        .values(state=state, holder=me, claimed_at=now, attempts=DeliveryBatch.attempts + 1)
        .returning(DeliveryBatch.id, DeliveryBatch.first_id, DeliveryBatch.last_id, DeliveryBatch.attempts)
        .execution_options(synchronize_session=False)
    )
