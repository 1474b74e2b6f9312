"""Issue 14: the admin's pages for staff accounts and the audit log; requiring a second factor for all."""

from __future__ import annotations

import re

import pyotp
from starlette.testclient import TestClient

from newsletter.db.audit import Actor
from newsletter.services import Services
from newsletter.staff import accounts, totp
from newsletter.web.app import create_app
from web_staff.helpers import BASE_URL, add_staff, csrf_of, log_in


def _change(client: TestClient, what: str, **form: str) -> str:
    token = csrf_of(client.get("/admin/users").text)
    response = client.post(f"/admin/users/{what}", data={"csrf_token": token, **form})
    assert response.status_code == 200, response.text
    return response.text


def _change_refused(client: TestClient, what: str) -> str:
    token = csrf_of(client.get("/admin/users").text)
    response = client.post(f"/admin/users/{what}", data={"csrf_token": token})
    assert response.status_code == 400
    return response.text


def test_an_admin_manages_accounts_in_the_page_and_reads_the_audit_log(
    staff_client: TestClient, staff_services: Services
) -> None:
    add_staff(staff_services, "admin@example.org", "admin")
    log_in(staff_client, "admin@example.org")
    added = _change(staff_client, "add", email="new@example.org", role="editor")
    found = re.search(r"Their password, shown only now: (\S+)</p>", added)
    assert found
    with TestClient(create_app(staff_services), base_url=BASE_URL, follow_redirects=False) as newcomer:
        log_in(newcomer, "new@example.org", found.group(1))
        assert newcomer.get("/admin/users").status_code == 403
        assert newcomer.get("/admin/audit").status_code == 403
        assert "new@example.org is now publisher." in _change(
            staff_client, "role", email="new@example.org", role="publisher"
        )
        assert newcomer.get("/admin/sends/new?issue=2026-11-20-muscle-loss-culprit").status_code == 200
        _change(staff_client, "deactivate", email="new@example.org")
        assert newcomer.get("/admin/issues").status_code == 303
    reset = _change(staff_client, "reset-password", email="new@example.org")
    assert "shown only now" in reset
    assert (
        "you cannot deactivate your own account"
        in staff_client.post(
            "/admin/users/deactivate",
            data={"csrf_token": csrf_of(staff_client.get("/admin/users").text), "email": "admin@example.org"},
        ).text
    )

    page = staff_client.get("/admin/audit?user=admin@example.org&action=user.set_role").text
    assert "<td>user.set_role</td>" in page
    assert "<td>user.deactivate</td>" not in page
    everything = staff_client.get("/admin/audit?since=2000-01-01").text
    for action in ("user.add", "user.set_role", "user.deactivate", "user.reset_password", "login"):
        assert f"<td>{action}</td>" in everything
    assert staff_client.get("/admin/audit?since=not-a-date&action=nonsense").status_code == 200


def test_when_an_admin_requires_totp_an_account_without_it_is_sent_to_set_it_up(
    staff_client: TestClient, staff_services: Services
) -> None:
    add_staff(staff_services, "admin@example.org", "admin")
    add_staff(staff_services, "ed@example.org", "editor")
    log_in(staff_client, "admin@example.org")
    assert "Set up your own second factor first" in _change_refused(staff_client, "require-totp")
    with (
        staff_services.sessions() as session
    ):  # the admin turns theirs on (the browser test does it in the page)
        staff_id = accounts.find_user(session, "admin@example.org").id
        setup = totp.begin_setup(session, staff_id)
        totp.confirm_setup(session, staff_id, pyotp.TOTP(setup.secret).now(), by=Actor("admin@example.org"))
    assert "A second factor is now required for everyone." in _change(staff_client, "require-totp")
    with TestClient(create_app(staff_services), base_url=BASE_URL, follow_redirects=False) as editor:
        log_in(editor, "ed@example.org")
        response = editor.get("/admin/issues")
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/account/totp"
        assert "An admin requires a second factor" in editor.get("/admin/account/totp").text
