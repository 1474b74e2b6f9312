"""Issue 14, finding 8: a test send goes to at most NEWSLETTER_TEST_SEND_MAX_RECIPIENTS addresses (20)."""

from __future__ import annotations

from starlette.testclient import TestClient

from newsletter.services import Services
from web_staff.helpers import add_staff, csrf_of, log_in

ISSUE = "2026-11-20-muscle-loss-culprit"


def test_an_editor_cannot_test_send_to_more_than_twenty_addresses(
    staff_client: TestClient, staff_services: Services
) -> None:
    add_staff(staff_services, "ed@example.org", "editor")
    log_in(staff_client, "ed@example.org")
    token = csrf_of(staff_client.get("/admin/issues").text)
    many = ",".join(f"victim{i}@example.org" for i in range(21))
    refused = staff_client.post(f"/admin/issues/{ISSUE}/test", data={"csrf_token": token, "to": many})
    assert refused.status_code == 400
    assert "at most 20 addresses (NEWSLETTER_TEST_SEND_MAX_RECIPIENTS); 21 were given" in refused.text
    assert not (staff_services.settings.outbox_dir).exists()  # nobody was mailed
    twenty = ",".join(f"tester{i}@example.org" for i in range(20))
    sent = staff_client.post(f"/admin/issues/{ISSUE}/test", data={"csrf_token": token, "to": twenty})
    assert sent.headers["location"].endswith("?tested=20")
