"""Web app fixtures: services with a secret key, and a test client on 127.0.0.1 (web_staff, web_public)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from newsletter.services import Services
from newsletter.web.app import create_app
from web_staff.helpers import BASE_URL, make_services


@pytest.fixture
def staff_services(
    database_url: str, engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path
) -> Services:
    """Services over the test database (outbox transport in tmp_path)."""
    return make_services(database_url, engine, session_factory, tmp_path)


@pytest.fixture
def staff_client(staff_services: Services) -> Iterator[TestClient]:
    """A client of the whole app on http://127.0.0.1 that does not follow redirects."""
    with TestClient(create_app(staff_services), base_url=BASE_URL, follow_redirects=False) as client:
        yield client


__all__ = ["staff_client", "staff_services"]
