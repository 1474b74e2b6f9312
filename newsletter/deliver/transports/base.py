"""The delivery seam: the Transport protocol (a send's batches, or one finished message), what it answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from functools import partial
from typing import Literal, NamedTuple, Protocol, TypeVar

from newsletter.content.merge_tags import SYSTEM_TAGS
from newsletter.content.schema import Publication
from newsletter.render import RenderedIssue
from newsletter.render.eml import build_message
from newsletter.render.merge import MergeTemplate

Outcome = Literal["accepted", "failed", "retry", "unknown"]
"""accepted: the provider took it. failed: permanently refused (the provider's reason kept).
retry: definitely not accepted, safe to send again later. unknown: we cannot know; never re-send blindly."""

ONE_CLICK = "List-Unsubscribe=One-Click"
T = TypeVar("T")


class Envelope(NamedTuple):
    """One recipient of a batch: its delivery row id, address and merge values.

    Named tuples (here and for results): a frozen dataclass costs three times as much to make, and a
    send makes two of these per recipient.
    """

    delivery_id: int
    email: str
    values: Mapping[str, str]


@dataclass(frozen=True)
class OutgoingBatch:
    """One rendered issue to a set of recipients (a transport sends at most `max_batch_size` per request)."""

    send_id: int
    rendered: RenderedIssue
    publication: Publication
    envelopes: Sequence[Envelope]
    is_test: bool = False
    categories: Sequence[str] = ()


class DeliveryResult(NamedTuple):
    """What happened to one envelope; `detail` keeps the provider's words.

    `refused`: the provider refused the whole request, not this recipient (HTTP 4xx other than 429,
    connection refused, unknown host): the runner pauses a send whose batches keep being refused.
    """

    delivery_id: int
    outcome: Outcome
    provider_message_id: str | None = None
    detail: str = ""
    refused: bool = False


class Transport(Protocol):
    """The one way messages leave the system, and what it can do.

    `max_batch_size`: recipients per request at most. `idempotent`: sending a batch again is harmless
    (the outbox rewrites its files), so a batch a dead worker left in flight is simply sent again
    instead of being marked unknown.
    """

    name: str
    max_batch_size: int
    idempotent: bool

    def send_batch(self, batch: OutgoingBatch) -> list[DeliveryResult]:
        """One result per envelope, in the same order; delivery problems are results, not exceptions.

        The exception: ProviderRefused when the provider refuses the account itself (a bad API key).
        """
        ...

    def send_message(self, message: EmailMessage) -> None:
        """Send one finished message now (a confirmation email); DeliveryError unless it was accepted."""
        ...

    def prepare_batch(self, batch: OutgoingBatch) -> Request:
        """`batch` made ready to send with nothing sent yet (the work a runner does while its claim
        commits); calling the result sends it and answers as `send_batch` does. A transport with
        nothing to prepare returns `send_later(self, batch)`."""
        ...

    def close(self) -> None:
        """Release connections; the transport may be used again afterwards."""
        ...


Request = Callable[[], list[DeliveryResult]]
"""A batch made ready to go: calling it sends it and answers as `Transport.send_batch` does."""


def send_later(transport: Transport, batch: OutgoingBatch) -> Request:
    """A request that does all of the transport's work when called."""
    return partial(transport.send_batch, batch)


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items, in order."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def subject_template(rendered: RenderedIssue) -> MergeTemplate:
    """The subject line as a merge template (subjects may carry `{first_name|...}`)."""
    return MergeTemplate.compile(rendered.subject, escape_html=False)


def required_values(rendered: RenderedIssue) -> frozenset[str]:
    """Merge values every recipient must have: the unsubscribe link and each system link the issue uses."""
    used = {t.name for t in rendered.html_template.tokens + rendered.text_template.tokens}
    return frozenset(used & SYSTEM_TAGS) | {"unsubscribe_url"}


def missing_values(required: frozenset[str], envelope: Envelope) -> str | None:
    """A message naming the links this envelope lacks, or None when it can be sent."""
    values = envelope.values
    if all(map(values.get, required)):
        return None
    missing = sorted(name for name in required if not values.get(name))
    return f"not sent: merge values missing {', '.join(missing)}"


def unsubscribe_headers(envelope: Envelope) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe headers for one recipient."""
    return {
        "List-Unsubscribe": f"<{envelope.values['unsubscribe_url']}>",
        "List-Unsubscribe-Post": ONE_CLICK,
    }


def tracking_headers(batch: OutgoingBatch, envelope: Envelope) -> dict[str, str]:
    """Headers that tie a message back to its send and delivery rows (and mark test sends)."""
    headers = {"X-Newsletter-Send": str(batch.send_id), "X-Newsletter-Delivery": str(envelope.delivery_id)}
    if batch.is_test:
        headers["X-Newsletter-Test"] = "1"
    return headers


def same_outcome(
    envelopes: Sequence[Envelope],
    outcome: Outcome,
    detail: str = "",
    provider_message_id: str | None = None,
    *,
    refused: bool = False,
) -> list[DeliveryResult]:
    """One identical result for each envelope (a whole request's verdict)."""
    return [DeliveryResult(e.delivery_id, outcome, provider_message_id, detail, refused) for e in envelopes]


def recipient_message(
    batch: OutgoingBatch, envelope: Envelope, message_id_domain: str | None
) -> EmailMessage:
    """One recipient's complete message: built by render.eml, plus unsubscribe and tracking headers.

    Raises RenderError when the message cannot be built for this recipient.
    """
    message = build_message(
        batch.rendered,
        batch.publication,
        to=envelope.email,
        values=envelope.values,
        message_id_domain=message_id_domain,
    )
    return with_headers(message, batch, envelope)


def with_headers(message: EmailMessage, batch: OutgoingBatch, envelope: Envelope) -> EmailMessage:
    """Add the one-click unsubscribe headers (when missing) and the send/delivery ids."""
    for name, value in unsubscribe_headers(envelope).items():
        if name not in message:
            message[name] = value
    for name, value in tracking_headers(batch, envelope).items():
        del message[name]
        message[name] = value
    return message
