"""Staff pages link to the report pages under /admin/, and those links work once signed in."""

from __future__ import annotations

from events.helpers import make_send
from sqlalchemy import select
from starlette.testclient import TestClient

from newsletter.db.tables import Send
from newsletter.services import Services
from web_staff.helpers import add_staff, log_in


def test_sends_list_and_send_page_link_to_the_admin_report(
    staff_client: TestClient, staff_services: Services
) -> None:
    with staff_services.sessions() as session:
        send_id, _ = make_send(session, ["ann@example.org"])
        public_id = session.scalar(select(Send.public_id).where(Send.id == send_id))
    add_staff(staff_services, "ed@example.org", "editor")
    log_in(staff_client, "ed@example.org")
    link = f'href="/admin/sends/{public_id}/report"'
    assert link in staff_client.get("/admin/sends").text
    assert link in staff_client.get(f"/admin/sends/{send_id}").text
    report = staff_client.get(f"/admin/sends/{public_id}/report")
    assert report.status_code == 200
    assert "A short walk after dinner" in report.text
    assert 'href="/sends/' not in report.text
