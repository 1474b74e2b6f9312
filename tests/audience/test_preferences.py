"""Links in emails: unsubscribe (plain and RFC 8058 one-click) and the preferences page."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.tokens import unsubscribe_token as link_token

from newsletter.audience.people.consent import Consent
from newsletter.audience.people.lists import create_list
from newsletter.audience.people.recipients import recipients
from newsletter.audience.people.subscribers import add_subscriber, describe_subscriber, erase_subscriber
from newsletter.audience.readers.one_click import one_click_unsubscribe
from newsletter.audience.readers.preferences import get_preferences, unsubscribe, update_preferences
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db.tables import MailingList, Subscriber
from newsletter.errors import InvalidToken, NotFound

from .conftest import Dump

PAGE = Consent(method="preferences", source="manage page", ip="203.0.113.9")


def _jane(session: Session, *lists: str) -> Subscriber:
    for name in lists:
        add_subscriber(session, "jane@example.com", name, name="Jane")
    return session.scalars(select(Subscriber)).one()


def _mailed(session: Session, *lists: MailingList) -> list[str]:
    return [r.email for batch in recipients(session, [m.id for m in lists]) for r in batch]


def test_unsubscribe_link_unsubscribes_from_its_list_only(
    session: Session, signer: TokenSigner, e_alert: MailingList, weekly: MailingList
) -> None:
    jane = _jane(session, "e-alert", "weekly")
    result = unsubscribe(session, signer, link_token(signer, jane.public_id, [e_alert.public_id]))
    assert (result.already, result.lists) == (False, ("e-alert",))
    assert result.message == "You are unsubscribed from e-alert."
    assert _mailed(session, e_alert) == []
    assert _mailed(session, weekly) == ["jane@example.com"]


def test_replayed_unsubscribe_is_harmless(
    session: Session, signer: TokenSigner, e_alert: MailingList, dump: Dump
) -> None:
    jane = _jane(session, "e-alert")
    token = link_token(signer, jane.public_id, [e_alert.public_id])
    unsubscribe(session, signer, token)
    before = dump()
    again = unsubscribe(session, signer, token)
    assert again.already
    assert again.message == "You were already unsubscribed from e-alert."
    assert dump() == before


def test_unsubscribe_from_everything(
    session: Session, signer: TokenSigner, e_alert: MailingList, weekly: MailingList
) -> None:
    jane = _jane(session, "e-alert", "weekly")
    result = unsubscribe(session, signer, link_token(signer, jane.public_id))
    assert result.message == "You are unsubscribed from all our emails."
    assert _mailed(session, e_alert, weekly) == []
    (suppression,) = describe_subscriber(session, "jane@example.com").suppressions
    assert suppression[0] is None
    assert suppression[1].reason == "unsubscribed"


def test_one_click_unsubscribe_records_its_source(
    session: Session, signer: TokenSigner, e_alert: MailingList
) -> None:
    jane = _jane(session, "e-alert")
    result = one_click_unsubscribe(session, signer, link_token(signer, jane.public_id, [e_alert.public_id]))
    assert not result.already
    detail = describe_subscriber(session, "jane@example.com")
    assert [s.source for _, s in detail.suppressions] == ["one-click"]
    assert detail.evidence[-1].action == "unsubscribe"
    assert detail.evidence[-1].method == "one-click"


def test_tampered_or_foreign_token_changes_nothing(
    session: Session, signer: TokenSigner, e_alert: MailingList, dump: Dump
) -> None:
    jane = _jane(session, "e-alert")
    before = dump()
    good = link_token(signer, jane.public_id, [e_alert.public_id])
    with pytest.raises(InvalidToken, match="damaged"):
        unsubscribe(session, signer, good[:-4] + "abcd")
    with pytest.raises(InvalidToken, match="preferences link, not an unsubscribe link"):
        one_click_unsubscribe(session, signer, signer.manage_token(jane.public_id))
    with pytest.raises(InvalidToken, match="not made by this newsletter"):
        unsubscribe(session, signer, link_token(TokenSigner("other"), jane.public_id))
    assert dump() == before


def test_unsubscribe_link_of_an_erased_person_is_harmless(
    session: Session, signer: TokenSigner, e_alert: MailingList
) -> None:
    jane = _jane(session, "e-alert")
    token = link_token(signer, jane.public_id, [e_alert.public_id])
    erase_subscriber(session, "jane@example.com")
    assert unsubscribe(session, signer, token).already


def test_preferences_show_public_lists_and_the_private_ones_you_are_on(
    session: Session, signer: TokenSigner, e_alert: MailingList, weekly: MailingList
) -> None:
    create_list(session, "staff-only", private=True)
    create_list(session, "vip", private=True)
    jane = _jane(session, "e-alert", "vip")
    page = get_preferences(session, signer, signer.manage_token(jane.public_id))
    assert page.email == "jane@example.com"
    assert [(c.name, c.subscribed) for c in page.lists] == [
        ("e-alert", True),
        ("vip", True),
        ("weekly", False),
    ]


def test_update_preferences_joins_and_leaves(
    session: Session, signer: TokenSigner, e_alert: MailingList, weekly: MailingList
) -> None:
    jane = _jane(session, "e-alert")
    token = signer.manage_token(jane.public_id)
    page = update_preferences(session, signer, token, [weekly.public_id], consent=PAGE)
    assert [(c.name, c.subscribed) for c in page.lists] == [("e-alert", False), ("weekly", True)]
    assert _mailed(session, e_alert) == []
    assert _mailed(session, weekly) == ["jane@example.com"]
    page = update_preferences(session, signer, token, [e_alert.public_id, weekly.public_id], consent=PAGE)
    assert all(c.subscribed for c in page.lists)
    assert _mailed(session, e_alert) == ["jane@example.com"]


def test_update_preferences_refuses_lists_not_offered(
    session: Session, signer: TokenSigner, e_alert: MailingList
) -> None:
    staff = create_list(session, "staff", private=True)
    jane = _jane(session, "e-alert")
    with pytest.raises(NotFound):
        update_preferences(
            session, signer, signer.manage_token(jane.public_id), [staff.public_id], consent=PAGE
        )
    assert _mailed(session, staff) == []
