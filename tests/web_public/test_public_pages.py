"""Public pages: subscribe with double opt-in, confirm, one-click unsubscribe, preferences, archive."""

from __future__ import annotations

import email
import re
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from starlette.testclient import TestClient
from support.tokens import unsubscribe_token as link_token

from newsletter.audience.people.lists import create_list
from newsletter.audience.people.subscribers import add_subscriber, describe_subscriber
from newsletter.services import Services


def _lists(services: Services) -> tuple[str, str]:
    with services.sessions() as session:
        daily = create_list(session, "e-Alert", double_opt_in=True, description="Daily health news").public_id
        weekly = create_list(session, "Weekly").public_id
    return daily, weekly


def _confirmation(services: Services) -> EmailMessage:
    files = sorted((services.settings.outbox_dir / "messages").glob("*.eml"))
    assert files, "no confirmation email was written"
    message = email.message_from_bytes(Path(files[-1]).read_bytes(), policy=default)
    assert isinstance(message, EmailMessage)
    return message


def _status(services: Services, address: str) -> dict[str, str]:
    with services.sessions() as session:
        return {name: sub.status for name, sub in describe_subscriber(session, address).subscriptions}


def test_subscribe_sends_a_confirmation_link_that_confirms_after_a_click(
    staff_client: TestClient, staff_services: Services
) -> None:
    daily, _ = _lists(staff_services)
    page = staff_client.get("/subscribe")
    assert "Daily health news" in page.text
    assert 'name="website"' in page.text
    response = staff_client.post("/subscribe", data={"email": "Reader@Example.org", "list": daily})
    assert "Check your email" in response.text
    assert _status(staff_services, "reader@example.org") == {"e-Alert": "unconfirmed"}
    message = _confirmation(staff_services)
    assert message["To"] == "reader@example.org"
    body = message.get_content()
    link = re.search(r"https://e-alert\.example\.org(/subscribe/confirm/\S+)", body)
    assert link  # on the publication's web_base_url
    path = link.group(1)
    assert "Yes, subscribe me" in staff_client.get(path).text
    assert _status(staff_services, "reader@example.org") == {"e-Alert": "unconfirmed"}  # GET changes nothing
    assert "Subscription confirmed" in staff_client.post(path).text
    assert _status(staff_services, "reader@example.org") == {"e-Alert": "active"}


def test_the_sixth_subscribe_request_in_a_minute_is_refused(
    staff_client: TestClient, staff_services: Services
) -> None:
    _, weekly = _lists(staff_services)
    codes = [
        staff_client.post("/subscribe", data={"email": f"r{i}@example.org", "list": weekly}).status_code
        for i in range(6)
    ]
    assert codes == [200] * 5 + [429]


def test_a_filled_honeypot_subscribes_nobody(staff_client: TestClient, staff_services: Services) -> None:
    _, weekly = _lists(staff_services)
    response = staff_client.post(
        "/subscribe", data={"email": "bot@example.org", "list": weekly, "website": "http://spam"}
    )
    assert response.status_code == 200
    assert not (staff_services.settings.outbox_dir / "messages").exists()
    with staff_services.sessions() as session:
        assert "bot@example.org" not in [s.email for s in session.scalars(_subscribers())]


def _subscribers():  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from newsletter.db.tables import Subscriber

    return select(Subscriber)


def _member(services: Services) -> str:
    _lists(services)
    with services.sessions() as session:
        add_subscriber(session, "member@example.org", "Weekly")
        subscriber = describe_subscriber(session, "member@example.org").subscriber
        assert subscriber is not None
        return subscriber.public_id


def test_one_click_unsubscribe_needs_no_login_and_sets_no_cookie(
    staff_client: TestClient, staff_services: Services
) -> None:
    token = link_token(staff_services.tokens, _member(staff_services))
    page = staff_client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert "Unsubscribe" in page.text
    assert _status(staff_services, "member@example.org") == {"Weekly": "active"}  # a GET never unsubscribes
    response = staff_client.post(
        f"/unsubscribe/{token}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert _status(staff_services, "member@example.org") == {"Weekly": "unsubscribed"}
    again = staff_client.post(f"/unsubscribe/{token}", content=b"List-Unsubscribe=One-Click")
    assert "already unsubscribed" in again.text


def test_a_tampered_link_gets_a_400_page(staff_client: TestClient) -> None:
    response = staff_client.get("/unsubscribe/not-a-token")
    assert response.status_code == 400
    assert "This link is not valid" in response.text
    assert staff_client.post("/unsubscribe/not-a-token").status_code == 400


def test_preferences_change_the_lists(staff_client: TestClient, staff_services: Services) -> None:
    public_id = _member(staff_services)
    token = staff_services.tokens.manage_token(public_id)
    page = staff_client.get(f"/preferences/{token}")
    assert "member@example.org" in page.text
    with staff_services.sessions() as session:
        from newsletter.audience.people.lists import get_list

        daily = get_list(session, "e-Alert").public_id
    saved = staff_client.post(f"/preferences/{token}", data={"list": daily})
    assert "Your preferences are saved" in saved.text
    assert _status(staff_services, "member@example.org") == {"e-Alert": "active", "Weekly": "unsubscribed"}


def test_the_archive_is_empty_before_anything_is_sent(staff_client: TestClient) -> None:
    assert "No issues have been sent yet" in staff_client.get("/archive/").text
    feed = staff_client.get("/archive/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert "<feed" in feed.text
    assert staff_client.get("/archive/no-such-issue").status_code == 404
