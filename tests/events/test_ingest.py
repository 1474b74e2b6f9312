"""Storing events once, linking them to deliveries, and their effects, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from conftest import FrozenClock
from sqlalchemy import func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from support.counts import assert_status_counts_agree

from events.helpers import body_of, event, make_send
from newsletter import clock
from newsletter.audience.addresses import email_hash
from newsletter.db.tables import Delivery, Event, SendCounter, Subscriber, Suppression
from newsletter.events.ingest import IngestResult, ingest, link_key
from newsletter.events.sendgrid_webhook import parse_events
from newsletter.events.store import sqlite_time

Deliveries = list[tuple[int, int, str]]


@pytest.fixture
def sent(session: Session, frozen_clock: FrozenClock) -> Deliveries:
    """A send to four readers; the third's request timed out (status unknown), the fourth is pending."""
    emails = ["ann@gmail.com", "bob@yahoo.com", "cat@gmail.com", "dan@outlook.com"]
    _, deliveries = make_send(session, emails, statuses={2: "unknown", 3: "pending"})
    return deliveries


def _ingest(session: Session, events: list[dict[str, Any]]) -> IngestResult:
    result = ingest(session, parse_events(body_of(events)))
    session.commit()
    return result


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _delivery(session: Session, delivery_id: int) -> Delivery:
    session.expire_all()
    found = session.get(Delivery, delivery_id)
    assert found is not None
    return found


def _counter(session: Session, send_id: int, name: str, key: str) -> int:
    query = select(SendCounter.value).where(
        SendCounter.send_id == send_id, SendCounter.name == name, SendCounter.key == key
    )
    return session.scalar(query) or 0


def test_a_batch_posted_twice_is_stored_once(session: Session, sent: Deliveries) -> None:
    batch = [event("processed", sent[0]), event("delivered", sent[0]), event("open", sent[0])]
    first = _ingest(session, batch)
    again = _ingest(session, batch)
    assert (first.stored, first.duplicates, first.linked) == (3, 0, 3)
    assert (again.stored, again.duplicates, again.linked) == (0, 3, 0)
    assert _count(session, Event) == 3
    assert _counter(session, sent[0][1], "events", "open") == 1
    assert _counter(session, sent[0][1], "unique", "delivered") == 1


def test_an_event_repeated_inside_a_batch_counts_once(session: Session, sent: Deliveries) -> None:
    click = event("click", sent[0], url="https://example.org/a")
    result = _ingest(session, [click, event("open", sent[0]), click])
    assert (result.received, result.stored, result.duplicates) == (3, 2, 1)
    assert _counter(session, sent[0][1], "events", "click") == 1


def test_events_link_to_deliveries_only_when_send_and_delivery_agree(
    session: Session, sent: Deliveries
) -> None:
    delivery_id, send_id, email = sent[0]
    batch = [
        event("delivered", sent[0]),
        event("delivered", (delivery_id, send_id + 1, email)),
        event("delivered", (10**9, send_id, email)),
        event("delivered", email=email, delivery_id=str(delivery_id)),
        event("delivered", email=email),
    ]
    result = _ingest(session, batch)
    rows = session.execute(
        select(Event.sg_event_id, Event.delivery_id, Event.send_id).order_by(Event.id)
    ).all()
    linked = {sg_id: (d, s) for sg_id, d, s in rows}
    assert result.stored == 5
    assert result.linked == 2
    assert [linked[e["sg_event_id"]] for e in batch] == [
        (delivery_id, send_id),
        (None, None),
        (None, None),
        (delivery_id, send_id),
        (None, None),
    ]


def test_the_address_is_kept_only_as_a_hash_with_its_domain(session: Session, sent: Deliveries) -> None:
    _ingest(session, [event("open", sent[0], useragent="Mozilla/5.0", brand_new_field=[1, 2])])
    row = session.scalars(select(Event)).one()
    assert row.email_hash == email_hash("ann@gmail.com")
    assert row.domain == "gmail.com"
    assert row.detail["useragent"] == "Mozilla/5.0"
    assert row.detail["brand_new_field"] == [1, 2]
    assert "ann@gmail.com" not in str(row.detail)


