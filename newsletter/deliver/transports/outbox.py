"""Outbox transport (embedded default): each message written atomically to `<dir>/send-<id>/<id>.eml`.

A single message (`send_message`, e.g. a confirmation email) goes to `<dir>/messages/<Message-ID>.eml`.
"""

from __future__ import annotations

import os
import tempfile
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from newsletter.deliver.transports.base import (
    DeliveryResult,
    Envelope,
    OutgoingBatch,
    Request,
    missing_values,
    recipient_message,
    required_values,
    send_later,
)
from newsletter.errors import DeliveryError, RenderError


class OutboxTransport:
    """Writes the message each recipient would receive; writing a delivery again replaces its file."""

    name = "outbox"
    max_batch_size = 1000
    idempotent = True  # writing a delivery again replaces its file: a crashed batch may simply be redone

    def __init__(self, outbox_dir: Path | str, *, message_id_domain: str | None = None) -> None:
        self.outbox_dir = Path(outbox_dir)
        self._domain = message_id_domain

    def path_for(self, send_id: int, delivery_id: int) -> Path:
        """Where one delivery's message is written."""
        return self.outbox_dir / f"send-{send_id}" / f"{delivery_id}.eml"

    def send_batch(self, batch: OutgoingBatch) -> list[DeliveryResult]:
        """Write one .eml per envelope; results in envelope order."""
        required = required_values(batch.rendered)
        return [self._write(batch, envelope, required) for envelope in batch.envelopes]

    def _write(self, batch: OutgoingBatch, envelope: Envelope, required: frozenset[str]) -> DeliveryResult:
        problem = missing_values(required, envelope)
        if problem:
            return DeliveryResult(envelope.delivery_id, "failed", detail=problem)
        try:
            message = recipient_message(batch, envelope, self._domain)
        except RenderError as exc:
            return DeliveryResult(envelope.delivery_id, "failed", detail=str(exc))
        path = self.path_for(batch.send_id, envelope.delivery_id)
        try:
            write_atomically(path, message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
        except OSError as exc:
            return DeliveryResult(envelope.delivery_id, "retry", detail=f"cannot write {path}: {exc}")
        return DeliveryResult(envelope.delivery_id, "accepted", message.get("Message-ID"), str(path))

    def send_message(self, message: EmailMessage) -> None:
        """Write one finished message to `<dir>/messages/<Message-ID>.eml`."""
        if "Message-ID" not in message:
            message["Message-ID"] = make_msgid(domain=self._domain)
        name = str(message["Message-ID"]).strip().strip("<>").replace("/", "_")
        path = self.outbox_dir / "messages" / f"{name}.eml"
        try:
            write_atomically(path, message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
        except OSError as exc:
            raise DeliveryError(f"cannot write {path}: {exc}", retryable=True) from None

    def prepare_batch(self, batch: OutgoingBatch) -> Request:
        """Nothing to prepare: the request does all the work."""
        return send_later(self, batch)

    def close(self) -> None:
        """Nothing to release."""


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
