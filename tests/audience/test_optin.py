"""Signing up from a form: consent is recorded, double opt-in sends a link, confirming activates."""

from __future__ import annotations

import pytest
from conftest import FrozenClock, RecordingSender
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.audience.people.lists import create_list
from newsletter.audience.people.recipients import recipients
from newsletter.audience.people.subscribers import describe_subscriber, erase_subscriber, unsubscribe_address
from newsletter.audience.people.suppressions import add_suppression
from newsletter.audience.readers.optin import confirm, subscribe
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db.tables import ConsentEvidence, MailingList, Subscriber
from newsletter.errors import InvalidToken, NotFound, Suppressed

from .conftest import FORM


def _url(token: str) -> str:
    return f"https://news.example.org/confirm/{token}"


def _subscribe(
    session: Session, signer: TokenSigner, sender: RecordingSender, mailing_list: MailingList, email: str
) -> str:
    return subscribe(
        session,
        signer,
        sender,
        email=email,
        list_public_id=mailing_list.public_id,
        consent=FORM,
        confirm_url=_url,
        name="Jane",
    )


def _mailed(session: Session, mailing_list: MailingList) -> list[str]:
    return [r.email for batch in recipients(session, [mailing_list.id]) for r in batch]


def test_single_opt_in_subscribes_at_once_with_evidence(
    session: Session, signer: TokenSigner, sender: RecordingSender, e_alert: MailingList
) -> None:
    assert _subscribe(session, signer, sender, e_alert, " Jane@Example.com ") == "subscribed"
    assert sender.sent == []
    assert _mailed(session, e_alert) == ["jane@example.com"]
    (evidence,) = describe_subscriber(session, "jane@example.com").evidence
    assert (evidence.action, evidence.method, evidence.ip, evidence.user_agent) == (
        "subscribe",
        "form",
        "203.0.113.7",
        "Mozilla/5.0 (test)",
    )
    assert evidence.consent_text == FORM.text
    assert evidence.consent_version == "2026-01"


def test_double_opt_in_mails_a_link_and_waits_for_it(
    session: Session, signer: TokenSigner, sender: RecordingSender, weekly: MailingList
) -> None:
    assert _subscribe(session, signer, sender, weekly, "jane@example.com") == "confirmation_sent"
    assert sender.sent[0]["to"] == "jane@example.com"
    assert sender.sent[0]["list_name"] == "weekly"
    assert _mailed(session, weekly) == []
    assert confirm(session, signer, sender.last_token, ip="198.51.100.1") == "confirmed"
    assert _mailed(session, weekly) == ["jane@example.com"]
    actions = [e.action for e in describe_subscriber(session, "jane@example.com").evidence]
    assert actions == ["subscribe", "confirm"]


def test_confirm_link_uses_no_database_ids(
    session: Session, signer: TokenSigner, sender: RecordingSender, weekly: MailingList
) -> None:
    _subscribe(session, signer, sender, weekly, "jane@example.com")
    subscriber = session.scalars(select(Subscriber)).one()
    assert signer.read_confirm(sender.last_token) == (subscriber.public_id, weekly.public_id)


def test_second_confirm_click_is_harmless(
    session: Session, signer: TokenSigner, sender: RecordingSender, weekly: MailingList
) -> None:
    _subscribe(session, signer, sender, weekly, "jane@example.com")
    confirm(session, signer, sender.last_token)
    assert confirm(session, signer, sender.last_token) == "already_confirmed"
    assert session.scalar(select(func.count()).select_from(ConsentEvidence)) == 2


def test_expired_confirm_link_is_refused_and_changes_nothing(
    session: Session,
    signer: TokenSigner,
    sender: RecordingSender,
    weekly: MailingList,
    frozen_clock: FrozenClock,
) -> None:
    _subscribe(session, signer, sender, weekly, "jane@example.com")
    frozen_clock.advance(days=8)
    with pytest.raises(InvalidToken, match="expired"):
        confirm(session, signer, sender.last_token)
    assert _mailed(session, weekly) == []


