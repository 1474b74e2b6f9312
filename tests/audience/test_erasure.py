"""GDPR erasure reaches the sending log: no address in deliveries, no address, IP or browser in events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from support.counts import assert_status_counts_agree

from newsletter import clock
from newsletter.audience.addresses import email_hash
from newsletter.audience.people.subscribers import add_subscriber, erase_subscriber
from newsletter.db.tables import Delivery, Event, MailingList, Send, Subscriber
from newsletter.events.ingest import ingest
from newsletter.events.sendgrid_webhook import to_event
from newsletter.reports.send_report import DomainRow, build_report
from tests.events.helpers import event, make_send

from .conftest import Dump

JANE = "jane@example.com"
IP = "203.0.113.9"
BROWSER = "Mozilla/5.0 (Jane's phone)"


def _sent_to_jane(session: Session) -> tuple[int, int]:
    """A send to Jane and Bob (Jane's delivery linked to her) and a test send to Jane; events for all."""
    for address in (JANE, "bob@example.com"):
        add_subscriber(session, address, "e-alert")
    jane_id = session.scalar(select(Subscriber.id).where(Subscriber.email == JANE))
    send_id, deliveries = make_send(session, [JANE, "bob@example.com"])
    test_send, test_deliveries = make_send(session, [JANE])
    session.execute(update(Delivery).where(Delivery.id == deliveries[0][0]).values(subscriber_id=jane_id))
    session.execute(
        update(Delivery)
        .where(Delivery.id == test_deliveries[0][0])
        .values(detail=f"550 5.1.1 <{JANE}>: mailbox full")
    )
    session.commit()
    jane, bob, jane_test = deliveries[0], deliveries[1], test_deliveries[0]
    raw = [
        event("delivered", jane),
        event("open", jane, ip=IP, useragent=BROWSER),
        event("click", jane, ip=IP, useragent=BROWSER, url="https://example.org/walk"),
        event("bounce", jane_test, type="bounce", reason=f"550 {JANE} does not exist", status="5.1.1"),
        event("open", bob, ip="198.51.100.2", useragent="Bob's laptop"),
        {"event": "spamreport", "sg_event_id": "unlinked-1", "email": JANE, "timestamp": 1_700_000_000},
    ]
    ingest(session, [to_event(item, clock.now()) for item in raw])
    session.commit()
    return send_id, test_send


def test_erasure_scrubs_deliveries_and_events_and_keeps_report_figures(
    session: Session, e_alert: MailingList, dump: Dump
) -> None:
    send_id, test_send = _sent_to_jane(session)
    before = [build_report(session, ref) for ref in (send_id, test_send)]

    assert erase_subscriber(session, JANE) is True

    everything = repr(dump())
    assert JANE not in everything
    assert IP not in everything
    assert "Jane's phone" not in everything
    hashed = session.scalars(select(Event).where(Event.email_hash == email_hash(JANE))).all()
    assert hashed == []
    after = [build_report(session, ref) for ref in (send_id, test_send)]
    for old, new in zip(before, after, strict=True):
        assert (new.figures, new.statuses) == (old.figures, old.statuses)
        assert _domain_totals(new.by_domain) == _domain_totals(old.by_domain)
    assert "erased.invalid" in {row.domain for report in after for row in report.by_domain}
    placeholders = session.scalars(select(Delivery.email).where(Delivery.email.like("erased-%"))).all()
    assert len(placeholders) == 2
    assert all(address.endswith("@erased.invalid") for address in placeholders)
    linked = select(Delivery.id).where(Delivery.email.like("erased-%"), Delivery.subscriber_id.is_not(None))
    assert session.scalars(linked).all() == []  # nothing still points at the erased person
    assert assert_status_counts_agree(session, send_id) == {"accepted": 2}
    assert assert_status_counts_agree(session, test_send) == {"accepted": 1}


def _domain_totals(rows: Sequence[DomainRow]) -> tuple[int, int, Counter[str]]:
    figures: Counter[str] = Counter()
    for row in rows:
        figures.update(row.figures)
    return sum(r.recipients for r in rows), sum(r.accepted for r in rows), figures


def test_erasure_moves_a_personal_domain_and_its_report_row_to_the_neutral_domain(
    session: Session, e_alert: MailingList, dump: Dump
) -> None:
    family = "jane@doe-family.net"
    send_id, deliveries = make_send(session, [family, "bob@example.com"])
    ingest(session, [to_event(event(kind, deliveries[0]), clock.now()) for kind in ("delivered", "open")])
    session.commit()
    before = build_report(session, send_id)
    erase_subscriber(session, family)
    after = build_report(session, send_id)
    assert "doe-family" not in repr(dump())
    assert after.figures == before.figures
    assert _domain_totals(after.by_domain) == _domain_totals(before.by_domain)
    moved = {row.domain: row for row in after.by_domain}["erased.invalid"]
    old = {row.domain: row for row in before.by_domain}["doe-family.net"]
    assert (moved.recipients, moved.accepted, moved.figures) == (old.recipients, old.accepted, old.figures)


def test_erasure_replaces_the_address_in_a_test_sends_recipients(
    session: Session, e_alert: MailingList
) -> None:
    test_id, [(delivery_id, _, _)] = make_send(session, [JANE])
    session.execute(
        update(Send)
        .where(Send.id == test_id)
        .values(is_test=True, test_recipients=[JANE, "editor@example.org"])
    )
    session.commit()
    erase_subscriber(session, JANE.upper())
    session.expire_all()
    assert session.scalars(select(Send.test_recipients).where(Send.id == test_id)).one() == [
        f"erased-{delivery_id}@erased.invalid",
        "editor@example.org",
    ]


def test_erasure_replaces_the_address_in_any_letter_case_in_delivery_details(
    session: Session, e_alert: MailingList
) -> None:
    _, [jane] = make_send(session, [JANE])
    session.execute(
        update(Delivery).where(Delivery.id == jane[0]).values(detail="550 5.1.1 <Jane@Example.COM>: unknown")
    )
    session.commit()
    erase_subscriber(session, JANE)
    session.expire_all()
    row = session.get(Delivery, jane[0])
    assert row is not None
    assert row.detail == f"550 5.1.1 <erased-{jane[0]}@erased.invalid>: unknown"


def test_events_arriving_after_erasure_keep_nothing_personal_but_still_count(
    session: Session, e_alert: MailingList, dump: Dump
) -> None:
    send_id, deliveries = make_send(session, [JANE, "bob@example.com"])
    jane = deliveries[0]
    ingest(session, [to_event(event("delivered", jane), clock.now())])
    session.commit()
    erase_subscriber(session, JANE)
    suppressions_before = dump()["suppressions"]
    before = build_report(session, send_id)

    late = [
        event("open", jane, ip=IP, useragent=BROWSER),
        event("click", jane, ip=IP, useragent=BROWSER, url=f"https://example.org/walk?who={JANE.upper()}"),
        event("spamreport", jane),
        event("bounce", jane, type="bounce", reason=f"550 <{JANE}> does not exist", status="5.1.1"),
    ]
    result = ingest(session, [to_event(item, clock.now()) for item in late])
    session.commit()

    assert (result.stored, result.linked, result.suppressed) == (4, 4, 0)
    everything = repr(dump())
    assert JANE not in everything
    assert JANE.upper() not in everything
    assert IP not in everything
    assert "Jane's phone" not in everything
    assert dump()["suppressions"] == suppressions_before
    stored = session.scalars(select(Event).where(Event.delivery_id == jane[0])).all()
    assert [e.email_hash for e in stored] == [None] * 5
    assert {e.domain for e in stored} == {"erased.invalid"}
    after = build_report(session, send_id)
    for figure in ("unique_opens", "unique_clicks", "spam_complaints", "hard_bounces"):
        assert after.figures[figure] == before.figures[figure] + 1, figure


def test_an_unlinked_event_for_an_erased_address_keeps_nothing_personal(
    session: Session, e_alert: MailingList, dump: Dump
) -> None:
    add_subscriber(session, JANE, "e-alert")
    erase_subscriber(session, JANE)
    suppressions_before = dump()["suppressions"]
    late = {"event": "spamreport", "sg_event_id": "unlinked-late", "email": JANE.title(), "ip": IP}
    result = ingest(session, [to_event(late, clock.now())])
    session.commit()
    assert (result.stored, result.suppressed) == (1, 0)
    assert dump()["suppressions"] == suppressions_before
    stored = session.scalars(select(Event).where(Event.sg_event_id == "unlinked-late")).one()
    assert (stored.email_hash, stored.detail) == (None, {})
    assert IP not in repr(dump())


def test_erasure_leaves_other_people_alone(session: Session, e_alert: MailingList) -> None:
    _sent_to_jane(session)
    erase_subscriber(session, JANE)
    bob = session.scalar(select(Delivery).where(Delivery.email == "bob@example.com"))
    assert bob is not None
    opened = session.scalar(select(Event).where(Event.delivery_id == bob.id))
    assert opened is not None
    assert opened.email_hash == email_hash("bob@example.com")
    assert (opened.detail["ip"], opened.detail["useragent"]) == ("198.51.100.2", "Bob's laptop")


def test_erasing_someone_never_mailed_touches_no_delivery(
    session: Session, e_alert: MailingList, dump: Dump
) -> None:
    _sent_to_jane(session)
    before = dump()
    assert erase_subscriber(session, "nobody@example.com") is False
    after = dump()
    assert after["deliveries"] == before["deliveries"]
    assert after["events"] == before["events"]


def test_a_delivery_still_pending_is_skipped_not_left_for_a_placeholder(
    session: Session, e_alert: MailingList
) -> None:
    send_id, [pending, _] = make_send(session, [JANE, "bob@example.com"], status="pending")
    other, [done] = make_send(session, [JANE], status="accepted")  # already sent: stays accepted
    erase_subscriber(session, JANE)
    row = session.get(Delivery, pending[0])
    assert row is not None
    assert (row.email, row.status, row.detail) == (
        f"erased-{row.id}@erased.invalid",
        "skipped",
        "erased before it was sent",
    )
    assert assert_status_counts_agree(session, send_id) == {"pending": 1, "skipped": 1}
    assert assert_status_counts_agree(session, other) == {"accepted": 1}
    assert session.get_one(Delivery, done[0]).email == f"erased-{done[0]}@erased.invalid"
