"""Claiming delivery rows in batches: leases (SQLite), SKIP LOCKED (PostgreSQL), stale-claim recovery."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Update, any_, func, literal, or_, select, update
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.bulk import among
from newsletter.audience.recipients import mailable
from newsletter.db.session import dialect_insert
from newsletter.db.tables import Delivery, Subscriber, WorkerLease
from newsletter.deliver.transport import chunked

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


def recover_stale(
    session: Session, send_id: int, me: str, *, stale_before: datetime, resend: bool, exclusive: bool
) -> int:
    """Rows left `sending` by a stopped worker: back to pending if resending is harmless, else unknown.

    With `exclusive` (we hold the send's lease) every other holder's claim is stale; otherwise a claim
    is stale when older than `stale_before` or its holder is a dead process on this host.
    """
    rows = session.execute(
        select(Delivery.id, Delivery.claimed_by, Delivery.claimed_at).where(
            Delivery.send_id == send_id, Delivery.status == "sending", Delivery.claimed_by != me
        )
    ).all()
    stale = [
        row.id
        for row in rows
        if exclusive
        or row.claimed_at is None
        or row.claimed_at < stale_before
        or holder_is_dead(row.claimed_by)
    ]
    for chunk in chunked(stale, 1000):
        values: dict[str, Any] = (
            {"status": "pending", "claimed_by": None}
            if resend
            else {"status": "unknown", "detail": UNKNOWN_AFTER_CRASH}
        )
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(chunk))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return len(stale)


@dataclass(frozen=True, slots=True)
class Claimed:
    """One claimed delivery row with what the merge needs, and whether its subscriber may be mailed now."""

    delivery_id: int
    subscriber_id: int | None
    email: str
    public_id: str | None
    name: str | None
    attributes: dict[str, Any]
    mailable: bool = True


def claim_batch(
    session: Session,
    send_id: int,
    me: str,
    size: int,
    *,
    after: int = 0,
    list_ids: Sequence[int] | None = None,
) -> list[Claimed]:
    """Mark up to `size` due pending rows of a send with ids above `after` as `sending` by `me`; return them.

    With `list_ids`, each row's `mailable` says whether its subscriber may still be mailed on those
    lists (unsubscribed, suppressed or erased since scheduling: not), read in the same query as its data.

    `after` is the caller's keyset cursor: the index on (send_id, status, id) leads straight to the
    next pending rows instead of past every row claimed before. PostgreSQL locks the chosen rows with
    SKIP LOCKED, so concurrent workers take disjoint batches, and takes them as one array so the plan
    cannot turn into a scan of the whole send.
    """
    now = clock.now()
    due = (
        select(Delivery.id)
        .where(
            Delivery.send_id == send_id,
            Delivery.status == "pending",
            Delivery.id > after,
            or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
        )
        .order_by(Delivery.id)
        .limit(size)
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        chosen = Delivery.id == any_(func.array(due.with_for_update(skip_locked=True).scalar_subquery()))
    else:
        chosen = Delivery.id.in_(due.scalar_subquery())
    claim = (
        update(Delivery)
        .where(chosen)
        .values(status="sending", claimed_by=me, claimed_at=now, attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    now_mailable = mailable(list_ids) if list_ids is not None else literal(True)
    merge_data: tuple[Any, ...] = (
        Subscriber.public_id,
        Subscriber.name,
        Subscriber.attributes["first_name"].as_string(),
        Subscriber.attributes["last_name"].as_string(),
        now_mailable,
    )
    rows: Sequence[Any]
    if postgres:  # one statement: the claim's RETURNING rows joined to their subscribers
        rows = session.connection().execute(_claim_and_read(claim, merge_data)).all()
    else:  # SQLite has no UPDATE inside WITH: claim, then read the claimed rows
        ids = sorted(session.execute(claim.returning(Delivery.id)).scalars())
        if not ids:
            return []
        rows = (
            session.connection()
            .execute(
                select(Delivery.id, Delivery.subscriber_id, Delivery.email, *merge_data)
                .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
                .where(among(session, Delivery.id, ids))
                .order_by(Delivery.id)
            )
            .all()
        )
    # Only the attributes merge tags use are read: parsing every subscriber's whole JSON costs more.
    return [Claimed(r[0], r[1], r[2], r[3], r[4], _names(r[5], r[6]), bool(r[7])) for r in rows]


def _claim_and_read(claim: Update, merge_data: tuple[Any, ...]) -> Select[Any]:
    """WITH claimed AS (UPDATE ... RETURNING id, subscriber_id, email) SELECT them with their merge data."""
    claimed = claim.returning(Delivery.id, Delivery.subscriber_id, Delivery.email).cte("claimed")
    return (
        select(claimed.c.id, claimed.c.subscriber_id, claimed.c.email, *merge_data)
        .select_from(claimed.outerjoin(Subscriber, Subscriber.id == claimed.c.subscriber_id))
        .order_by(claimed.c.id)
    )


def _names(first: str | None, last: str | None) -> dict[str, Any]:
    if first is None and last is None:
        return {}
    return {name: value for name, value in (("first_name", first), ("last_name", last)) if value is not None}
