"""The app's one error mapper: the same domain error is JSON for machines, the staff page under /admin,
and a friendly page in the readers' layout elsewhere (web/errors.py for every route family)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from newsletter.audience.people.lists import create_list
from newsletter.audience.people.subscribers import add_subscriber, describe_subscriber
from newsletter.audience.people.suppressions import add_suppression
from newsletter.services import Services


@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/archive/no-such-issue", 404, "Not found"),
        ("/unsubscribe/forged-token", 400, "This link is not valid"),
        ("/preferences/forged-token", 400, "This link is not valid"),
        ("/subscribe/confirm/forged-token", 400, "This link is not valid"),
    ],
)
def test_public_pages_answer_domain_errors_in_the_readers_layout(
    staff_client: TestClient, path: str, status: int, title: str
) -> None:
    response = staff_client.get(path)
    assert response.status_code == status
    assert f"<h1>{title}</h1>" in response.text
    assert '<main class="public">' in response.text


def test_machine_endpoints_answer_domain_errors_as_json(staff_client: TestClient) -> None:
    response = staff_client.post("/webhooks/sendgrid", content=b"[]")  # no webhook key configured
    assert response.status_code == 503
    assert response.json() == {"ok": False, "error": "SENDGRID_WEBHOOK_PUBLIC_KEY is not set", "status": 503}


def test_a_suppressed_address_gets_a_409_page_in_the_public_layout(
    staff_client: TestClient, staff_services: Services
) -> None:
    """Rejoining a list from the preferences page while suppressed for it (the public form says nothing)."""
    with staff_services.sessions() as session:
        daily = create_list(session, "e-Alert")
        create_list(session, "Weekly")
        add_subscriber(session, "kept@example.org", "Weekly")
        add_suppression(session, "kept@example.org", "manual", source="staff", list_id=daily.id)
        reader = describe_subscriber(session, "kept@example.org").subscriber
        assert reader is not None
        session.commit()
        token = staff_services.tokens.manage_token(reader.public_id)
    response = staff_client.post(f"/preferences/{token}", data={"list": daily.public_id})
    assert response.status_code == 409
    assert "<h1>We cannot do that</h1>" in response.text
    assert 'class="public"' in response.text
