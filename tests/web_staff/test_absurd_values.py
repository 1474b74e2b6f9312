"""Issue 14, finding 7: no route answers 5xx to absurd path, query or form values (bad ids are 404)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from events.helpers import WebhookKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from newsletter.services import Services
from newsletter.web.app import create_app
from web_staff.helpers import BASE_URL, add_staff, csrf_of, log_in, make_services

ABSURD = [
    "99999999999999999999999",
    "-1",
    "0",
    "1e309",
    "\x00",
    "../../etc/passwd",
    "a" * 1000,
    "💥",
    "%ff",
    " ",
]
FIELDS = [
    "email",
    "list",
    "issue",
    "date",
    "time",
    "timezone",
    "to",
    "role",
    "code",
    "current",
    "new",
    "again",
    "next",
    "q",
    "since",
    "user",
    "action",
    "dpage",
    "epage",
    "limit",
    "ref",
    "token",
    "hide_from_archive",
]
SKIPPED = {"/admin/logout"}  # it works on any values and would end the session the other requests use


def _routes(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, set[str]]]:
    found: list[tuple[str, set[str]]] = []
    for route in routes:
        if isinstance(route, Route):
            found.append((prefix + route.path, set(route.methods or {"GET"}) - {"HEAD"}))
        elif isinstance(route, Mount):
            found.append((prefix + route.path + "/{path}", {"GET"}))
    return found


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", quote(value, safe="") if value != "%ff" else "%ff", path)


def test_no_route_answers_5xx_to_absurd_values(
    database_url: str, engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    key = WebhookKey()  # configured, so the webhook judges the requests instead of answering 503
    services = make_services(
        database_url, engine, session_factory, tmp_path, sendgrid_webhook_public_key=key.public_b64
    )
    staff_client = TestClient(  # 500 answers are counted instead of raised
        create_app(services), base_url=BASE_URL, follow_redirects=False, raise_server_exceptions=False
    )
    add_staff(services, "admin@example.org", "admin")
    log_in(staff_client, "admin@example.org")
    token = csrf_of(staff_client.get("/admin/users").text)
    routes = [(p, m) for p, m in _routes(list(staff_client.app.routes)) if p not in SKIPPED]  # type: ignore[attr-defined]
    assert len(routes) > 30
    failures = []
    for path, methods in routes:
        for value in ABSURD:
            url = _fill(path, value)
            query = "&".join(f"{field}={quote(value, safe='')}" for field in FIELDS)
            for method in sorted(methods):
                if method == "GET":
                    response = staff_client.get(f"{url}?{query}")
                else:
                    form = dict.fromkeys(FIELDS, value) | {"csrf_token": token}
                    response = staff_client.request(method, f"{url}?{query}", data=form)
                if response.status_code >= 500:
                    failures.append(f"{method} {url[:80]} -> {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("ref", ["99999999999999999999999", "%C2%B2", "-5", "x" * 500, "%00"])
def test_out_of_range_send_ids_are_404_on_every_send_page(
    staff_client: TestClient, staff_services: Services, ref: str
) -> None:
    add_staff(staff_services, "admin@example.org", "admin")
    log_in(staff_client, "admin@example.org")
    token = csrf_of(staff_client.get("/admin/sends").text)
    for suffix in ("", "/report", "/report.json", "/report.csv", "/progress.json"):
        assert staff_client.get(f"/admin/sends/{ref}{suffix}").status_code == 404, suffix
    assert staff_client.post(f"/admin/sends/{ref}/pause", data={"csrf_token": token}).status_code == 404
