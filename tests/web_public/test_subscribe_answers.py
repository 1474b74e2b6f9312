"""Issue 14, finding 4: /subscribe answers the same for new, pending, subscribed and suppressed readers;
only the email differs (a confirm link, a "you are subscribed" notice, or nothing)."""

from __future__ import annotations

import email
from email.policy import default

from starlette.testclient import TestClient
from web_staff.helpers import BASE_URL

from newsletter.audience.people.lists import create_list
from newsletter.audience.people.subscribers import add_subscriber, erase_subscriber
from newsletter.services import Services
from newsletter.web.app import create_app


def _mails(services: Services) -> dict[str, list[str]]:
    """Recipient → the subjects of the emails written to the outbox for them."""
    found: dict[str, list[str]] = {}
    for path in sorted((services.settings.outbox_dir / "messages").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=default)
        found.setdefault(str(message["To"]), []).append(str(message["Subject"]))
    return found


def test_every_reader_gets_the_same_page_and_only_the_mail_differs(
    staff_client: TestClient, staff_services: Services
) -> None:
    with staff_services.sessions() as session:
        daily = create_list(session, "e-Alert", double_opt_in=True).public_id
        weekly = create_list(session, "Weekly").public_id
        add_subscriber(session, "member@example.org", "e-Alert")
        add_subscriber(session, "weekly-member@example.org", "Weekly")
        add_subscriber(session, "gone@example.org", "e-Alert")
        erase_subscriber(session, "gone@example.org")
    staff_client.post("/subscribe", data={"email": "pending@example.org", "list": daily})  # now pending

    asked = [
        ("new@example.org", daily),
        ("pending@example.org", daily),
        ("member@example.org", daily),
        ("gone@example.org", daily),
    ]
    answers = {who: staff_client.post("/subscribe", data={"email": who, "list": lst}) for who, lst in asked}
    with TestClient(create_app(staff_services), base_url=BASE_URL) as other:  # its own per-minute limit
        for who in ("weekly-new@example.org", "weekly-member@example.org"):
            answers[who] = other.post("/subscribe", data={"email": who, "list": weekly})
    first = answers["new@example.org"]
    assert first.status_code == 200
    assert "Check your email" in first.text
    for who, response in answers.items():
        assert (response.status_code, response.text) == (first.status_code, first.text), who
        assert response.headers.get("set-cookie") is None, who

    confirm = "Please confirm your subscription to e-Alert"
    assert _mails(staff_services) == {
        "pending@example.org": [confirm, confirm],
        "new@example.org": [confirm],
        "member@example.org": ["You are subscribed to e-Alert"],
        "weekly-new@example.org": ["You are subscribed to Weekly"],
        "weekly-member@example.org": ["You are subscribed to Weekly"],
    }  # the erased address is mailed nothing