def test_delivered_bounced_and_dropped_set_the_outcome(
    session: Session, sent: Deliveries, frozen_clock: FrozenClock
) -> None:
    later = int((frozen_clock.now() + timedelta(hours=2)).timestamp())
    _ingest(
        session,
        [event("delivered", sent[0]), event("bounce", sent[1], type="bounce"), event("dropped", sent[3])],
    )
    assert _delivery(session, sent[0][0]).outcome == "delivered"
    assert _delivery(session, sent[1][0]).outcome == "bounced"
    assert _delivery(session, sent[3][0]).outcome == "dropped"
    assert _delivery(session, sent[0][0]).outcome_at == frozen_clock.now()
    _ingest(session, [event("bounce", sent[0], type="blocked", timestamp=later)])
    assert _delivery(session, sent[0][0]).outcome == "blocked"


def test_a_late_arriving_older_event_does_not_override_a_newer_outcome(
    session: Session, sent: Deliveries, frozen_clock: FrozenClock
) -> None:
    earlier = int((frozen_clock.now() - timedelta(minutes=5)).timestamp())
    _ingest(session, [event("bounce", sent[0], type="bounce")])
    _ingest(session, [event("delivered", sent[0], timestamp=earlier)])
    assert _delivery(session, sent[0][0]).outcome == "bounced"


def test_a_deferral_never_replaces_a_final_outcome(
    session: Session, sent: Deliveries, frozen_clock: FrozenClock
) -> None:
    later = int((frozen_clock.now() + timedelta(minutes=5)).timestamp())
    _ingest(session, [event("deferred", sent[0])])
    assert _delivery(session, sent[0][0]).outcome == "deferred"
    _ingest(session, [event("delivered", sent[0]), event("deferred", sent[0], timestamp=later)])
    assert _delivery(session, sent[0][0]).outcome == "delivered"


def test_an_unknown_delivery_is_reconciled_as_accepted_by_any_provider_event(
    session: Session, sent: Deliveries
) -> None:
    send_id = sent[0][1]
    assert _delivery(session, sent[2][0]).status == "unknown"
    assert assert_status_counts_agree(session, send_id) == {"accepted": 2, "unknown": 1, "pending": 1}
    _ingest(session, [event("processed", sent[2]), event("open", sent[3]), event("delivered", sent[2])])
    assert _delivery(session, sent[2][0]).status == "accepted"
    assert _delivery(session, sent[3][0]).status == "pending"
    assert assert_status_counts_agree(session, send_id) == {"accepted": 3, "pending": 1}
    _ingest(session, [event("open", sent[2])])  # already accepted: nothing moves
    assert assert_status_counts_agree(session, send_id) == {"accepted": 3, "pending": 1}


