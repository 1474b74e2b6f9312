"""Subscription state changes shared by every flow: find or create a person, join, confirm, leave."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.addresses import normalise_and_hash
from newsletter.audience.people.consent import Consent, record_consent
from newsletter.audience.people.suppressions import lift_unsubscribed, suppress_hash
from newsletter.db.tables import MailingList, Subscriber, Subscription


def subscriber_by_public_id(session: Session, public_id: str) -> Subscriber | None:
    """The subscriber a token or public URL names, if it still exists."""
    return session.scalar(select(Subscriber).where(Subscriber.public_id == public_id))


def get_or_create_subscriber(session: Session, address: str, name: str | None) -> Subscriber:
    """The subscriber with this address, created if new; a given name fills an empty one only."""
    email, digest = normalise_and_hash(address)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    now = clock.now()
    if subscriber is None:
        subscriber = Subscriber(
            email=email,
            email_hash=digest,
            name=(name or "").strip()[:200] or None,
            attributes={},
            status="enabled",
            created_at=now,
            updated_at=now,
        )
        session.add(subscriber)
        session.flush()
    elif name and name.strip() and not subscriber.name:
        subscriber.name = name.strip()[:200]
        subscriber.updated_at = now
    return subscriber


def membership(session: Session, subscriber: Subscriber, mailing_list: MailingList) -> Subscription | None:
    """The subscription of one person to one list, if any."""
    return session.get(Subscription, (subscriber.id, mailing_list.id))


def request(
    session: Session, subscriber: Subscriber, mailing_list: MailingList, consent: Consent
) -> Subscription:
    """Record a subscription request awaiting confirmation (an active one stays active)."""
    now = clock.now()
    sub = _ensure(session, subscriber, mailing_list, now)
    if sub.status != "active":
        sub.status = "unconfirmed"
        sub.updated_at = now
    _evidence(session, subscriber, mailing_list, "subscribe", consent, now)
    return sub


def activate(
    session: Session,
    subscriber: Subscriber,
    mailing_list: MailingList,
    consent: Consent,
    *,
    action: str = "subscribe",
) -> Subscription:
    """Make a subscription active now, lifting this person's own 'unsubscribed' suppressions."""
    now = clock.now()
    sub = _ensure(session, subscriber, mailing_list, now)
    sub.status = "active"
    sub.subscribed_at = now
    sub.unsubscribed_at = None
    sub.updated_at = now
    lift_unsubscribed(session, subscriber.email_hash, mailing_list.id)
    _evidence(session, subscriber, mailing_list, action, consent, now)
    return sub


def leave(
    session: Session,
    subscriber: Subscriber,
    lists: Sequence[MailingList] | None,
    *,
    source: str,
) -> bool:
    """Unsubscribe from `lists` (every list when None) and suppress; False if nothing changed."""
    now = clock.now()
    consent = Consent(method=source, source=source)
    query = select(Subscription).where(Subscription.subscriber_id == subscriber.id)
    if lists is not None:
        query = query.where(Subscription.list_id.in_([item.id for item in lists]))
    changed = False
    for sub in session.scalars(query):
        if sub.status != "unsubscribed":
            sub.status, sub.unsubscribed_at, sub.updated_at = "unsubscribed", now, now
            record_consent(
                session,
                subscriber_id=subscriber.id,
                list_id=sub.list_id,
                action="unsubscribe",
                consent=consent,
                at=now,
            )
            changed = True
    scopes: list[int | None] = [None] if lists is None else [item.id for item in lists]
    for list_id in scopes:
        added = suppress_hash(
            session, subscriber.email_hash, subscriber.email, "unsubscribed", source=source, list_id=list_id
        )
        changed = changed or added
    return changed


def _ensure(
    session: Session, subscriber: Subscriber, mailing_list: MailingList, now: datetime
) -> Subscription:
    sub = membership(session, subscriber, mailing_list)
    if sub is None:
        sub = Subscription(
            subscriber_id=subscriber.id,
            list_id=mailing_list.id,
            status="unconfirmed",
            created_at=now,
            updated_at=now,
        )
        session.add(sub)
    return sub


def _evidence(
    session: Session,
    subscriber: Subscriber,
    mailing_list: MailingList,
    action: str,
    consent: Consent,
    at: datetime,
) -> None:
    record_consent(
        session,
        subscriber_id=subscriber.id,
        list_id=mailing_list.id,
        action=action,
        consent=consent,
        at=at,
    )
