"""Staff sign-in: redirects to login, cookies, CSRF, roles, the `users add` command."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from newsletter.cli import main
from newsletter.services import Services
from newsletter.web.app import create_app
from web_staff.helpers import PASSWORD, add_staff, csrf_of, log_in

STAFF_URLS = [
    "/admin/",
    "/admin/issues",
    "/admin/issues/2026-11-20-muscle-loss-culprit",
    "/admin/issues/2026-11-20-muscle-loss-culprit/preview.html",
    "/admin/sends",
    "/admin/sends/new?issue=2026-11-20-muscle-loss-culprit",
    "/admin/sends/1",
    "/admin/sends/1/progress.json",
    "/admin/audience",
    "/admin/audience/search?q=a",
    "/admin/audience/subscriber?email=a@example.org",
    "/admin/audience/import",
    "/admin/sends/1/report",
    "/admin/sends/1/report.json",
    "/admin/sends/1/report.csv",
    "/admin/account",
    "/admin/account/totp",
    "/admin/users",
    "/admin/audit",
]


@pytest.mark.parametrize("url", STAFF_URLS)
def test_every_staff_url_redirects_to_login_without_a_session(staff_client: TestClient, url: str) -> None:
    response = staff_client.get(url)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=")


def test_login_sets_a_protected_cookie_and_returns_to_the_page_asked_for(
    staff_client: TestClient, staff_services: Services
) -> None:
    add_staff(staff_services, "ed@example.org", "editor")
    page = staff_client.get("/admin/login?next=/admin/sends")
    response = staff_client.post(
        "/admin/login",
        data={
            "csrf_token": csrf_of(page.text),
            "email": "ED@example.org",
            "password": PASSWORD,
            "next": "/admin/sends",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/sends"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http on 127.0.0.1 only
    assert staff_client.get("/admin/sends").status_code == 200


def test_cookies_are_secure_on_any_other_host(staff_services: Services) -> None:
    add_staff(staff_services, "ed@example.org", "editor")
    with TestClient(
        create_app(staff_services), base_url="https://e-alert.example.org", follow_redirects=False
    ) as client:
        page = client.get("/admin/login")
        response = client.post(
            "/admin/login",
            data={"csrf_token": csrf_of(page.text), "email": "ed@example.org", "password": PASSWORD},
        )
    assert "secure" in response.headers["set-cookie"].lower()


def test_a_wrong_password_is_refused_and_logins_are_rate_limited(
    staff_client: TestClient, staff_services: Services
) -> None:
    add_staff(staff_services, "ed@example.org", "editor")
    token = csrf_of(staff_client.get("/admin/login").text)
    statuses = [
        staff_client.post(
            "/admin/login",
            data={"csrf_token": token, "email": "ed@example.org", "password": "wrong password!"},
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [400] * 5 + [429]  # five failures per account, then a wait (see test_sessions.py)
    assert "newsletter_staff" not in staff_client.cookies


def test_a_login_form_without_its_token_is_refused(
    staff_client: TestClient, staff_services: Services
) -> None:
    add_staff(staff_services, "ed@example.org", "editor")
    response = staff_client.post("/admin/login", data={"email": "ed@example.org", "password": PASSWORD})
    assert response.status_code == 403


def test_a_staff_form_posted_without_its_csrf_token_is_refused(
    staff_client: TestClient, staff_services: Services
) -> None:
    add_staff(staff_services, "pub@example.org", "publisher")
    log_in(staff_client, "pub@example.org")
    response = staff_client.post("/admin/logout", data={})
    assert response.status_code == 403
    assert staff_client.get("/admin/sends").status_code == 200  # still signed in
    token = csrf_of(staff_client.get("/admin/sends").text)
    assert staff_client.post("/admin/logout", data={"csrf_token": token}).status_code == 303


def test_an_editor_cannot_schedule(staff_client: TestClient, staff_services: Services) -> None:
    add_staff(staff_services, "ed@example.org", "editor")
    log_in(staff_client, "ed@example.org")
    token = csrf_of(staff_client.get("/admin/issues").text)
    assert staff_client.get("/admin/sends/new?issue=2026-11-20-muscle-loss-culprit").status_code == 403
    data = {"csrf_token": token, "issue": "2026-11-20-muscle-loss-culprit", "date": "2026-12-01",
            "time": "07:00", "timezone": "UTC", "list": "e-Alert"}  # fmt: skip
    assert staff_client.post("/admin/sends/confirm", data=data).status_code == 403
    assert staff_client.post("/admin/sends", data=data).status_code == 403


def test_users_add_reads_the_password_from_stdin(cli_env: str, staff_client: TestClient) -> None:
    result = CliRunner().invoke(
        main,
        ["users", "add", "ops@example.org", "--role", "operations", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "ops@example.org: operations" in result.output
    assert PASSWORD not in result.output
    log_in(staff_client, "ops@example.org")


def test_users_add_refuses_a_short_password(cli_env: str) -> None:
    result = CliRunner().invoke(
        main, ["users", "add", "ops@example.org", "--role", "admin", "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
