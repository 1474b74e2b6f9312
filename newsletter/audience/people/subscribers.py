"""Staff actions on one person: add, show, unsubscribe and erase (GDPR)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from newsletter.audience.addresses import normalise_and_hash
from newsletter.audience.erasure import scrub_sending_log
from newsletter.audience.people import membership
from newsletter.audience.people.consent import Consent, evidence_for
from newsletter.audience.people.lists import get_list
from newsletter.audience.people.suppressions import applying, describe, suppress_hash, suppressions_of
from newsletter.db.audit import Action, Actor, record
from newsletter.db.tables import (
    ConsentEvidence,
    MailingList,
    Subscriber,
    Subscription,
    Suppression,
)
from newsletter.errors import NotFound, Suppressed

AddOutcome = Literal["added", "already_subscribed"]


@dataclass(frozen=True)
class SubscriberDetail:
    """Everything kept about one address (subscriber is None once erased)."""

    email: str
    subscriber: Subscriber | None
    subscriptions: list[tuple[str, Subscription]]
    evidence: list[ConsentEvidence]
    suppressions: list[tuple[str | None, Suppression]]


def add_subscriber(
    session: Session, email: str, list_name: str, *, name: str | None = None, source: str = "cli"
) -> AddOutcome:
    """Add a person to a list as active (staff vouch for consent); refuses suppressed addresses."""
    mailing_list = get_list(session, list_name)
    address, digest = normalise_and_hash(email)
    found = applying(session, digest, mailing_list.id)
    if found:
        reason = describe(found[0].reason, found[0].list_id is None)
        raise Suppressed(f"{address} was not added: {reason}")
    subscriber = membership.get_or_create_subscriber(session, address, name)
    current = membership.membership(session, subscriber, mailing_list)
    if current is not None and current.status == "active":
        session.commit()
        return "already_subscribed"
    if current is not None and current.status == "unsubscribed":
        session.rollback()
        raise Suppressed(f"{address} unsubscribed from {mailing_list.name}; they must subscribe again")
    membership.activate(session, subscriber, mailing_list, Consent(method=source, source=source))
    session.commit()
    return "added"


def unsubscribe_address(
    session: Session, email: str, list_name: str | None = None, *, source: str = "cli"
) -> bool:
    """Unsubscribe an address from one list or from everything; False if it already was.

    Unsubscribing an unknown address from everything still records a global suppression,
    so it will never be imported or mailed.
    """
    address, digest = normalise_and_hash(email)
    lists = None if list_name is None else [get_list(session, list_name)]
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == address))
    if subscriber is None:
        if lists is not None:
            raise NotFound(f"no subscriber {address}")
        changed = suppress_hash(session, digest, address, "unsubscribed", source=source)
    else:
        changed = membership.leave(session, subscriber, lists, source=source)
    session.commit()
    return changed


def describe_subscriber(session: Session, email: str) -> SubscriberDetail:
    """A person's subscriptions, consent evidence and suppressions (for `subscribers show`)."""
    address, digest = normalise_and_hash(email)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == address))
    names = dict(session.execute(select(MailingList.id, MailingList.name)).all())
    suppressions = [
        (names.get(row.list_id) if row.list_id else None, row) for row in suppressions_of(session, digest)
    ]
    if subscriber is None and not suppressions:
        raise NotFound(f"no subscriber {address}")
    subscriptions: list[tuple[str, Subscription]] = []
    evidence: list[ConsentEvidence] = []
    if subscriber is not None:
        query = select(Subscription).where(Subscription.subscriber_id == subscriber.id)
        subscriptions = sorted(
            ((names[row.list_id], row) for row in session.scalars(query)), key=lambda p: p[0]
        )
        evidence = evidence_for(session, subscriber.id)
    return SubscriberDetail(address, subscriber, subscriptions, evidence, suppressions)


def erase_subscriber(session: Session, email: str, *, source: str = "cli", by: Actor | None = None) -> bool:
    """GDPR erasure: delete the person and their evidence, keep only a hashed suppression.

    Their address also leaves the sending log: deliveries keep a placeholder, events lose the
    address hash, IP address and user agent (`erasure.scrub_sending_log`); report counts stay.
    Returns whether a subscriber existed; the suppression is recorded either way, so the
    address is never mailed or imported again. With `by`, the audit log records the erasure in the
    same commit, naming the address only by its hash (as the suppression does).
    """
    address, digest = normalise_and_hash(email)
    subscriber_id = session.scalar(select(Subscriber.id).where(Subscriber.email == address))
    scrub_sending_log(session, subscriber_id, address, digest)
    if subscriber_id is not None:
        session.execute(delete(ConsentEvidence).where(ConsentEvidence.subscriber_id == subscriber_id))
        session.execute(delete(Subscription).where(Subscription.subscriber_id == subscriber_id))
        session.execute(delete(Subscriber).where(Subscriber.id == subscriber_id))
    session.execute(update(Suppression).where(Suppression.email_hash == digest).values(email=None))
    suppress_hash(session, digest, None, "erased", source=source)
    if by is not None:
        record(session, by, Action.ERASE, f"sha256:{digest}", {"existed": subscriber_id is not None})
    session.commit()
    return subscriber_id is not None
