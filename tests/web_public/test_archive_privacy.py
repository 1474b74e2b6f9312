"""Issue 14, finding 5: an issue sent to a private list, or hidden by its scheduler, is in neither the
archive, its page nor the feed."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import update
from starlette.testclient import TestClient
from support.samples import publication, rendered
from web_staff.helpers import add_staff, csrf_of, log_in

from newsletter.audience.people.lists import create_list
from newsletter.db.tables import Send
from newsletter.schedule.sends import create_send
from newsletter.services import Services

ISSUE = "2026-11-20-muscle-loss-culprit"


def test_private_and_hidden_issues_stay_out_of_the_archive_pages_and_feed(
    staff_client: TestClient, staff_services: Services
) -> None:
    with staff_services.sessions() as session:
        create_list(session, "e-Alert")
        create_list(session, "Members only", private=True)
        for slug, lists in [("open-letter", ["e-Alert"]), ("members-letter", ["Members only"])]:
            issue = replace(rendered(subject=f"Subject of {slug}"), slug=slug)
            create_send(session, issue, publication(), list_names=lists, transport="outbox")
        session.commit()
    add_staff(staff_services, "pub@example.org", "publisher")
    log_in(staff_client, "pub@example.org")
    token = csrf_of(staff_client.get("/admin/sends").text)
    form = {
        "csrf_token": token,
        "issue": ISSUE,
        "date": "2026-01-01",
        "time": "07:00",
        "timezone": "UTC",
        "list": "e-Alert",
        "hide_from_archive": "1",
    }
    assert (
        staff_client.post("/admin/sends", data=form).status_code == 303
    )  # scheduled, hidden from the archive
    with staff_services.sessions() as session:
        session.execute(update(Send).values(status="sent"))  # as the worker leaves them
        session.commit()

    index, feed = staff_client.get("/archive/").text, staff_client.get("/archive/feed.atom").text
    assert "Subject of open-letter" in index
    assert "Subject of open-letter" in feed
    for hidden in ("members-letter", ISSUE):
        assert hidden not in index
        assert hidden not in feed
        assert staff_client.get(f"/archive/{hidden}").status_code == 404
    assert staff_client.get("/archive/open-letter").status_code == 200
