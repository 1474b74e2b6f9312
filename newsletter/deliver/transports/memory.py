"""In-memory transport for tests and dry runs: keeps every merged message, answers scripted outcomes."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage

from newsletter.deliver.transports.base import (
    DeliveryResult,
    Envelope,
    Outcome,
    OutgoingBatch,
    Request,
    missing_values,
    required_values,
    send_later,
    subject_template,
    tracking_headers,
    unsubscribe_headers,
)


@dataclass(frozen=True)
class SentMessage:
    """One message as its recipient would read it, and the outcome the transport answered."""

    send_id: int
    delivery_id: int
    to: str
    subject: str
    html: str
    text: str
    headers: Mapping[str, str]
    outcome: Outcome
    is_test: bool = False


class MemoryTransport:
    """Keeps messages in `messages` (every attempt) and answers `accepted` unless told otherwise."""

    name = "memory"
    idempotent = False

    def __init__(self, *, max_batch_size: int = 1000) -> None:
        self.max_batch_size = max_batch_size
        self.messages: list[SentMessage] = []
        self.batches: list[OutgoingBatch] = []
        self.single_messages: list[EmailMessage] = []
        self.closed = 0
        self._script: defaultdict[str, deque[tuple[Outcome, str]]] = defaultdict(deque)

    def script(self, email: str, *outcomes: Outcome, detail: str = "scripted") -> None:
        """Answer these outcomes, in turn, to the next sends to `email`; then `accepted` again."""
        self._script[email.lower()].extend((outcome, detail) for outcome in outcomes)

    @property
    def delivered(self) -> list[SentMessage]:
        """The messages that were accepted."""
        return [m for m in self.messages if m.outcome == "accepted"]

    def to(self, email: str) -> list[SentMessage]:
        """Accepted messages for one address."""
        return [m for m in self.delivered if m.to.lower() == email.lower()]

    def send_batch(self, batch: OutgoingBatch) -> list[DeliveryResult]:
        """Merge each envelope's message and record it; results in envelope order."""
        self.batches.append(batch)
        required = required_values(batch.rendered)
        subject = subject_template(batch.rendered)
        results: list[DeliveryResult] = []
        for envelope in batch.envelopes:
            problem = missing_values(required, envelope)
            if problem:
                results.append(DeliveryResult(envelope.delivery_id, "failed", detail=problem))
                continue
            outcome, detail = self._next_outcome(envelope.email)
            self.messages.append(
                SentMessage(
                    send_id=batch.send_id,
                    delivery_id=envelope.delivery_id,
                    to=envelope.email,
                    subject=subject.render(envelope.values),
                    html=batch.rendered.html_template.render(envelope.values),
                    text=batch.rendered.text_template.render(envelope.values),
                    headers=_headers(batch, envelope),
                    outcome=outcome,
                    is_test=batch.is_test,
                )
            )
            message_id = f"memory-{batch.send_id}-{envelope.delivery_id}" if outcome == "accepted" else None
            results.append(DeliveryResult(envelope.delivery_id, outcome, message_id, detail))
        return results

    def _next_outcome(self, email: str) -> tuple[Outcome, str]:
        queue = self._script.get(email.lower())
        return queue.popleft() if queue else ("accepted", "")

    def send_message(self, message: EmailMessage) -> None:
        """Keep one finished message in `single_messages`."""
        self.single_messages.append(message)

    def prepare_batch(self, batch: OutgoingBatch) -> Request:
        """Nothing to prepare: the request does all the work."""
        return send_later(self, batch)

    def close(self) -> None:
        """Counts closes (the lead's tests may check the transport is closed)."""
        self.closed += 1


def _headers(batch: OutgoingBatch, envelope: Envelope) -> dict[str, str]:
    return {**unsubscribe_headers(envelope), **tracking_headers(batch, envelope)}
