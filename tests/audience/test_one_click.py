"""The lean one-click unsubscribe leaves exactly the rows the ORM unsubscribe path leaves."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.tokens import unsubscribe_token as link_token

from newsletter.audience.people.subscribers import add_subscriber, unsubscribe_address
from newsletter.audience.readers.one_click import one_click_unsubscribe
from newsletter.audience.readers.preferences import unsubscribe
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db.tables import ConsentEvidence, MailingList, Subscriber, Subscription, Suppression


def _person(session: Session, email: str, lists: tuple[str, ...]) -> Subscriber:
    for name in lists:
        add_subscriber(session, email, name)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    assert subscriber is not None
    return subscriber


def _state(session: Session, subscriber: Subscriber) -> dict[str, Any]:
    """Everything an unsubscribe writes about one person, without ids that differ between people."""
    subs = session.execute(
        select(Subscription.list_id, Subscription.status, Subscription.unsubscribed_at)
        .where(Subscription.subscriber_id == subscriber.id)
        .order_by(Subscription.list_id)
    ).all()
    evidence = session.execute(
        select(
            ConsentEvidence.list_id,
            ConsentEvidence.action,
            ConsentEvidence.method,
            ConsentEvidence.source,
            ConsentEvidence.created_at,
        )
        .where(ConsentEvidence.subscriber_id == subscriber.id)
        .order_by(ConsentEvidence.id)
    ).all()
    suppressions = session.execute(
        select(Suppression.list_id, Suppression.reason, Suppression.source, Suppression.email)
        .where(Suppression.email_hash == subscriber.email_hash)
        .order_by(Suppression.list_id)
    ).all()
    return {
        "subscriptions": [tuple(row) for row in subs],
        "evidence": [tuple(row) for row in evidence],
        "suppressions": [(row[0], row[1], row[2], row[3].split("@")[1]) for row in suppressions],
        "status": session.scalar(select(Subscriber.status).where(Subscriber.id == subscriber.id)),
    }


@pytest.mark.usefixtures("frozen_clock")
@pytest.mark.parametrize(
    ("token_lists", "left_before"),
    [
        ((), ()),  # every list
        (("e-alert",), ()),  # one list
        (("e-alert", "weekly"), ("weekly",)),  # two lists, one of them already left
        ((), ("e-alert", "weekly")),  # nothing left to leave: only the global suppression is new
    ],
)
def test_lean_path_writes_what_the_orm_path_writes(
    session: Session,
    signer: TokenSigner,
    e_alert: MailingList,
    weekly: MailingList,
    token_lists: tuple[str, ...],
    left_before: tuple[str, ...],
) -> None:
    by_name = {"e-alert": e_alert, "weekly": weekly}
    jane = _person(session, "jane@example.com", ("e-alert", "weekly"))
    john = _person(session, "john@example.com", ("e-alert", "weekly"))
    for name in left_before:
        unsubscribe_address(session, "jane@example.com", name)
        unsubscribe_address(session, "john@example.com", name)
    list_ids = [by_name[name].public_id for name in token_lists]

    orm = unsubscribe(session, signer, link_token(signer, jane.public_id, list_ids), source="one-click")
    lean = one_click_unsubscribe(session, signer, link_token(signer, john.public_id, list_ids))

    assert lean == orm
    assert _state(session, john) == _state(session, jane)
    scope = set(token_lists or by_name) - set(left_before)
    one_clicks = [row for row in _state(session, john)["evidence"] if row[2:4] == ("one-click", "one-click")]
    assert len(one_clicks) == len(scope)
    replay_orm = unsubscribe(session, signer, link_token(signer, jane.public_id, list_ids))
    replay = one_click_unsubscribe(session, signer, link_token(signer, john.public_id, list_ids))
    assert replay.already
    assert replay == replay_orm
    assert _state(session, john) == _state(session, jane)


def test_loaded_subscriptions_read_their_new_status(
    session: Session, signer: TokenSigner, e_alert: MailingList
) -> None:
    jane = _person(session, "jane@example.com", ("e-alert",))
    loaded = session.get(Subscription, (jane.id, e_alert.id))
    assert loaded is not None
    assert loaded.status == "active"
    one_click_unsubscribe(session, signer, link_token(signer, jane.public_id))
    assert loaded.status == "unsubscribed"


def test_unknown_person_or_deleted_list_changes_nothing(
    session: Session, signer: TokenSigner, e_alert: MailingList
) -> None:
    jane = _person(session, "jane@example.com", ("e-alert",))
    before = _state(session, jane)
    assert one_click_unsubscribe(session, signer, link_token(signer, "nobody")).already
    gone = one_click_unsubscribe(session, signer, link_token(signer, jane.public_id, ["no-such-list"]))
    assert gone.already
    assert gone.lists == ()
    assert _state(session, jane) == before
