"""Issue 14, findings 2 and 8: sessions that end, login CSRF and Origin checks, the login throttle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FrozenClock
from events.helpers import make_send
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from newsletter.db.audit import Actor
from newsletter.services import Services
from newsletter.staff import accounts
from newsletter.staff.sessions import open_sessions
from newsletter.web.app import create_app
from web_staff.helpers import BASE_URL, PASSWORD, add_staff, csrf_of, log_in, make_services

ADMIN = Actor("admin@example.org", "staff", "127.0.0.1")


def _other_client(services: Services, cookie: str | None = None) -> TestClient:
    client = TestClient(create_app(services), base_url=BASE_URL, follow_redirects=False)
    if cookie is not None:
        client.cookies.set("newsletter_staff", cookie)
    return client


def _a_send(services: Services) -> int:
    with services.sessions() as session:
        send_id, _ = make_send(session, [], status="pending")
        session.commit()
    return send_id


def test_a_cookie_copied_before_logout_reads_and_changes_nothing_after_it(
    staff_client: TestClient, staff_services: Services
) -> None:
    send_id = _a_send(staff_services)
    add_staff(staff_services, "pub@example.org", "publisher")
    log_in(staff_client, "pub@example.org")
    copied = staff_client.cookies["newsletter_staff"]
    token = csrf_of(staff_client.get(f"/admin/sends/{send_id}").text)
    assert staff_client.post("/admin/logout", data={"csrf_token": token}).status_code == 303

    with _other_client(staff_services, copied) as thief:
        assert thief.get("/admin/sends").status_code == 303  # to the login page
        assert thief.get("/admin/sends").headers["location"].startswith("/admin/login")
        assert thief.post(f"/admin/sends/{send_id}/pause", data={"csrf_token": token}).status_code == 303


@pytest.mark.parametrize("change", ["users add again", "reset-password", "deactivate", "own password"])
def test_a_password_change_or_deactivation_ends_open_sessions_at_once(
    staff_client: TestClient, staff_services: Services, change: str
) -> None:
    add_staff(staff_services, "ed@example.org", "editor")
    log_in(staff_client, "ed@example.org")
    assert staff_client.get("/admin/issues").status_code == 200
    with staff_services.sessions() as session:
        if change == "users add again":
            accounts.add_user(session, "ed@example.org", "editor", "a brand new password")
        elif change == "reset-password":
            accounts.reset_password(session, "ed@example.org", "a brand new password", by=ADMIN)
        elif change == "deactivate":
            accounts.set_active(session, "ed@example.org", False, by=ADMIN)
    if change == "own password":
        token = csrf_of(staff_client.get("/admin/account").text)
        form = {
            "csrf_token": token,
            "current": PASSWORD,
            "new": "a brand new password",
            "again": "a brand new password",
        }
        assert staff_client.post("/admin/account/password", data=form).headers["location"] == "/admin/login"
    assert staff_client.get("/admin/issues").status_code == 303


def test_a_role_change_applies_to_open_sessions_at_once(
    staff_client: TestClient, staff_services: Services
) -> None:
    add_staff(staff_services, "ed@example.org", "editor")
    log_in(staff_client, "ed@example.org")
    schedule_page = "/admin/sends/new?issue=2026-11-20-muscle-loss-culprit"
    assert staff_client.get(schedule_page).status_code == 403
    with staff_services.sessions() as session:
        accounts.set_role(session, "ed@example.org", "publisher", by=ADMIN)
    assert staff_client.get(schedule_page).status_code == 200
    with staff_services.sessions() as session:
        accounts.set_role(session, "ed@example.org", "editor", by=ADMIN)
    assert staff_client.get(schedule_page).status_code == 403


def test_sessions_end_after_the_idle_and_the_absolute_timeout(
    staff_client: TestClient, staff_services: Services, frozen_clock: FrozenClock
) -> None:
    add_staff(staff_services, "ed@example.org", "editor")
    log_in(staff_client, "ed@example.org")
    frozen_clock.advance(minutes=59)
    assert staff_client.get("/admin/issues").status_code == 200  # used: the idle clock starts again
    frozen_clock.advance(minutes=61)
    assert staff_client.get("/admin/issues").status_code == 303

    log_in(staff_client, "ed@example.org")
    for _ in range(15):  # busy all day: used every 50 minutes, past the 12 hours
        frozen_clock.advance(minutes=50)
        last = staff_client.get("/admin/issues").status_code
    assert last == 303


def test_the_session_cookie_is_httponly_lax_and_secure_on_https(staff_services: Services) -> None:
    add_staff(staff_services, "ed@example.org", "editor")
    with TestClient(
        create_app(staff_services), base_url="https://e-alert.example.org", follow_redirects=False
    ) as client:
        page = client.get("/admin/login")
        response = client.post(
            "/admin/login",
            data={"csrf_token": csrf_of(page.text), "email": "ed@example.org", "password": PASSWORD},
        )
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("newsletter_staff="))
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "secure" in cookie.lower()


def test_a_login_form_token_works_only_with_its_own_browser_cookie_and_origin(
    staff_client: TestClient, staff_services: Services
) -> None:
    add_staff(staff_services, "ed@example.org", "editor")
    attacker_token = csrf_of(staff_client.get("/admin/login").text)  # the attacker's own browser
    form = {"csrf_token": attacker_token, "email": "ed@example.org", "password": PASSWORD}
    with _other_client(staff_services) as victim:  # no login cookie of its own: the token is foreign
        assert victim.post("/admin/login", data=form).status_code == 403
        victim.get("/admin/login")  # now with its own pre-session cookie, still not this token
        assert victim.post("/admin/login", data=form).status_code == 403
    evil = {"Origin": "https://attacker.example"}
    assert staff_client.post("/admin/login", data=form, headers=evil).status_code == 403
    assert staff_client.post("/admin/login", data=form, headers={"Origin": BASE_URL}).status_code == 303
    proxied = {"Origin": "https://e-alert.example.org"}  # a proxy in front passing its own Host on
    token = csrf_of(staff_client.get("/admin/issues").text)
    assert staff_client.post("/admin/logout", data={"csrf_token": token}, headers=proxied).status_code == 303
    staff_client.post(
        "/admin/login", data=form | {"csrf_token": csrf_of(staff_client.get("/admin/login").text)}
    )
    token = csrf_of(staff_client.get("/admin/issues").text)
    assert staff_client.post("/admin/logout", data={"csrf_token": token}, headers=evil).status_code == 403


def _attempt(client: TestClient, email: str, password: str) -> int:
    token = csrf_of(client.get("/admin/login").text)
    return client.post(
        "/admin/login", data={"csrf_token": token, "email": email, "password": password}
    ).status_code


@pytest.fixture
def tight(
    database_url: str, engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path
) -> Iterator[tuple[TestClient, Services]]:
    """A client of an app allowing 2 failures per account, 4 per address (small: argon2 is slow)."""
    services = make_services(
        database_url, engine, session_factory, tmp_path, login_failures_per_account=2, login_failures_per_ip=4
    )
    with TestClient(create_app(services), base_url=BASE_URL, follow_redirects=False) as client:
        yield client, services


def test_failures_are_limited_per_account_with_a_doubling_wait_and_successes_never_count(
    tight: tuple[TestClient, Services], frozen_clock: FrozenClock
) -> None:
    client, services = tight
    add_staff(services, "ed@example.org", "editor")
    add_staff(services, "pub@example.org", "publisher")
    for _ in range(6):  # more successes from one address than failures allowed: never counted
        assert _attempt(client, "pub@example.org", PASSWORD) == 303
    assert [_attempt(client, "ed@example.org", "wrong guess!") for _ in range(2)] == [400] * 2
    token = csrf_of(client.get("/admin/login").text)
    refused = client.post(
        "/admin/login", data={"csrf_token": token, "email": "ed@example.org", "password": PASSWORD}
    )
    assert refused.status_code == 429  # even the right password waits: it is not checked
    assert refused.headers["retry-after"] == "30"
    assert _attempt(client, "pub@example.org", PASSWORD) == 303  # another account is not held up
    frozen_clock.advance(seconds=31)
    assert _attempt(client, "ed@example.org", "wrong again!") == 400
    assert _attempt(client, "ed@example.org", PASSWORD) == 429  # the wait doubled: 60 s
    frozen_clock.advance(seconds=61)
    assert _attempt(client, "ed@example.org", PASSWORD) == 303  # and a success starts afresh
    assert _attempt(client, "ed@example.org", "one slip") == 400


def test_failures_from_one_address_across_accounts_are_limited_per_ip(
    tight: tuple[TestClient, Services],
) -> None:
    client, services = tight
    add_staff(services, "ed@example.org", "editor")
    statuses = [_attempt(client, f"guess{i}@example.org", "password guess") for i in range(5)]
    assert statuses == [400] * 4 + [429]
    assert _attempt(client, "ed@example.org", PASSWORD) == 429


def test_sessions_of_browsers_that_never_came_back_are_removed_at_the_next_login(
    staff_client: TestClient, staff_services: Services, frozen_clock: FrozenClock
) -> None:
    add_staff(staff_services, "ed@example.org", "editor")
    add_staff(staff_services, "pub@example.org", "publisher")
    log_in(staff_client, "ed@example.org")
    frozen_clock.advance(hours=2)
    with _other_client(staff_services) as other:
        log_in(other, "pub@example.org")
    with staff_services.sessions() as session:
        assert open_sessions(session, accounts.find_user(session, "ed@example.org").id) == 0
        assert open_sessions(session, accounts.find_user(session, "pub@example.org").id) == 1