def test_tampered_confirm_link_changes_nothing(
    session: Session, signer: TokenSigner, sender: RecordingSender, weekly: MailingList
) -> None:
    _subscribe(session, signer, sender, weekly, "jane@example.com")
    token = sender.last_token
    flipped = "A" if token[-5] != "A" else "B"  # inside the signature: every bit of it counts there
    with pytest.raises(InvalidToken):
        confirm(session, signer, token[:-5] + flipped + token[-4:])
    assert _mailed(session, weekly) == []


def test_already_subscribed_sends_nothing(
    session: Session, signer: TokenSigner, sender: RecordingSender, e_alert: MailingList
) -> None:
    _subscribe(session, signer, sender, e_alert, "jane@example.com")
    assert _subscribe(session, signer, sender, e_alert, "JANE@example.com") == "already_subscribed"
    assert session.scalar(select(func.count()).select_from(ConsentEvidence)) == 1


def test_coming_back_after_unsubscribing_needs_confirmation(
    session: Session, signer: TokenSigner, sender: RecordingSender, e_alert: MailingList
) -> None:
    _subscribe(session, signer, sender, e_alert, "jane@example.com")
    unsubscribe_address(session, "jane@example.com", "e-alert")
    assert _subscribe(session, signer, sender, e_alert, "jane@example.com") == "confirmation_sent"
    assert _mailed(session, e_alert) == []
    assert confirm(session, signer, sender.last_token) == "confirmed"
    assert _mailed(session, e_alert) == ["jane@example.com"]
    assert describe_subscriber(session, "jane@example.com").suppressions == []


def test_link_clicked_after_unsubscribing_does_not_resubscribe(
    session: Session, signer: TokenSigner, sender: RecordingSender, weekly: MailingList
) -> None:
    _subscribe(session, signer, sender, weekly, "jane@example.com")
    unsubscribe_address(session, "jane@example.com", "weekly")
    with pytest.raises(InvalidToken, match="unsubscribed after"):
        confirm(session, signer, sender.last_token)
    assert _mailed(session, weekly) == []


@pytest.mark.parametrize("reason", ["hard_bounce", "spam_complaint", "manual"])
def test_suppressed_address_cannot_subscribe(
    session: Session, signer: TokenSigner, sender: RecordingSender, e_alert: MailingList, reason: str
) -> None:
    add_suppression(session, "jane@example.com", reason, source="test")
    session.commit()
    with pytest.raises(Suppressed, match=f"suppressed \\({reason}\\)"):
        _subscribe(session, signer, sender, e_alert, "jane@example.com")
    assert session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_erased_person_cannot_be_resubscribed_by_a_form(
    session: Session, signer: TokenSigner, sender: RecordingSender, e_alert: MailingList
) -> None:
    _subscribe(session, signer, sender, e_alert, "jane@example.com")
    erase_subscriber(session, "jane@example.com")
    with pytest.raises(Suppressed, match="erased"):
        _subscribe(session, signer, sender, e_alert, "jane@example.com")


def test_private_and_unknown_lists_are_not_offered(
    session: Session, signer: TokenSigner, sender: RecordingSender
) -> None:
    private = create_list(session, "staff", private=True)
    with pytest.raises(NotFound):
        _subscribe(session, signer, sender, private, "jane@example.com")
    with pytest.raises(NotFound):
        subscribe(
            session,
            signer,
            sender,
            email="a@example.com",
            list_public_id="nope",
            consent=FORM,
            confirm_url=_url,
        )


def test_confirm_for_an_erased_person_is_refused(
    session: Session, signer: TokenSigner, sender: RecordingSender, weekly: MailingList
) -> None:
    _subscribe(session, signer, sender, weekly, "jane@example.com")
    erase_subscriber(session, "jane@example.com")
    with pytest.raises(NotFound, match="no longer exists"):
        confirm(session, signer, sender.last_token)
