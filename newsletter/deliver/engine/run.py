"""Running one send to the end: materialise deliveries, claim → merge → send → mark, finish; idempotent."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from newsletter import clock
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db.bulk import among
from newsletter.db.counters import Deltas, add_counters
from newsletter.db.session import is_postgres
from newsletter.db.tables import Delivery, DeliveryBatch, MailingList, Send, SendStatus
from newsletter.deliver.engine.claims import (
    Claimed,
    ClaimedBatch,
    acquire_lease,
    claim_batch,
    plan_batches,
    recover_stale,
    release_lease,
    unclaim,
)
from newsletter.deliver.engine.heap import heap_frozen
from newsletter.deliver.engine.marks import (
    STILL_PENDING,
    Write,
    batch_writes,
    row_writes,
    run_writes,
    settle,
    settle_write,
)
from newsletter.deliver.engine.materialize import materialize
from newsletter.deliver.engine.pipeline import ClaimLine
from newsletter.deliver.engine.values import LinkMaker
from newsletter.deliver.transports.base import (
    DeliveryResult,
    Envelope,
    OutgoingBatch,
    Request,
    Transport,
    prepared,
)
from newsletter.errors import ConfigError, ProviderRefused, ScheduleError
from newsletter.schedule.sends import send_list_ids
from newsletter.schedule.snapshot import publication_of, rendered_of
from newsletter.schedule.states import transition

SKIPPED_AT_CLAIM = "unsubscribed, suppressed or erased before this batch was sent"
OPEN_BATCH_STATES = ("pending", "claimed", "sending")
"""Batch states that keep a send from finishing."""


Sent = tuple[ClaimedBatch, list[DeliveryResult], bool]
"""A batch sent and not yet marked: the batch, its results, and whether every claimed row was sent."""


@dataclass(frozen=True)
class RunOptions:
    """How a worker runs sends; tests shorten the times."""

    batch_size: int = 1000
    lease_seconds: float = 60.0
    stale_after_seconds: float = 600.0
    max_attempts: int = 5
    retry_base_seconds: float = 30.0
    max_idle_wait_seconds: float = 60.0


@dataclass
class RunReport:
    """What one run of a send did, by outcome."""

    send_id: int
    status: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""

    def add(self, outcome: str, n: int = 1) -> None:
        """Count `n` rows with `outcome`."""
        self.counts[outcome] = self.counts.get(outcome, 0) + n

    def add_all(self, outcomes: Counter[str]) -> None:
        """Count rows by outcome."""
        for outcome, n in outcomes.items():
            self.add(outcome, n)


Progress = Callable[[int, int], None]
"""progress(done, total) after each batch."""

TransportFactory = Callable[[str], Transport]
"""transports(name) -> a new transport of that name (outbox, smtp, sendgrid); ConfigError if it cannot."""


@dataclass
class SendRunner:
    """Runs sends, each through the transport it was scheduled with, for one worker identity.

    `transport` serves sends recorded with its name; `transports` builds any other a send asks for
    (None: such a send fails, naming both). A send whose transport cannot be built fails with the reason.
    `close()` closes `transport` and every one it built; whoever makes a runner closes it when done.
    """

    sessions: sessionmaker[Session]
    transport: Transport
    signer: TokenSigner
    worker_id: str
    options: RunOptions = field(default_factory=RunOptions)
    should_stop: Callable[[], bool] = lambda: False
    transports: TransportFactory | None = None
    _built: dict[str, Transport] = field(default_factory=dict, init=False, repr=False)

    def run(self, send_id: int, progress: Progress | None = None) -> RunReport:
        """Work on a send until it is finished, paused, cancelled, or this worker must stop."""
        report = RunReport(send_id)
        with self.sessions() as session:
            transport = self._start(session, send_id, report)
            if transport is None:
                report.status = session.get_one(Send, send_id).status
                return report
            loop = self._pipelined_loop if _locks(session) else self._loop
        try:
            context = self._context(send_id, transport)
        except ScheduleError as exc:  # e.g. a tampered snapshot: the send fails, other sends go on
            self._fail(send_id, str(exc), report)
            return report
        try:
            with heap_frozen():
                loop(send_id, context, report, progress)
        finally:
            with self.sessions.begin() as session:
                release_lease(session, _lease_name(send_id), self.worker_id)
        return report

    def transport_for(self, name: str) -> Transport:
        """The transport a send recorded as `name` goes through; ConfigError when this runner has none."""
        if name == self.transport.name:
            return self.transport
        if name not in self._built:
            if self.transports is None:
                raise ConfigError(f"this runner sends only through {self.transport.name}")
            self._built[name] = self.transports(name)
        return self._built[name]

    def close(self) -> None:
        """Close every transport this runner holds: its own and those it built (they may be built again)."""
        transports, self._built = [self.transport, *self._built.values()], {}
        for transport in transports:
            transport.close()

    # -- phases

    def _start(self, session: Session, send_id: int, report: RunReport) -> Transport | None:
        """Move a due send to `sending`, take the lease (SQLite), recover stale claims, materialise, batch.

        None when this run cannot work on the send (not due, another worker's lease, or the send's
        transport cannot be built here: then the send fails, saying why).
        """
        send = session.get_one(Send, send_id, with_for_update=_locks(session))
        if send.status == "scheduled" and send.scheduled_at is not None and send.scheduled_at <= clock.now():
            transition(send, SendStatus.SENDING)
        if send.status != "sending":
            session.rollback()
            return None
        try:
            transport = self.transport_for(send.transport)
        except ConfigError as exc:
            error = f"send {send_id} was scheduled for transport {send.transport!r}, unavailable here: {exc}"
            transition(send, SendStatus.FAILED, error=error)
            session.commit()
            report.error = error
            return None
        exclusive = not _locks(session)
        if exclusive and not acquire_lease(
            session, _lease_name(send_id), self.worker_id, self.options.lease_seconds
        ):
            session.rollback()
            return None
        stale_before = clock.now() - timedelta(seconds=self.options.stale_after_seconds)
        resend = bool(getattr(transport, "idempotent", False))
        deltas: Deltas = Counter()
        recover_stale(
            session,
            send_id,
            self.worker_id,
            stale_before=stale_before,
            resend=resend,
            exclusive=exclusive,
            deltas=deltas,
        )
        made = None
        if not send.materialized:
            made = materialize(session, send, send_list_ids=send_list_ids(session, send), deltas=deltas)
        plan_batches(session, send_id, min(self.options.batch_size, transport.max_batch_size), made=made)
        add_counters(session, deltas)
        session.commit()
        return transport

    def _fail(self, send_id: int, error: str, report: RunReport) -> None:
        with self.sessions.begin() as session:
            send = session.get_one(Send, send_id, with_for_update=_locks(session))
            if send.status == "sending":
                transition(send, SendStatus.FAILED, error=error)
            release_lease(session, _lease_name(send_id), self.worker_id)
            report.status, report.error = send.status, error

    def _loop(self, send_id: int, context: _Context, report: RunReport, progress: Progress | None) -> None:
        """Claim → send → (mark + next claim, one transaction) → send → ... until nothing is left.

        A batch's outcomes are committed together with the next claim: one commit per batch. A crash
        before that commit leaves the sent batch `sending` (its rows → unknown, never re-sent) and the
        next batch pending (never sent); a claim is always committed before its own request. The
        status counters of the marks and the claim's skips go in with one upsert, last before the commit.
        """
        sent: Sent | None = None  # marked with the next claim
        while True:
            with self.sessions.begin() as session:
                deltas: Deltas = Counter()
                marked = sent is not None
                if sent is not None:
                    marks, outcomes = self._marks(session, sent, clock.now())
                    run_writes(session, marks, send_id, deltas)
                    report.add_all(outcomes)
                    sent = None
                batch, sendable = self._next_batch(session, send_id, context, report, deltas)
                if batch is not None and not sendable:
                    settle(session, batch.batch_id)  # nothing left to send in it
                add_counters(session, deltas)
            if marked and progress is not None:
                progress(*self._progress(send_id))
            if batch is None:
                if report.status or self._finish_or_wait(send_id, report):
                    return
                continue
            if sendable:
                results = self._send(batch, context, sendable, report)
                if results is None:
                    return
                sent = (batch, results, len(sendable) == len(batch.rows))

    def _pipelined_loop(
        self, send_id: int, context: _Context, report: RunReport, progress: Progress | None
    ) -> None:
        """PostgreSQL: as `_loop`, with one batch claimed ahead and each round trip overlapping work.

        Per round, one pipelined transaction carries the sent batch's outcomes, the hand-over of the
        upcoming batch (claimed → sending) and the claim of the one after; the server runs it while
        this process builds the upcoming batch's request, which goes only once the hand-over committed.
        """
        with (
            self.sessions() as session,
            ClaimLine(
                session.get_bind().engine, send_id, self.worker_id, list_ids=context.claim_lists
            ) as line,
        ):
            sent: Sent | None = None
            upcoming: ClaimedBatch | None = None
            while True:
                stop = self.should_stop()
                now = clock.now()
                writes: list[Write] = []
                outcomes: Counter[str] = Counter()
                if sent is not None:
                    writes, outcomes = self._marks(session, sent, now)
                sendable: list[Claimed] = []
                if upcoming is not None:
                    sendable, skips = self._mailable_rows(session, upcoming.rows, context)
                    writes += skips
                    outcomes["skipped"] += len(upcoming.rows) - len(sendable)
                    if not sendable:
                        writes.append(settle_write(upcoming.batch_id))
                hand_over = upcoming if upcoming is not None and sendable and not stop else None
                line.submit(
                    writes, hand_over=hand_over.batch_id if hand_over else None, claim=not stop, now=now
                )
                request = self._prepare(hand_over, context, sendable) if hand_over is not None else None
                answer = line.collect()
                report.add_all(+outcomes)
                if sent is not None and progress is not None:
                    progress(*self._progress(send_id))
                sent, upcoming = None, answer.claimed
                if hand_over is not None and request is not None and answer.handed_over:
                    try:
                        results = request()
                    except ProviderRefused as exc:
                        line.release()
                        self._refused(hand_over, exc, report)
                        return
                    sent = (hand_over, results, len(sendable) == len(hand_over.rows))
                    continue
                if upcoming is not None:
                    continue
                line.release()  # the hand-over was refused (paused, cancelled) or we are stopping
                if stop:
                    report.status = "sending"
                    return
                if answer.status != "sending":
                    report.status = answer.status
                    return
                if self._finish_or_wait(send_id, report):
                    return

    def _mailable_rows(
        self, session: Session, claimed: list[Claimed], context: _Context
    ) -> tuple[list[Claimed], list[Write]]:
        """The claimed rows still to be mailed, and the write skipping the rest."""
        if context.is_test or not claimed:
            return claimed, []
        skipped = [c.delivery_id for c in claimed if c.subscriber_id is None or not c.mailable]
        if not skipped:
            return claimed, []
        skip = Write(
            update(Delivery)
            .where(among(session, Delivery.id, skipped), STILL_PENDING)
            .values(status="skipped", detail=SKIPPED_AT_CLAIM),
            moves_to="skipped",
        )
        dropped = set(skipped)
        return [c for c in claimed if c.delivery_id not in dropped], [skip]

    def _next_batch(
        self, session: Session, send_id: int, context: _Context, report: RunReport, deltas: Deltas
    ) -> tuple[ClaimedBatch | None, list[Claimed]]:
        """(claimed batch, its still mailable rows); (None, []) when none is due or this run must stop
        (then `report.status` says why)."""
        if self.should_stop():
            report.status = "sending"
            return None, []
        status = session.scalar(select(Send.status).where(Send.id == send_id))
        if status != "sending":
            report.status = status or ""
            return None, []
        if not _locks(session) and not acquire_lease(
            session, _lease_name(send_id), self.worker_id, self.options.lease_seconds
        ):
            report.status = "sending"
            return None, []
        batch = claim_batch(session, send_id, self.worker_id, list_ids=context.claim_lists)
        if batch is None:
            return None, []
        return batch, self._unsuppressed(session, batch, context, report, deltas)

    def _unsuppressed(
        self, session: Session, batch: ClaimedBatch, context: _Context, report: RunReport, deltas: Deltas
    ) -> list[Claimed]:
        """The claimed rows still to be mailed; the rest (unsubscribed since, suppressed, erased) skipped."""
        sendable, skips = self._mailable_rows(session, batch.rows, context)
        run_writes(session, skips, batch.send_id, deltas)
        if skipped := len(batch.rows) - len(sendable):
            report.add("skipped", skipped)
        return sendable

    def _send(
        self, claim: ClaimedBatch, context: _Context, claimed: list[Claimed], report: RunReport
    ) -> list[DeliveryResult] | None:
        """Send one claimed batch; its results, or None when the provider refused the whole send (failed)."""
        try:
            return self._prepare(claim, context, claimed)()
        except ProviderRefused as exc:
            self._refused(claim, exc, report)
            return None

    def _prepare(self, claim: ClaimedBatch, context: _Context, claimed: list[Claimed]) -> Request:
        """The batch's merge values and requests, built; calling the result sends it."""
        values = context.links.many(claimed)
        envelopes = [Envelope(c.delivery_id, c.email, v) for c, v in zip(claimed, values, strict=True)]
        batch = OutgoingBatch(
            send_id=claim.send_id,
            rendered=context.rendered,
            publication=context.publication,
            envelopes=envelopes,
            is_test=context.is_test,
            categories=context.categories,
        )
        return prepared(context.transport, batch)

    def _marks(self, session: Session, sent: Sent, now: datetime) -> tuple[list[Write], Counter[str]]:
        """The writes recording a sent batch's results (its rows, then the batch) and their outcomes."""
        batch, results, every_row_sent = sent
        return batch_writes(
            session,
            batch,
            results,
            covers_batch=every_row_sent and len(results) == len(batch.rows),
            now=now,
            max_attempts=self.options.max_attempts,
            retry_base_seconds=self.options.retry_base_seconds,
        )

    def _refused(self, batch: ClaimedBatch, refusal: ProviderRefused, report: RunReport) -> None:
        """Mark what was settled, put the batch back to pending (this claim uncounted), fail the send once."""
        with self.sessions.begin() as session:
            deltas: Deltas = Counter()
            marks, outcomes = row_writes(
                session,
                batch,
                refusal.results,
                covers_batch=False,
                now=clock.now(),
                max_attempts=self.options.max_attempts,
            )
            run_writes(session, marks, batch.send_id, deltas)
            report.add_all(outcomes)
            session.execute(unclaim(DeliveryBatch.id == batch.batch_id))
            add_counters(session, deltas)
        self._fail(batch.send_id, str(refusal), report)

    def _finish_or_wait(self, send_id: int, report: RunReport) -> bool:
        """True when the run is over (send finished or others still hold claims); else waits for retries."""
        with self.sessions.begin() as session:
            open_batches = dict(
                session.execute(
                    select(DeliveryBatch.state, func.count())
                    .where(DeliveryBatch.send_id == send_id, DeliveryBatch.state.in_(OPEN_BATCH_STATES))
                    .group_by(DeliveryBatch.state)
                ).all()
            )
            if not open_batches:
                send = session.get_one(Send, send_id, with_for_update=_locks(session))
                if send.status == "sending":
                    transition(send, SendStatus.SENT)
                report.status = send.status
                return True
            if not open_batches.get("pending"):
                report.status = "sending"
                return True
            next_due = session.scalar(
                select(func.min(DeliveryBatch.not_before)).where(
                    DeliveryBatch.send_id == send_id, DeliveryBatch.state == "pending"
                )
            )
        wait = 0.0 if next_due is None else (next_due - clock.now()).total_seconds()
        time.sleep(min(max(wait, 0.05), self.options.max_idle_wait_seconds))
        return False

    def _progress(self, send_id: int) -> tuple[int, int]:
        """(recipients in finished batches, all recipients): a few hundred batch rows, not every delivery."""
        with self.sessions() as session:
            done, total = session.execute(
                select(
                    func.coalesce(
                        func.sum(case((DeliveryBatch.state == "done", DeliveryBatch.size), else_=0)), 0
                    ),
                    func.coalesce(func.sum(DeliveryBatch.size), 0),
                ).where(DeliveryBatch.send_id == send_id)
            ).one()
        return int(done), int(total)

    def _context(self, send_id: int, transport: Transport) -> _Context:
        with self.sessions() as session:
            send = session.get_one(Send, send_id)
            list_ids = send_list_ids(session, send)
            public_ids = list(
                session.scalars(select(MailingList.public_id).where(MailingList.id.in_(list_ids)))
            )
            publication = publication_of(send)
            rendered = rendered_of(send)
            categories = [*publication.sendgrid.categories, "test" if send.is_test else send.issue_slug]
            links = LinkMaker(self.signer, publication, send.issue_slug, public_ids)
            return _Context(rendered, publication, list_ids, send.is_test, categories, links, transport)


@dataclass(frozen=True)
class _Context:
    rendered: Any
    publication: Any
    list_ids: list[int]
    is_test: bool
    categories: list[str]
    links: LinkMaker
    transport: Transport

    @property
    def claim_lists(self) -> list[int] | None:
        """The lists a claim re-checks its rows against; None for a test send (its addresses are given)."""
        return None if self.is_test else self.list_ids


def _lease_name(send_id: int) -> str:
    return f"send-{send_id}"


def _locks(session: Session) -> bool:
    """PostgreSQL shares a send between workers with row locks; SQLite uses one leased worker."""
    return is_postgres(session)


__all__ = ["RunOptions", "RunReport", "SendRunner"]
