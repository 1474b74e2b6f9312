"""Web test helpers: services over the test database, a client on 127.0.0.1, staff accounts, login."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from newsletter.config import load_settings
from newsletter.services import Services
from newsletter.staff import add_user

SECRET = "test-secret-key-not-for-production"
PASSWORD = "correct horse battery staple"
BASE_URL = "http://127.0.0.1"


def make_services(
    database_url: str, engine: Engine, sessions: sessionmaker[Session], tmp_path: Path, **settings: object
) -> Services:
    """Services over the test database with a known key and an outbox in tmp_path."""
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": SECRET,
        "transport": "outbox",
        "outbox_dir": tmp_path / "outbox",
        **settings,
    }
    return Services(settings=load_settings(**values), engine=engine, sessions=sessions)


def add_staff(services: Services, email: str, role: str) -> None:
    """A staff account with the test password."""
    with services.sessions() as session:
        add_user(session, email, role, PASSWORD)


def csrf_of(html: str) -> str:
    """The CSRF token in a page's first form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Sign `client` in through the login form."""
    page = client.get("/admin/login")
    response = client.post(
        "/admin/login", data={"csrf_token": csrf_of(page.text), "email": email, "password": password}
    )
    assert response.status_code == 303, response.text
