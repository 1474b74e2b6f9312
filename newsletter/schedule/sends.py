"""Creating sends (a frozen rendered issue × lists, or a test to given addresses) and moving their state."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.addresses import normalise_email
from newsletter.audience.people.lists import get_list
from newsletter.audience.people.recipients import count_recipients
from newsletter.content.schema import Publication
from newsletter.db.counters import Deltas, add_counters, status_added, status_counts, status_moved
from newsletter.db.tables import Delivery, DeliveryBatch, Event, MailingList, Send, SendList, SendStatus
from newsletter.errors import NotFound, ScheduleError
from newsletter.render import RenderedIssue
from newsletter.schedule.snapshot import snapshot_fields
from newsletter.schedule.states import transition

MAX_ROW_ID = 2**63 - 1
"""The largest id a row can have (BIGINT); a larger number names no send."""
PUBLIC_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
"""What a send's public id looks like (`db.tables.new_public_id`)."""
OPEN_STATES = ("pending", "sending")
"""Delivery statuses not yet settled ("sending": rows of the pre-batch design only)."""


@dataclass(frozen=True)
class SendSummary:
    """A send with its progress, for tables and pages."""

    send: Send
    lists: tuple[str, ...]
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Delivery rows so far (0 until the send starts)."""
        return sum(self.counts.values())

    @property
    def targets(self) -> str:
        """Who it goes to: its lists, or `test: ` and the addresses of a test send."""
        if self.send.is_test:
            return "test: " + ", ".join(self.send.test_recipients)
        return ", ".join(self.lists) or "(its lists were deleted)"

    @property
    def done(self) -> int:
        """Rows no longer waiting to be sent."""
        return self.total - sum(self.counts.get(state, 0) for state in OPEN_STATES)


def create_send(
    session: Session,
    rendered: RenderedIssue,
    publication: Publication,
    *,
    list_names: Sequence[str],
    transport: str,
    at: datetime | None = None,
    created_by: str = "",
    hide_from_archive: bool = False,
) -> Send:
    """Schedule `rendered` for the members of `list_names` at `at` (now when None).

    With `hide_from_archive` it never shows in the public archive or feed (sends to private lists never do).
    """
    if not list_names:
        raise ScheduleError("a send needs at least one list (--list NAME)")
    lists = [get_list(session, name) for name in dict.fromkeys(list_names)]
    when = at or clock.now()
    if when.utcoffset() is None:
        raise ScheduleError("the send time must carry a time zone")
    send = _new_send(rendered, publication, transport=transport, created_by=created_by)
    send.scheduled_at = when
    if hide_from_archive:
        send.hide_from_archive = True
    transition(send, SendStatus.SCHEDULED)
    session.add(send)
    session.flush()
    session.add_all(SendList(send_id=send.id, list_id=lst.id) for lst in lists)
    session.flush()
    return send


def create_test_send(
    session: Session,
    rendered: RenderedIssue,
    publication: Publication,
    *,
    addresses: Sequence[str],
    transport: str,
    created_by: str = "",
    limit: int | None = None,
) -> Send:
    """A send to the given addresses only (at most `limit`), marked as a test, due now; its deliveries exist
    at once."""
    emails = list(dict.fromkeys(normalise_email(a) for a in addresses if a.strip()))
    if not emails:
        raise ScheduleError("a test send needs at least one address (--test-to a@example.org)")
    if limit is not None and len(emails) > limit:
        raise ScheduleError(
            f"a test send goes to at most {limit} addresses (NEWSLETTER_TEST_SEND_MAX_RECIPIENTS); "
            f"{len(emails)} were given"
        )
    send = _new_send(rendered, publication, transport=transport, created_by=created_by)
    send.is_test = True
    send.test_recipients = emails
    send.scheduled_at = clock.now()
    transition(send, SendStatus.SCHEDULED)
    send.materialized = True
    session.add(send)
    session.flush()
    session.add_all(Delivery(send_id=send.id, email=e, domain=e.rpartition("@")[2]) for e in emails)
    session.flush()
    deltas: Deltas = Counter()
    status_added(deltas, send.id, "pending", len(emails))
    add_counters(session, deltas)
    return send


def _new_send(rendered: RenderedIssue, publication: Publication, *, transport: str, created_by: str) -> Send:
    now = clock.now()
    return Send(
        **snapshot_fields(rendered, publication),
        transport=transport,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        is_test=False,
        test_recipients=[],
        materialized=False,
        status=SendStatus.DRAFT,
    )


def get_send(session: Session, ref: str | int, *, for_update: bool = False) -> Send:
    """A send by numeric id or public id; NotFound otherwise (also for ids no row could have)."""
    text = str(ref).strip()
    if text.isascii() and text.isdecimal():
        if int(text) > MAX_ROW_ID:
            raise NotFound(f"no send {text[:40]!r} (see `newsletter sends`)")
        query = select(Send).where(Send.id == int(text))
    elif PUBLIC_ID_PATTERN.fullmatch(text):
        query = select(Send).where(Send.public_id == text)
    else:
        raise NotFound(f"no send {text[:40]!r} (see `newsletter sends`)")
    if for_update:
        query = query.with_for_update()
    send = session.scalars(query).first()
    if send is None:
        raise NotFound(f"no send {text!r} (see `newsletter sends`)")
    return send


def send_list_ids(session: Session, send: Send) -> list[int]:
    """The ids of the lists a send goes to."""
    return list(session.scalars(select(SendList.list_id).where(SendList.send_id == send.id)))


def recipient_count(session: Session, list_names: Sequence[str]) -> int:
    """How many people a send to `list_names` would reach now (for the confirmation)."""
    return count_recipients(session, [get_list(session, name).id for name in list_names])


def pause(session: Session, ref: str | int) -> Send:
    """Stop claiming new batches; the batch in flight finishes."""
    send = get_send(session, ref, for_update=True)
    transition(send, SendStatus.PAUSED)
    return send


def resume(session: Session, ref: str | int) -> Send:
    """Schedule a paused send again; it continues where it stopped when due."""
    send = get_send(session, ref, for_update=True)
    transition(send, SendStatus.SCHEDULED, verb="resume")
    return send


def cancel(session: Session, ref: str | int) -> Send:
    """Cancel for good; recipients not yet sent to stay unsent."""
    send = get_send(session, ref, for_update=True)
    transition(send, SendStatus.CANCELLED)
    return send


def due_sends(session: Session, now: datetime | None = None) -> list[int]:
    """Sends to work on now: scheduled and due, or sending (started, maybe interrupted), oldest first."""
    when = now or clock.now()
    query = (
        select(Send.id)
        .where(or_(Send.status == "sending", (Send.status == "scheduled") & (Send.scheduled_at <= when)))
        .order_by(Send.scheduled_at, Send.id)
    )
    return list(session.scalars(query))


def summaries(session: Session, *, limit: int = 50) -> list[SendSummary]:
    """The newest sends with their delivery counts by state (from the send's status counters)."""
    return _summaries(session, list(session.scalars(select(Send).order_by(Send.id.desc()).limit(limit))))


def summary(session: Session, ref: str | int) -> SendSummary:
    """One send with its delivery counts by state; NotFound if there is no such send."""
    return _summaries(session, [get_send(session, ref)])[0]


def _summaries(session: Session, sends: list[Send]) -> list[SendSummary]:
    """Counts and list names of these sends: two queries, neither over their delivery rows."""
    ids = [s.id for s in sends]
    counts = status_counts(session, ids)
    names: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for send_id, name in session.execute(
            select(SendList.send_id, MailingList.name)
            .join(MailingList, MailingList.id == SendList.list_id)
            .where(SendList.send_id.in_(ids))
        ):
            names[send_id].append(name)
    return [SendSummary(s, tuple(sorted(names[s.id])), counts[s.id]) for s in sends]


SETTLED_AFTER = timedelta(hours=24)
"""How long after its request an unknown delivery may be requeued: by then SendGrid's events for an
accepted one have arrived (it retries its webhook for 24 hours)."""


class Reconciled(NamedTuple):
    """What `reconcile_unknown` found: unknown rows, how many it requeued, and how many it left and why."""

    unknown: int
    requeued: int
    too_recent: int
    with_events: int


def reconcile_unknown(
    session: Session, ref: str | int, *, requeue: bool, settled_after: timedelta = SETTLED_AFTER
) -> Reconciled:
    """Count a send's unknown deliveries; with `requeue`, those settled (their request older than
    `settled_after`) and without any provider event go back to pending, to be sent again.

    A delivery that got any provider event was accepted (event ingestion marks it so): never requeued.
    One whose request is more recent may still get its events: left alone, and counted as such.
    """
    send = get_send(session, ref, for_update=True)
    unknown_rows = (Delivery.send_id == send.id, Delivery.status == "unknown")
    unknown = session.scalar(select(func.count()).where(*unknown_rows)) or 0
    if not requeue or not unknown:
        return Reconciled(unknown, 0, 0, 0)
    heard_of = or_(
        Delivery.event_flags != 0,
        Delivery.outcome.is_not(None),
        exists().where(Event.delivery_id == Delivery.id),
    )
    requested_before = (
        select(DeliveryBatch.id)
        .where(
            DeliveryBatch.send_id == send.id,
            Delivery.id.between(DeliveryBatch.first_id, DeliveryBatch.last_id),
            DeliveryBatch.claimed_at <= clock.now() - settled_after,
        )
        .exists()
    )
    with_events = session.scalar(select(func.count()).where(*unknown_rows, heard_of)) or 0
    settled = [*unknown_rows, ~heard_of, requested_before]
    ids = list(session.scalars(select(Delivery.id).where(*settled)))
    if ids:
        _reopen_batches_of(session, send.id, ids)
    requeued = 0
    for chunk in range(0, len(ids), 1000):
        moved = session.connection().execute(
            update(Delivery)
            .where(Delivery.id.in_(ids[chunk : chunk + 1000]), Delivery.status == "unknown")
            .values(status="pending", detail="requeued after reconciliation")
        )
        requeued += int(moved.rowcount or 0)
    deltas: Deltas = Counter()
    status_moved(deltas, send.id, "unknown", "pending", requeued)
    add_counters(session, deltas)
    if requeued and send.status in {SendStatus.SENT, SendStatus.FAILED}:
        transition(send, SendStatus.SENDING, verb="requeue")
    return Reconciled(unknown, requeued, unknown - requeued - with_events, with_events)


def _reopen_batches_of(session: Session, send_id: int, delivery_ids: Sequence[int]) -> None:
    """The done batches holding these deliveries are claimed again (only their pending rows are sent)."""
    low, high = min(delivery_ids), max(delivery_ids)
    session.execute(
        update(DeliveryBatch)
        .where(
            DeliveryBatch.send_id == send_id,
            DeliveryBatch.state == "done",
            DeliveryBatch.last_id >= low,
            DeliveryBatch.first_id <= high,
            select(Delivery.id)
            .where(
                Delivery.id.in_(delivery_ids),
                Delivery.id.between(DeliveryBatch.first_id, DeliveryBatch.last_id),
            )
            .exists(),
        )
        .values(state="pending", attempts=0, holder=None, not_before=None)
        .execution_options(synchronize_session=False)
    )


def retry_failed(session: Session, ref: str | int) -> tuple[Send, int]:
    """Queue a send's failed deliveries again (once the cause of their failure is fixed); (send, how many).

    A failed delivery was never accepted, so sending it again mails nobody twice. Their batches are
    claimed again (only their pending rows are sent); the send is due again at once: a paused, sent or
    failed send goes back to the worker.
    """
    send = get_send(session, ref, for_update=True)
    failed_in_batch = (
        select(Delivery.id)
        .where(
            Delivery.send_id == send.id,
            Delivery.status == "failed",
            Delivery.id.between(DeliveryBatch.first_id, DeliveryBatch.last_id),
        )
        .exists()
    )
    session.execute(
        update(DeliveryBatch)
        .where(DeliveryBatch.send_id == send.id, DeliveryBatch.state == "done", failed_in_batch)
        .values(state="pending", attempts=0, holder=None, not_before=None)
        .execution_options(synchronize_session=False)
    )
    requeued = session.connection().execute(
        update(Delivery)
        .where(Delivery.send_id == send.id, Delivery.status == "failed")
        .values(status="pending", detail="requeued by retry-failed", attempts=0)
    )
    count = int(requeued.rowcount or 0)
    deltas: Deltas = Counter()
    status_moved(deltas, send.id, "failed", "pending", count)
    add_counters(session, deltas)
    if count and send.status in {SendStatus.SENT, SendStatus.FAILED}:
        transition(send, SendStatus.SENDING, verb="retry")
    elif count and send.status == SendStatus.PAUSED:
        send.scheduled_at = min(send.scheduled_at or clock.now(), clock.now())
        transition(send, SendStatus.SCHEDULED, verb="retry")
    return send, count