def _suppressions(session: Session) -> list[tuple[str | None, str, str, int | None]]:
    rows = session.execute(
        select(Suppression.email, Suppression.reason, Suppression.source, Suppression.list_id).order_by(
            Suppression.email
        )
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_hard_bounces_complaints_and_unsubscribes_suppress_with_the_event_as_evidence(
    session: Session, sent: Deliveries
) -> None:
    session.add(
        Subscriber(
            email="ann@gmail.com",
            email_hash=email_hash("ann@gmail.com"),
            created_at=clock.now(),
            updated_at=clock.now(),
        )
    )
    session.commit()
    batch = [
        event("bounce", sent[0], type="bounce", bounce_classification="Invalid Address"),
        event("spamreport", sent[1]),
        event("unsubscribe", sent[2]),
        event("group_unsubscribe", sent[3], asm_group_id=4242),
    ]
    result = _ingest(session, batch)
    assert result.suppressed == 4
    assert _suppressions(session) == [
        ("ann@gmail.com", "hard_bounce", "sendgrid-webhook", None),
        ("bob@yahoo.com", "spam_complaint", "sendgrid-webhook", None),
        ("cat@gmail.com", "unsubscribed", "sendgrid-webhook", None),
        ("dan@outlook.com", "unsubscribed", "sendgrid-webhook", None),
    ]
    evidence = dict(session.execute(select(Event.sg_event_id, Event.suppression)).all())
    assert [evidence[e["sg_event_id"]] for e in batch] == [
        "hard_bounce",
        "spam_complaint",
        "unsubscribed",
        "unsubscribed",
    ]
    assert session.scalars(select(Subscriber.status)).one() == "blocklisted"
    suppression = session.scalars(select(Suppression).where(Suppression.reason == "hard_bounce")).one()
    evidence_of = select(Event.sg_event_id).where(
        Event.email_hash == suppression.email_hash, Event.suppression.is_not(None)
    )
    assert session.scalars(evidence_of).all() == [batch[0]["sg_event_id"]]


def test_soft_bounces_deferrals_and_drops_suppress_nothing(session: Session, sent: Deliveries) -> None:
    batch = [
        event("bounce", sent[0], type="blocked", bounce_classification="Reputation"),
        event("deferred", sent[1], attempt="3"),
        event("dropped", sent[2], reason="Bounced Address"),
        event("open", sent[3]),
    ]
    assert _ingest(session, batch).suppressed == 0
    assert _suppressions(session) == []
    assert session.scalar(select(func.count()).where(Event.suppression.is_not(None))) == 0


def test_an_unlinked_complaint_still_suppresses_its_address(session: Session, sent: Deliveries) -> None:
    _ingest(session, [event("spamreport", email=" Old.Reader@Example.ORG ")])
    assert _suppressions(session) == [("old.reader@example.org", "spam_complaint", "sendgrid-webhook", None)]


def test_a_repeated_complaint_suppresses_once(session: Session, sent: Deliveries) -> None:
    _ingest(session, [event("spamreport", sent[1])])
    assert _ingest(session, [event("spamreport", sent[1])]).suppressed == 0
    assert len(_suppressions(session)) == 1


def test_unknown_event_types_are_stored_and_counted_apart(session: Session, sent: Deliveries) -> None:
    result = _ingest(session, [event("amp_interaction", sent[0], widget="poll"), event("open", sent[0])])
    assert result.stored == 2
    row = session.scalars(select(Event).where(Event.type == "amp_interaction")).one()
    assert row.detail["widget"] == "poll"
    assert _counter(session, sent[0][1], "events", "amp_interaction") == 1
    assert _delivery(session, sent[0][0]).event_flags == 1 << 6


def test_unique_figures_count_each_delivery_once(session: Session, sent: Deliveries) -> None:
    send_id = sent[0][1]
    _ingest(
        session,
        [event("open", sent[0]), event("open", sent[0]), event("open", sent[1], sg_machine_open=True)],
    )
    _ingest(
        session, [event("open", sent[0]), event("unsubscribe", sent[2]), event("group_unsubscribe", sent[2])]
    )
    assert _counter(session, send_id, "unique", "unique_opens") == 1
    assert _counter(session, send_id, "events", "open") == 3
    assert _counter(session, send_id, "unique", "unique_machine_opens") == 1
    assert _counter(session, send_id, "unique", "unsubscribes") == 1
    assert _counter(session, send_id, "domain:unique_opens", "gmail.com") == 1
    assert _counter(session, send_id, "domain:unique_machine_opens", "yahoo.com") == 1


def test_clicks_on_personal_links_are_grouped_per_link(session: Session, sent: Deliveries) -> None:
    token_a, token_b = "a" * 20 + ".Zm9vYmFy" + "b" * 30, "c" * 45
    _ingest(
        session,
        [
            event("click", sent[0], url=f"https://example.org/brief/unsubscribe/{token_a}"),
            event("click", sent[1], url=f"https://example.org/brief/unsubscribe/{token_b}"),
            event("click", sent[1], url=f"https://example.org/articles/x?utm_source=ealert&t={token_b}"),
        ],
    )
    assert _counter(session, sent[0][1], "link", "https://example.org/brief/unsubscribe/{token}") == 2
    assert (
        _counter(session, sent[0][1], "link", "https://example.org/articles/x?utm_source=ealert&t={token}")
        == 1
    )


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://example.org/a/b?x=1#frag", "https://example.org/a/b?x=1"),
        ("https://example.org/archive/2026-11-20-walking", "https://example.org/archive/2026-11-20-walking"),
        ("https://example.org/p/" + "x" * 39, "https://example.org/p/" + "x" * 39),
        ("http://[not-a-host/x", "http://[not-a-host/x"),
        ("https://example.org/" + "a/" * 600, ("https://example.org/" + "a/" * 600)[:1000]),
    ],
)
def test_link_keys_keep_ordinary_links_as_they_are(url: str, key: str) -> None:
    assert link_key(url) == key


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 11, 20, 6, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 6, 0, 1, 123456, tzinfo=UTC),
        datetime(2026, 3, 29, 2, 30, 5, 7, tzinfo=timezone(timedelta(hours=-5))),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=14))),
    ],
)
def test_bulk_rows_store_times_exactly_as_the_orm_does(when: datetime) -> None:
    dialect = sqlite.dialect()
    processor = Event.__table__.c.occurred_at.type.dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    assert sqlite_time(when) == processor(when)
