"""Issue 14, finding 8: subscribers' IP addresses, user agents and attributes are for operations and admin."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from newsletter.audience.people.lists import create_list
from newsletter.db.tables import Subscriber
from newsletter.services import Services
from web_staff.helpers import add_staff, log_in

AGENT = "Mozilla/5.0 (Reader's own tablet)"


@pytest.mark.parametrize(
    ("role", "sees"), [("editor", False), ("publisher", False), ("operations", True), ("admin", True)]
)
def test_only_operations_and_admin_see_ip_user_agent_and_attributes(
    staff_client: TestClient, staff_services: Services, role: str, sees: bool
) -> None:
    with staff_services.sessions() as session:
        weekly = create_list(session, "Weekly").public_id
    form = {"email": "reader@example.org", "list": weekly}
    staff_client.post("/subscribe", data=form, headers={"User-Agent": AGENT})
    with staff_services.sessions() as session:
        person = session.scalars(select(Subscriber)).one()
        person.attributes = {"postcode": "19958-0001"}
        session.commit()
    add_staff(staff_services, f"{role}@example.org", role)
    log_in(staff_client, f"{role}@example.org")
    page = staff_client.get("/admin/audience/subscriber?email=reader@example.org").text
    assert "reader@example.org" in page
    for private in (
        "testclient",
        "Reader&#39;s own tablet",
        "19958-0001",
    ):  # the client's IP, agent, attribute
        assert (private in page) is sees, private
