"""What a reader does from a link in an email: unsubscribe, manage preferences (one-click: `one_click`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.audience.people import membership
from newsletter.audience.people.consent import Consent
from newsletter.audience.people.suppressions import blocking, describe, suppressions_of
from newsletter.audience.readers.one_click import OnUnsubscribed, UnsubscribeResult
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db.tables import MailingList, Subscriber, Subscription
from newsletter.errors import NotFound, Suppressed


@dataclass(frozen=True)
class ListChoice:
    """One list on the preferences page."""

    public_id: str
    name: str
    description: str
    subscribed: bool
    pending: bool


@dataclass(frozen=True)
class Preferences:
    """A reader's preferences page: who they are and which lists they get."""

    email: str
    name: str | None
    lists: tuple[ListChoice, ...]


def unsubscribe(
    session: Session,
    signer: TokenSigner,
    token: str,
    *,
    source: str = "link",
    on_unsubscribed: OnUnsubscribed | None = None,
) -> UnsubscribeResult:
    """Unsubscribe with a signed link; a replay (or an erased person's link) is harmless.

    As in `one_click`: `on_unsubscribed(session, delivery_id)` runs before the commit when the link
    names its delivery and something changed.
    """
    subscriber_id, list_ids, delivery_id = signer.read_unsubscribe_link(token)
    lists = [
        found
        for list_id in list_ids
        if (found := session.scalar(select(MailingList).where(MailingList.public_id == list_id)))
    ]
    names = tuple(item.name for item in lists)
    subscriber = membership.subscriber_by_public_id(session, subscriber_id)
    if subscriber is None or (list_ids and not lists):
        return UnsubscribeResult(already=True, lists=names)
    changed = membership.leave(session, subscriber, lists or None, source=source)
    if changed and delivery_id is not None and on_unsubscribed is not None:
        on_unsubscribed(session, delivery_id)
    session.commit()
    return UnsubscribeResult(already=not changed, lists=names)


def get_preferences(session: Session, signer: TokenSigner, token: str) -> Preferences:
    """The preferences page for a manage link: public lists, plus private ones the reader is on."""
    return _preferences(session, _reader(session, signer, token))


def update_preferences(
    session: Session,
    signer: TokenSigner,
    token: str,
    list_public_ids: Collection[str],
    *,
    consent: Consent,
) -> Preferences:
    """Keep the reader on exactly the chosen lists; the manage link proves the mailbox is theirs."""
    subscriber = _reader(session, signer, token)
    offered = {choice.public_id: choice for choice in _preferences(session, subscriber).lists}
    unknown = set(list_public_ids) - offered.keys()
    if unknown:
        raise NotFound("one of the chosen lists does not exist (any more)")
    lists = {item.public_id: item for item in session.scalars(select(MailingList))}
    for public_id, choice in offered.items():
        wanted = public_id in list_public_ids
        mailing_list = lists[public_id]
        if wanted and not (choice.subscribed and not choice.pending):
            block = blocking(session, subscriber.email_hash, mailing_list.id)
            if block is not None:
                session.rollback()
                raise Suppressed(f"cannot subscribe: {describe(block.reason, block.list_id is None)}")
            membership.activate(session, subscriber, mailing_list, consent)
        elif not wanted and (choice.subscribed or choice.pending):
            membership.leave(session, subscriber, [mailing_list], source="preferences")
    session.commit()
    return _preferences(session, subscriber)


def _reader(session: Session, signer: TokenSigner, token: str) -> Subscriber:
    subscriber = membership.subscriber_by_public_id(session, signer.read_manage(token))
    if subscriber is None:
        raise NotFound("this subscription no longer exists")
    return subscriber


def _preferences(session: Session, subscriber: Subscriber) -> Preferences:
    query = select(Subscription.list_id, Subscription.status).where(
        Subscription.subscriber_id == subscriber.id
    )
    statuses = dict(session.execute(query).all())
    # The lists (None: all) a suppression covers; asked once, not once per active list as `applying` would.
    suppressed = (
        {row.list_id for row in suppressions_of(session, subscriber.email_hash)}
        if "active" in statuses.values()
        else set()
    )
    choices = []
    for item in session.scalars(select(MailingList).order_by(MailingList.name)):
        status = statuses.get(item.id)
        if status == "active" and (None in suppressed or item.id in suppressed):
            status = "unsubscribed"
        if item.visibility == "public" or status in ("active", "unconfirmed"):
            choices.append(
                ListChoice(
                    public_id=item.public_id,
                    name=item.name,
                    description=item.description,
                    subscribed=status == "active",
                    pending=status == "unconfirmed",
                )
            )
    return Preferences(email=subscriber.email, name=subscriber.name, lists=tuple(choices))
