"""Signing up from a public form: subscribe (single or double opt-in) and confirm."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

from sqlalchemy.orm import Session

from newsletter.audience.addresses import normalise_and_hash
from newsletter.audience.people import membership
from newsletter.audience.people.consent import Consent
from newsletter.audience.people.lists import get_list_by_public_id
from newsletter.audience.people.suppressions import applying, describe, first_blocking
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db.tables import MailingList, Subscriber, Suppression
from newsletter.errors import InvalidToken, NotFound, Suppressed

SubscribeOutcome = Literal["subscribed", "confirmation_sent", "already_subscribed"]
ConfirmOutcome = Literal["confirmed", "already_confirmed"]


class ConfirmationSender(Protocol):
    """Sends the double opt-in email and the subscribed notice; `services` wires a real transport, tests a
    recorder."""

    def send_confirmation(self, *, to: str, name: str | None, list_name: str, confirm_url: str) -> None:
        """Send one confirmation email containing `confirm_url`."""

    def send_subscribed_notice(
        self, *, to: str, name: str | None, list_name: str, manage_url: str, already: bool
    ) -> None:
        """Tell someone they are subscribed (now, or `already` before), with their preferences link."""


def subscribe(
    session: Session,
    signer: TokenSigner,
    sender: ConfirmationSender,
    *,
    email: str,
    list_public_id: str,
    consent: Consent,
    confirm_url: Callable[[str], str],
    name: str | None = None,
    manage_url: Callable[[str], str] | None = None,
) -> SubscribeOutcome:
    """Subscribe from a public form, recording consent; double opt-in lists email a confirm link.

    Someone who unsubscribed before must confirm by email even on a single opt-in list, so that
    nobody can re-subscribe another person. With `manage_url` (the public form) someone subscribed
    at once, or already, is told so by email, so that every outcome is an email and the page can say
    the same whoever asked. Commits before anything is sent.
    """
    mailing_list = get_list_by_public_id(session, list_public_id)
    if mailing_list.visibility != "public":
        raise NotFound("that list does not exist (any more)")
    address, digest = normalise_and_hash(email)
    opted_out = bool(_refuse_blocked(session, address, digest, mailing_list))
    subscriber = membership.get_or_create_subscriber(session, address, name)
    current = membership.membership(session, subscriber, mailing_list)
    if current is not None and current.status == "active" and not opted_out:
        session.commit()
        _notify(sender, signer, subscriber, mailing_list, manage_url, already=True)
        return "already_subscribed"
    if mailing_list.double_opt_in or opted_out:
        membership.request(session, subscriber, mailing_list, consent)
        session.commit()
        url = confirm_url(signer.confirm_token(subscriber.public_id, mailing_list.public_id))
        sender.send_confirmation(
            to=subscriber.email, name=subscriber.name, list_name=mailing_list.name, confirm_url=url
        )
        return "confirmation_sent"
    membership.activate(session, subscriber, mailing_list, consent)
    session.commit()
    _notify(sender, signer, subscriber, mailing_list, manage_url, already=False)
    return "subscribed"


def _notify(
    sender: ConfirmationSender,
    signer: TokenSigner,
    subscriber: Subscriber,
    mailing_list: MailingList,
    manage_url: Callable[[str], str] | None,
    *,
    already: bool,
) -> None:
    if manage_url is None:
        return
    url = manage_url(signer.manage_token(subscriber.public_id))
    sender.send_subscribed_notice(
        to=subscriber.email,
        name=subscriber.name,
        list_name=mailing_list.name,
        manage_url=url,
        already=already,
    )


def confirm(
    session: Session,
    signer: TokenSigner,
    token: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> ConfirmOutcome:
    """Confirm a double opt-in subscription from its emailed link; a second click is harmless."""
    subscriber_id, list_id = signer.read_confirm(token)
    subscriber = membership.subscriber_by_public_id(session, subscriber_id)
    if subscriber is None:
        raise NotFound("this subscription no longer exists; please subscribe again")
    mailing_list = get_list_by_public_id(session, list_id)
    opted_out = bool(_refuse_blocked(session, subscriber.email, subscriber.email_hash, mailing_list))
    current = membership.membership(session, subscriber, mailing_list)
    if current is None or current.status == "unsubscribed":
        raise InvalidToken(
            "you unsubscribed after this confirmation link was sent; subscribe again to rejoin"
        )
    if current.status == "active" and not opted_out:
        return "already_confirmed"
    consent = Consent(method="confirm-link", source="email", ip=ip, user_agent=user_agent)
    membership.activate(session, subscriber, mailing_list, consent, action="confirm")
    session.commit()
    return "confirmed"


def _refuse_blocked(
    session: Session, email: str, digest: str, mailing_list: MailingList
) -> list[Suppression]:
    """The suppressions applying to the list (`applying`); Suppressed if one of them is blocking."""
    found = applying(session, digest, mailing_list.id)
    block = first_blocking(found)
    if block is not None:
        raise Suppressed(f"{email} cannot be subscribed: {describe(block.reason, block.list_id is None)}")
    return found
