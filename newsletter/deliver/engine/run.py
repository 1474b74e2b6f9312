"""Running one send to the end: start (materialise, batch), then one loop of claim → merge → send → mark
over a claim line (PostgreSQL: pipelined SKIP LOCKED claims; SQLite: the leased worker), then finish."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from newsletter import clock
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db.counters import Deltas, add_counters
from newsletter.db.session import is_postgres
from newsletter.db.tables import DeliveryBatch, Send, SendStatus
from newsletter.deliver.engine.brakes import Brake, RefusalBrake
from newsletter.deliver.engine.claims import Claimed, ClaimedBatch, release_lease, unclaim
from newsletter.deliver.engine.context import SendContext, load_context
from newsletter.deliver.engine.finish import finish_or_wait, send_progress
from newsletter.deliver.engine.leased import LeasedLine, lease_name
from newsletter.deliver.engine.line import ClaimLine
from newsletter.deliver.engine.marks import BatchMarks, Write, batch_marks, run_marks, settle_write
from newsletter.deliver.engine.options import RunOptions, RunReport
from newsletter.deliver.engine.pipeline import PipelinedLine
from newsletter.deliver.engine.resilience import Backoff, RenewableLine, is_transient, never, retrying
from newsletter.deliver.engine.start import start_send
from newsletter.deliver.transports.base import DeliveryResult, Request, Transport
from newsletter.errors import ConfigError, ProviderRefused, ScheduleError
from newsletter.schedule.states import transition

T = TypeVar("T")

Sent = tuple[ClaimedBatch, list[DeliveryResult], int]
"""A batch sent and not yet marked: the batch, its results, and how many of its rows were sent."""


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
    brakes: Callable[[RunOptions], list[Brake]] = lambda options: [
        RefusalBrake(options.refused_batches_before_pause)
    ]
    """The policies a run consults after each batch (`engine/brakes.py`), made afresh for each run."""
    backoff: Backoff = field(default_factory=Backoff)
    """How long to wait out a database that is away (`engine/resilience.py`)."""
    _built: dict[str, Transport] = field(default_factory=dict, init=False, repr=False)

    def run(self, send_id: int, progress: Progress | None = None) -> RunReport:
        """Work on a send until it is finished, paused, cancelled, or this worker must stop. A database
        that goes away meanwhile is waited for (`engine/resilience.py`)."""
        report = RunReport(send_id)
        context = self._retrying(send_id, lambda: self._begin(send_id, report), give_up=self.should_stop)
        if context is None:
            return report
        try:
            self._loop(context, report, progress)
        finally:
            try:
                with self.sessions.begin() as session:
                    release_lease(session, lease_name(send_id), self.worker_id)
            except Exception as error:  # the lease runs out by itself
                if not is_transient(error):
                    raise
        return report

    def _begin(self, send_id: int, report: RunReport) -> SendContext | None:
        """The send started (`engine/start.py`) and its context; None when this run cannot work on it."""
        with self.sessions() as session:
            transport, report.error = start_send(
                session,
                send_id,
                self.worker_id,
                self.transport_for,
                batch_size=self.options.batch_size,
                lease_seconds=self.options.lease_seconds,
                stale_after_seconds=self.options.stale_after_seconds,
            )
            if transport is None:
                report.status = session.get_one(Send, send_id).status
                return None
            try:
                return load_context(session, send_id, transport, self.signer)
            except ScheduleError as exc:  # e.g. a tampered snapshot: the send fails, other sends go on
                error = str(exc)
        self._fail(send_id, error, report)
        return None

    def _retrying(self, send_id: int, action: Callable[[], T], give_up: Callable[[], bool] = never) -> T:
        return retrying(f"send {send_id}", action, self.backoff, give_up=give_up)

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

    def _line(self, context: SendContext) -> ClaimLine:
        with self.sessions() as session:
            engine, shared = session.get_bind().engine, is_postgres(session)
        if shared:
            return PipelinedLine(engine, context.send_id, self.worker_id, list_ids=context.claim_lists)
        return LeasedLine(
            self.sessions,
            context.send_id,
            self.worker_id,
            list_ids=context.claim_lists,
            lease_seconds=self.options.lease_seconds,
        )

    def _loop(self, context: SendContext, report: RunReport, progress: Progress | None) -> None:
        """Round after round until nothing is left: the sent batch's marks, the upcoming batch's
        hand-over and the next claim (one round, `engine/line.py`); the upcoming request is built while
        the round runs and sent once it committed."""
        brakes = self.brakes(self.options)
        halt: str | None = None  # a brake's reason to pause the send
        with RenewableLine(lambda: self._line(context), self.backoff, f"send {context.send_id}") as line:
            sent: Sent | None = None
            upcoming: ClaimedBatch | None = None
            while True:
                stop = halt is not None or self.should_stop()
                now = clock.now()
                marks = self._marks(sent, now) if sent is not None else None
                sendable: list[Claimed] = []
                writes: list[Write] = []
                if upcoming is not None:
                    sendable, writes = context.mailable(upcoming)
                    if not sendable:
                        writes.append(settle_write(upcoming.batch_id))
                hand_over = upcoming if upcoming is not None and sendable and not stop else None
                answer, request = line.round(
                    marks,
                    writes,
                    hand_over=hand_over.batch_id if hand_over else None,
                    claim=not stop,
                    now=now,
                    meanwhile=partial(_request, context, sendable if hand_over is not None else None),
                    give_up=self.should_stop,
                )
                if marks is not None:
                    report.add_all(marks.outcomes)
                    if progress is not None:
                        progress(
                            *self._retrying(
                                context.send_id, lambda: send_progress(self.sessions, context.send_id)
                            )
                        )
                if upcoming is not None:
                    report.add("skipped", len(upcoming.rows) - len(sendable))
                sent, upcoming = None, answer.claimed
                if not answer.held:
                    report.status = "sending"  # another worker took the send over
                    return
                if hand_over is not None and request is not None and answer.handed_over:
                    try:
                        results = request()
                    except ProviderRefused as exc:
                        line.release()
                        self._refused(hand_over, exc, report)
                        return
                    sent = (hand_over, results, len(sendable))
                    halt = halt or next(filter(None, (brake.after_batch(results) for brake in brakes)), None)
                    continue
                if upcoming is not None:
                    continue
                line.release()  # the hand-over was refused (paused, cancelled) or we are stopping
                if halt is not None:
                    self._pause(context.send_id, halt, report)
                    return
                if stop or answer.status != "sending":
                    report.status = "sending" if stop else answer.status
                    return
                finished = self._retrying(
                    context.send_id,
                    lambda: finish_or_wait(
                        self.sessions, context.send_id, self.options.max_idle_wait_seconds
                    ),
                    give_up=self.should_stop,
                )
                if finished is not None:
                    report.status = finished
                    return

    def _marks(self, sent: Sent, now: datetime, *, settles: bool = True) -> BatchMarks:
        batch, results, sent_rows = sent
        return batch_marks(
            batch,
            results,
            whole_batch=len(results) == sent_rows,
            now=now,
            max_attempts=self.options.max_attempts,
            retry_base_seconds=self.options.retry_base_seconds,
            settles=settles,
        )

    def _fail(self, send_id: int, error: str, report: RunReport) -> None:
        self._stop_send(send_id, SendStatus.FAILED, error, report)

    def _pause(self, send_id: int, reason: str, report: RunReport) -> None:
        self._stop_send(send_id, SendStatus.PAUSED, reason, report)

    def _stop_send(self, send_id: int, to: SendStatus, reason: str, report: RunReport) -> None:
        """The send (if still sending) failed or paused, saying why; this worker's lease let go."""
        self._retrying(send_id, lambda: self._stop_send_once(send_id, to, reason, report))

    def _stop_send_once(self, send_id: int, to: SendStatus, reason: str, report: RunReport) -> None:
        with self.sessions.begin() as session:
            send = session.get_one(Send, send_id, with_for_update=is_postgres(session))
            if send.status == "sending":
                transition(send, to, error=reason)
            release_lease(session, lease_name(send_id), self.worker_id)
            report.status, report.error = send.status, reason

    def _refused(self, batch: ClaimedBatch, refusal: ProviderRefused, report: RunReport) -> None:
        """Mark what was settled, put the batch back to pending (this claim uncounted), fail the send once."""
        marks = self._marks((batch, list(refusal.results), -1), clock.now(), settles=False)

        def write() -> None:
            with self.sessions.begin() as session:
                deltas: Deltas = Counter()
                run_marks(session, marks, deltas)
                session.execute(unclaim(DeliveryBatch.id == batch.batch_id))
                add_counters(session, deltas)

        self._retrying(batch.send_id, write)
        report.add_all(marks.outcomes)
        self._fail(batch.send_id, str(refusal), report)


def _request(context: SendContext, sendable: list[Claimed] | None) -> Request | None:
    """The merged request of the batch about to be handed over (None: nothing to send)."""
    return None if sendable is None else context.request(sendable)


__all__ = ["RunOptions", "RunReport", "SendRunner"]
