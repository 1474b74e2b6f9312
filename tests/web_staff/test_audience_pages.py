"""Staff audience pages: subscriber search and a subscriber's history with their mail and events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from events.helpers import make_send
from sqlalchemy import update
from starlette.testclient import TestClient

from newsletter import clock
from newsletter.audience.people.lists import create_list
from newsletter.audience.people.subscribers import add_subscriber, describe_subscriber
from newsletter.db.tables import Delivery, Event, Send
from newsletter.reports.subscriber_history import PAGE_SIZE
from newsletter.services import Services
from web_staff.helpers import add_staff, log_in


@pytest.fixture
def signed_in(staff_client: TestClient, staff_services: Services) -> TestClient:
    """The client signed in as an editor (the least privileged role)."""
    add_staff(staff_services, "ed@example.org", "editor")
    log_in(staff_client, "ed@example.org")
    return staff_client


def _people(services: Services, *people: tuple[str, str | None]) -> None:
    with services.sessions() as session:
        create_list(session, "e-alert")
        for email, name in people:
            add_subscriber(session, email, "e-alert", name=name)


def test_search_finds_part_of_an_address_or_name_and_links_to_the_history(
    signed_in: TestClient, staff_services: Services
) -> None:
    _people(
        staff_services, ("jo.smith@example.org", None), ("ann@example.org", "Ann Smith"), ("x@y.org", None)
    )
    overview = signed_in.get("/admin/audience").text
    assert 'action="/admin/audience/search"' in overview
    page = signed_in.get("/admin/audience/search", params={"q": "SMITH"}).text
    assert "2 subscribers match." in page
    assert 'href="/admin/audience/subscriber?email=ann%40example.org"' in page
    assert 'href="/admin/audience/subscriber?email=jo.smith%40example.org"' in page
    assert "x@y.org" not in page
    assert signed_in.get("/admin/audience/subscriber", params={"email": "ann@example.org"}).status_code == 200


def test_search_is_capped_escaped_and_literal(signed_in: TestClient, staff_services: Services) -> None:
    _people(staff_services, *((f"r{i:02}@example.org", None) for i in range(55)), ("a_b@example.org", None))
    page = signed_in.get("/admin/audience/search", params={"q": "example"}).text
    assert "56 subscribers match; the first 50 by address are shown." in page
    assert page.count('href="/admin/audience/subscriber?email=') == 50
    literal = signed_in.get("/admin/audience/search", params={"q": "_"}).text
    assert "1 subscriber match." in literal
    hostile = signed_in.get("/admin/audience/search", params={"q": "<b>x</b>"}).text
    assert "<b>x</b>" not in hostile
    assert "&lt;b&gt;x&lt;/b&gt;" in hostile


def _history(services: Services, deliveries: int) -> None:
    """ann@example.org received `deliveries` sends' mail; the newest has an open and a hostile click."""
    _people(services, ("ann@example.org", "Ann"))
    with services.sessions() as session:
        ann = describe_subscriber(session, "ann@example.org").subscriber
        assert ann is not None
        for i in range(deliveries):
            send_id, [(delivery_id, _, _)] = make_send(session, ["ann@example.org"])
            session.execute(update(Send).where(Send.id == send_id).values(issue_slug=f"issue-{i:03}"))
            sent = clock.now() - timedelta(days=deliveries - i)
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id)
                .values(subscriber_id=ann.id, sent_at=sent, outcome="delivered")
            )
        for kind, url, minutes in (
            ("open", None, 5),
            ("click", 'https://example.org/?q="><script>x()</script>', 9),
        ):
            session.add(
                Event(
                    sg_event_id=f"ev-{kind}",
                    type=kind,
                    occurred_at=sent + timedelta(minutes=minutes),
                    received_at=sent + timedelta(minutes=minutes),
                    send_id=send_id,
                    delivery_id=delivery_id,
                    url=url,
                    detail={},
                )
            )
        session.commit()


def test_history_shows_mail_sent_and_events_with_click_urls(
    signed_in: TestClient, staff_services: Services
) -> None:
    _history(staff_services, 2)
    page = signed_in.get("/admin/audience/subscriber", params={"email": "ann@example.org"}).text
    assert "Mail sent (2)" in page
    assert "Events (2)" in page
    deliveries = page.split('id="delivery-rows"')[1].split("</table>")[0]
    assert deliveries.index("issue-001") < deliveries.index("issue-000")  # newest first
    assert "A short walk after dinner" in deliveries
    assert "<td>accepted</td><td>delivered</td>" in deliveries
    events = page.split('id="event-rows"')[1].split("</table>")[0]
    assert events.index("<td>click</td>") < events.index("<td>open</td>")
    assert "https://example.org/?q=&#34;&gt;&lt;script&gt;x()&lt;/script&gt;" in events
    assert "<script>x()" not in page


def test_history_is_paginated(signed_in: TestClient, staff_services: Services) -> None:
    _history(staff_services, PAGE_SIZE + 3)
    first = signed_in.get("/admin/audience/subscriber", params={"email": "ann@example.org"}).text
    assert f"Mail sent ({PAGE_SIZE + 3})" in first
    rows = first.split('id="delivery-rows"')[1].split("</table>")[0]
    assert rows.count("<tr>") == PAGE_SIZE + 1  # with the header row
    assert "Page 1 of 2" in first
    assert 'rel="next" href="?email=ann%40example.org&amp;dpage=2&amp;epage=1"' in first
    second = signed_in.get("/admin/audience/subscriber?email=ann%40example.org&dpage=2&epage=1").text
    rows = second.split('id="delivery-rows"')[1].split("</table>")[0]
    assert rows.count("<tr>") == 3 + 1
    assert "issue-000" in rows
    assert "issue-052" not in rows
    beyond = signed_in.get("/admin/audience/subscriber?email=ann%40example.org&dpage=99&epage=x").text
    assert "Page 2 of 2" in beyond


def test_a_person_without_mail_says_so(signed_in: TestClient, staff_services: Services) -> None:
    _people(staff_services, ("ann@example.org", None))
    page = signed_in.get("/admin/audience/subscriber", params={"email": "ann@example.org"}).text
    assert "No mail sent yet." in page
    assert "No events from the mail provider." in page
