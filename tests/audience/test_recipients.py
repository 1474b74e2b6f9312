"""recipients(): only active, unsuppressed members, in keyset batches."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.audience.people.membership import get_or_create_subscriber, request
from newsletter.audience.people.recipients import recipients
from newsletter.audience.people.subscribers import add_subscriber, erase_subscriber, unsubscribe_address
from newsletter.audience.people.suppressions import add_suppression
from newsletter.db.tables import MailingList, Subscriber

from .conftest import FORM


def _everyone(session: Session, list_ids: list[int], batch_size: int = 1000) -> list[str]:
    return [r.email for batch in recipients(session, list_ids, batch_size=batch_size) for r in batch]


def _ids(session: Session) -> dict[str, int]:
    return {s.email: s.id for s in session.scalars(select(Subscriber))}


@pytest.fixture
def members(session: Session, e_alert: MailingList, weekly: MailingList) -> dict[str, int]:
    for name in ("ann", "bob", "cat", "dan", "eve", "fay", "gus"):
        add_subscriber(session, f"{name}@example.com", "e-alert", name=name.title())
    add_subscriber(session, "bob@example.com", "weekly")
    add_subscriber(session, "hal@example.com", "weekly")
    unsubscribe_address(session, "bob@example.com", "e-alert")
    add_suppression(session, "cat@example.com", "hard_bounce", source="sendgrid-webhook")
    add_suppression(session, "dan@example.com", "spam_complaint", source="sendgrid-webhook")
    add_suppression(session, "eve@example.com", "manual", source="cli", list_id=e_alert.id)
    session.commit()
    erase_subscriber(session, "fay@example.com")
    ivy = get_or_create_subscriber(session, "ivy@example.com", None)
    request(session, ivy, e_alert, FORM)
    session.commit()
    return _ids(session)


def test_only_active_unsuppressed_members_are_returned(
    session: Session, members: dict[str, int], e_alert: MailingList, weekly: MailingList
) -> None:
    assert _everyone(session, [e_alert.id]) == ["ann@example.com", "gus@example.com"]
    assert _everyone(session, [weekly.id]) == ["bob@example.com", "hal@example.com"]
    assert _everyone(session, [e_alert.id, weekly.id]) == [
        "ann@example.com",
        "bob@example.com",
        "gus@example.com",
        "hal@example.com",
    ]


def test_recipients_carry_what_a_message_needs(
    session: Session, members: dict[str, int], e_alert: MailingList
) -> None:
    first = next(recipients(session, [e_alert.id]))[0]
    assert first.email == "ann@example.com"
    assert first.name == "Ann"
    assert first.subscriber_id == members["ann@example.com"]
    assert len(first.public_id) >= 20
    with pytest.raises(TypeError):
        first.attributes["x"] = "y"  # type: ignore[index]


def test_batches_follow_subscriber_ids(session: Session, e_alert: MailingList) -> None:
    for n in range(25):
        add_subscriber(session, f"reader{n:02d}@example.com", "e-alert")
    batches = list(recipients(session, [e_alert.id], batch_size=10))
    assert [len(b) for b in batches] == [10, 10, 5]
    ids = [r.subscriber_id for b in batches for r in b]
    assert ids == sorted(ids)
    assert len(set(ids)) == 25


def test_no_lists_no_recipients(session: Session, members: dict[str, int]) -> None:
    assert _everyone(session, []) == []
