"""Staff actions on one person: add, show, unsubscribe, and GDPR erasure that keeps only a hash."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.audience.addresses import email_hash
from newsletter.audience.people.subscribers import (
    add_subscriber,
    describe_subscriber,
    erase_subscriber,
    unsubscribe_address,
)
from newsletter.audience.people.suppressions import add_suppression
from newsletter.db.tables import ConsentEvidence, MailingList, Subscriber, Subscription, Suppression
from newsletter.errors import AudienceError, NotFound, Suppressed

from .conftest import Dump


def _count(session: Session, table: type) -> int:
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_add_is_active_and_idempotent(session: Session, e_alert: MailingList) -> None:
    assert add_subscriber(session, "Jane@Example.com", "e-alert", name="Jane") == "added"
    assert add_subscriber(session, "jane@example.com", "e-alert") == "already_subscribed"
    detail = describe_subscriber(session, "JANE@example.com")
    assert detail.subscriber is not None
    assert detail.subscriber.name == "Jane"
    assert [(name, sub.status) for name, sub in detail.subscriptions] == [("e-alert", "active")]
    assert [(e.action, e.method) for e in detail.evidence] == [("subscribe", "cli")]


def test_add_refuses_suppressed_and_unsubscribed(session: Session, e_alert: MailingList) -> None:
    add_suppression(session, "bounced@example.com", "hard_bounce", source="sendgrid-webhook")
    session.commit()
    with pytest.raises(Suppressed, match="suppressed \\(hard_bounce\\)"):
        add_subscriber(session, "bounced@example.com", "e-alert")
    add_subscriber(session, "left@example.com", "e-alert")
    unsubscribe_address(session, "left@example.com", "e-alert")
    with pytest.raises(Suppressed, match="unsubscribed from this list"):
        add_subscriber(session, "left@example.com", "e-alert")


def test_add_refuses_a_bad_address(session: Session, e_alert: MailingList) -> None:
    with pytest.raises(AudienceError, match="'not-an-address' is not a valid email address"):
        add_subscriber(session, "not-an-address", "e-alert")


def test_unsubscribe_unknown_address_everywhere_still_suppresses(session: Session) -> None:
    assert unsubscribe_address(session, "stranger@example.com") is True
    assert unsubscribe_address(session, "stranger@example.com") is False
    detail = describe_subscriber(session, "stranger@example.com")
    assert detail.subscriber is None
    assert [s.reason for _, s in detail.suppressions] == ["unsubscribed"]


def test_unsubscribe_unknown_address_from_a_list_is_not_found(session: Session, e_alert: MailingList) -> None:
    with pytest.raises(NotFound, match=r"no subscriber stranger@example\.com"):
        unsubscribe_address(session, "stranger@example.com", "e-alert")


def test_show_unknown_address_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        describe_subscriber(session, "nobody@example.com")


def test_erase_keeps_only_a_hash(
    session: Session, e_alert: MailingList, weekly: MailingList, dump: Dump
) -> None:
    add_subscriber(session, "jane@example.com", "e-alert", name="Jane")
    add_subscriber(session, "jane@example.com", "weekly")
    add_subscriber(session, "other@example.com", "e-alert")
    add_suppression(session, "jane@example.com", "hard_bounce", source="sendgrid-webhook")
    session.commit()
    assert erase_subscriber(session, "JANE@example.com") is True
    assert _count(session, Subscriber) == 1
    assert _count(session, Subscription) == 1
    assert _count(session, ConsentEvidence) == 1
    rows = session.scalars(
        select(Suppression).where(Suppression.email_hash == email_hash("jane@example.com"))
    )
    assert sorted((s.reason, s.email) for s in rows) == [("erased", None), ("hard_bounce", None)]
    assert "jane@example.com" not in repr(dump())


def test_erase_unknown_address_records_the_hash(session: Session) -> None:
    assert erase_subscriber(session, "never@example.com") is False
    assert [s.reason for _, s in describe_subscriber(session, "never@example.com").suppressions] == ["erased"]
