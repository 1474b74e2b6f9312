"""The staff report page: figures, alert line, SVG charts, local assets only, escaped text; JSON and CSV."""

from __future__ import annotations

import re

import pytest
from conftest import FrozenClock
from events.fixtures import Post
from events.helpers import event, make_send
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from newsletter.db.tables import Send


@pytest.fixture
def send_id(session: Session, frozen_clock: FrozenClock, post: Post) -> int:
    """A 200-reader send with deliveries, opens, a hostile click URL and enough complaints for an alert."""
    send_id, deliveries = make_send(
        session, [f"r{i}@{'gmail.com' if i % 3 else 'yahoo.com'}" for i in range(200)]
    )
    session.execute(
        update(Send).where(Send.id == send_id).values(subject="Walk <script>alert(1)</script> & sleep")
    )
    session.commit()
    events = [event("delivered", d) for d in deliveries]
    events += [event("open", d) for d in deliveries[:50]] + [event("spamreport", deliveries[0])]
    events += [event("click", deliveries[1], url='https://example.org/a?q="><script>x()</script>')]
    frozen_clock.advance(hours=3)
    events += [event("open", d, sg_machine_open=True) for d in deliveries[50:80]]
    assert post(events).status_code == 200
    return send_id


def test_the_page_shows_figures_alert_and_charts(staff_client: TestClient, send_id: int) -> None:
    response = staff_client.get(f"/admin/sends/{send_id}/report")
    assert response.status_code == 200
    page = response.text
    assert "ALERT: spam complaints are 0.50% of delivered mail" in page
    assert "<td>Unique opens</td><td>50</td><td>25.00%</td>" in page
    assert "<td>Unique machine opens</td><td>30</td>" in page
    assert page.count("<svg") == 4
    assert "+3h" in page
    assert "<td>gmail.com</td><td>133</td>" in page


def test_text_from_editors_and_events_is_escaped(staff_client: TestClient, send_id: int) -> None:
    page = staff_client.get(f"/admin/sends/{send_id}/report").text
    assert "<script>" not in page
    assert "Walk &lt;script&gt;alert(1)&lt;/script&gt; &amp; sleep" in page
    assert "&#34;&gt;&lt;script&gt;x()&lt;/script&gt;" in page


def test_the_page_loads_nothing_from_other_hosts(staff_client: TestClient, send_id: int) -> None:
    page = staff_client.get(f"/admin/sends/{send_id}/report").text
    references = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert references
    assert all(ref.startswith(("http://127.0.0.1/", "/")) for ref in references), references
    scripts = re.findall(r"<script[^>]*>", page)
    assert all(re.search(r'src="(http://127\.0\.0\.1)?/static/', tag) for tag in scripts), scripts
    stylesheet = next(ref for ref in references if ref.endswith(".css"))
    assert staff_client.get(stylesheet).status_code == 200


def test_json_and_csv_downloads(staff_client: TestClient, send_id: int) -> None:
    data = staff_client.get(f"/admin/sends/{send_id}/report.json").json()
    assert (data["delivered"], data["unique_opens"], data["spam_complaints"]) == (200, 50, 1)
    csv_response = staff_client.get(f"/admin/sends/{send_id}/report.csv")
    assert csv_response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="send-{send_id}-report.csv"' in csv_response.headers["content-disposition"]
    assert "totals,,delivered,200" in csv_response.text.splitlines()


def test_an_unknown_send_is_a_404_page(staff_client: TestClient) -> None:
    page = staff_client.get("/admin/sends/nope/report")
    assert page.status_code == 404
    assert "no send &#39;nope&#39;" in page.text
    assert staff_client.get("/admin/sends/404/report.json").json() == {
        "ok": False,
        "error": "no send '404' (see `newsletter sends`)",
        "status": 404,
    }


def test_the_report_lives_under_admin_with_the_staff_navigation(
    staff_client: TestClient, send_id: int
) -> None:
    page = staff_client.get(f"/admin/sends/{send_id}/report").text
    assert '<a href="/admin/sends">Sends</a>' in page
    assert f'href="/admin/sends/{send_id}/report.json"' in page  # relative: never from the Host header
    assert f'href="/admin/sends/{send_id}/report.csv"' in page
    for old in (f"/sends/{send_id}/report", f"/sends/{send_id}/report.json", f"/sends/{send_id}/report.csv"):
        assert staff_client.get(old).status_code == 404, old


def test_the_report_is_for_signed_in_staff_only(client: TestClient, send_id: int) -> None:
    for url in (
        f"/admin/sends/{send_id}/report",
        f"/admin/sends/{send_id}/report.json",
        f"/admin/sends/{send_id}/report.csv",
    ):
        response = client.get(url)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/admin/login")
