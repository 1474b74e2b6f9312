"""What every batch of one send shares (`SendContext`), read once when a run starts, and what is made
from it per batch: who of the claimed rows is still mailable, and the merged request to send."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newsletter.audience.readers.tokens import TokenSigner
from newsletter.content.schema import Publication
from newsletter.db.tables import Delivery, MailingList, Send
from newsletter.deliver.engine.claims import Claimed, ClaimedBatch
from newsletter.deliver.engine.marks import STILL_PENDING, Write
from newsletter.deliver.engine.values import LinkMaker
from newsletter.deliver.transports.base import Envelope, OutgoingBatch, Request, Transport
from newsletter.render import RenderedIssue
from newsletter.schedule.sends import send_list_ids
from newsletter.schedule.snapshot import publication_of, rendered_of

SKIPPED_AT_CLAIM = "unsubscribed, suppressed or erased before this batch was sent"


@dataclass(frozen=True)
class SendContext:
    """One send's frozen issue, publication, lists, categories, link maker and transport."""

    send_id: int
    rendered: RenderedIssue
    publication: Publication
    list_ids: list[int]
    is_test: bool
    categories: list[str]
    links: LinkMaker
    transport: Transport

    @property
    def claim_lists(self) -> list[int] | None:
        """The lists a claim re-checks its rows against; None for a test send (its addresses are given)."""
        return None if self.is_test else self.list_ids

    def mailable(self, batch: ClaimedBatch) -> tuple[list[Claimed], list[Write]]:
        """The claimed rows still to be mailed, and the write skipping the rest (unsubscribed, suppressed
        or erased since scheduling: read with the claim)."""
        if self.is_test:
            return batch.rows, []
        skipped = [c.delivery_id for c in batch.rows if c.subscriber_id is None or not c.mailable]
        if not skipped:
            return batch.rows, []
        skip = Write(
            update(Delivery)
            .where(Delivery.id.in_(skipped), STILL_PENDING)
            .values(status="skipped", detail=SKIPPED_AT_CLAIM),
            moves_to="skipped",
        )
        dropped = set(skipped)
        return [c for c in batch.rows if c.delivery_id not in dropped], [skip]

    def request(self, claimed: Sequence[Claimed]) -> Request:
        """The batch of `claimed` rows merged and made ready to send (nothing sent yet)."""
        values = self.links.many(claimed)
        envelopes = [Envelope(c.delivery_id, c.email, v) for c, v in zip(claimed, values, strict=True)]
        batch = OutgoingBatch(
            send_id=self.send_id,
            rendered=self.rendered,
            publication=self.publication,
            envelopes=envelopes,
            is_test=self.is_test,
            categories=self.categories,
        )
        return self.transport.prepare_batch(batch)


def load_context(session: Session, send_id: int, transport: Transport, signer: TokenSigner) -> SendContext:
    """The context of a send; ScheduleError when its snapshot was tampered with."""
    send = session.get_one(Send, send_id)
    list_ids = send_list_ids(session, send)
    public_ids = list(session.scalars(select(MailingList.public_id).where(MailingList.id.in_(list_ids))))
    publication = publication_of(send)
    rendered = rendered_of(send)
    categories = [*publication.sendgrid.categories, "test" if send.is_test else send.issue_slug]
    links = LinkMaker(signer, publication, send.issue_slug, public_ids)
    return SendContext(send_id, rendered, publication, list_ids, send.is_test, categories, links, transport)
