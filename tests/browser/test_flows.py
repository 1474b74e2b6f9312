"""The acceptance flows in Debian chromium against the real app on 127.0.0.1."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from support.smtp_server import SmtpServer
from support.tokens import unsubscribe_token as link_token
from web_staff.helpers import PASSWORD, add_staff

from browser.conftest import LiveApp
from newsletter.audience.people.lists import create_list
from newsletter.audience.people.subscribers import add_subscriber, describe_subscriber
from newsletter.deliver.engine.claims import worker_identity
from newsletter.deliver.engine.run import RunOptions, SendRunner

pytestmark = pytest.mark.browser
ISSUE = "2026-11-20-muscle-loss-culprit"


def _log_in(page: Any, app: LiveApp, email: str) -> None:
    page.goto(f"{app.url}/admin/issues")
    assert "/admin/login" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{app.url}/admin/issues")


def test_staff_preview_test_send_schedule_and_report(
    page: Any, live_app: LiveApp, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    services = live_app.services
    add_staff(services, "admin@example.org", "admin")
    with services.sessions() as session:
        create_list(session, "e-Alert")
        add_subscriber(session, "member@example.org", "e-Alert")
    _log_in(page, live_app, "admin@example.org")
    page.click(f"a[href='/admin/issues/{ISSUE}']")
    desktop, mobile = page.locator("#preview-desktop"), page.locator("#preview-mobile")
    assert desktop.get_attribute("width") == "800"
    assert mobile.get_attribute("width") == "375"
    page.wait_for_load_state("load")
    desktop.screenshot(path=tmp_path / "desktop.png")
    mobile.screenshot(path=tmp_path / "mobile.png")
    assert (tmp_path / "desktop.png").stat().st_size > 1000
    assert (tmp_path / "mobile.png").stat().st_size > 1000
    assert "unsubscribe" in page.locator("#preview-text").inner_text().lower()

    page.fill("input[name=to]", "tester@example.org")
    page.click("text=Send test")
    page.wait_for_selector("text=Test sent (1 accepted)")
    [test_mail] = smtp_server.messages_to("tester@example.org")
    subject = str(test_mail["Subject"])
    assert subject

    page.goto(f"{live_app.url}/admin/sends/new?issue={ISSUE}")
    page.fill("input[name=date]", "2026-01-01")
    page.fill("input[name=time]", "07:00")
    page.fill("input[name=timezone]", "America/New_York")
    page.check("input[name=list][value='e-Alert']")
    page.click("text=Continue")
    assert page.locator("#recipient-count").inner_text() == "1"
    page.click("text=Schedule the send")
    page.wait_for_url(re.compile(r"/admin/sends/\d+$"))
    send_id = int(page.url.rsplit("/", 1)[1])

    runner = SendRunner(
        services.sessions, services.ready_to_send(), services.tokens, worker_identity(), RunOptions()
    )
    assert runner.run(send_id).status == "sent"  # what the worker does when the send is due
    page.reload()
    page.wait_for_selector("#send-status:has-text('sent — 1 of 1')")
    assert smtp_server.messages_to("member@example.org")
    page.click("text=Delivery report")
    page.wait_for_load_state("load")
    assert re.search(r"/admin/sends/[\w-]+/report$", page.url), page.url
    assert subject.split()[0] in page.content()

    page.goto(f"{live_app.url}/archive/")
    page.click(f"a[href='/archive/{ISSUE}']")
    assert "member@example.org" not in page.content()


def test_reader_subscribes_confirms_changes_preferences_and_leaves_in_one_click(
    page: Any, live_app: LiveApp, smtp_server: SmtpServer
) -> None:
    services = live_app.services
    with services.sessions() as session:
        create_list(session, "e-Alert", double_opt_in=True)
        create_list(session, "Weekly")
    page.goto(f"{live_app.url}/subscribe")
    page.fill("input[name=email]", "reader@example.org")
    page.check("label:has-text('e-Alert') input")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Check your email")
    [mail] = smtp_server.messages_to("reader@example.org")
    link = re.search(r"https://e-alert\.example\.org(/subscribe/confirm/\S+)", mail.get_content())
    assert link  # on the publication's web_base_url; the test server stands in for that site
    page.goto(live_app.url + link.group(1))
    page.click("text=Yes, subscribe me")
    page.wait_for_selector("text=Subscription confirmed")

    with services.sessions() as session:
        subscriber = describe_subscriber(session, "reader@example.org").subscriber
        assert subscriber is not None
        public_id = subscriber.public_id
    page.goto(f"{live_app.url}/preferences/{services.tokens.manage_token(public_id)}")
    page.check("label:has-text('Weekly') input")
    page.click("text=Save")
    page.wait_for_selector("text=Your preferences are saved")

    token = link_token(services.tokens, public_id)
    response = page.request.post(
        f"{live_app.url}/unsubscribe/{token}",
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.ok
    assert "set-cookie" not in response.headers
    with services.sessions() as session:
        statuses = {n: s.status for n, s in describe_subscriber(session, "reader@example.org").subscriptions}
    assert statuses == {"e-Alert": "unsubscribed", "Weekly": "unsubscribed"}
