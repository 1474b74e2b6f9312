"""Webhook fixtures: a signing key, the web app over the test database, a signed poster."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx2 as httpx
import pytest
from conftest import SECRET_KEY
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from web_staff.helpers import BASE_URL, PASSWORD, log_in

from events.helpers import WebhookKey, body_of
from newsletter.config import load_settings
from newsletter.services import Services
from newsletter.staff import add_user
from newsletter.web.app import create_app

Post = Callable[..., httpx.Response]


@pytest.fixture(scope="session")
def webhook_key() -> WebhookKey:
    """A P-256 key generated for this test run; its public half is the configured webhook key."""
    return WebhookKey()


@pytest.fixture
def web_services(
    database_url: str, engine: Engine, session_factory: sessionmaker[Session], webhook_key: WebhookKey
) -> Services:
    """Services over the test database, with SENDGRID_WEBHOOK_PUBLIC_KEY set to the test key."""
    settings = load_settings(
        database_url=database_url, sendgrid_webhook_public_key=webhook_key.public_b64, secret_key=SECRET_KEY
    )
    return Services(settings=settings, engine=engine, sessions=session_factory)


@pytest.fixture
def client(web_services: Services) -> Iterator[TestClient]:
    """A test client of the web app on http://127.0.0.1 (staff cookies are Secure anywhere else)."""
    with TestClient(create_app(web_services), base_url=BASE_URL, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def staff_client(client: TestClient, web_services: Services) -> TestClient:
    """The client, signed in through the login form as an operations staff member."""
    with web_services.sessions() as session:
        add_user(session, "ops@northwind-health.example", "operations", PASSWORD)
    log_in(client, "ops@northwind-health.example")
    return client


@pytest.fixture
def post(client: TestClient, webhook_key: WebhookKey) -> Post:
    """post(events) → response: the events as one body signed now with the test key."""

    def send(events: Sequence[dict[str, Any]], **kwargs: Any) -> httpx.Response:
        body = body_of(events)
        return client.post("/webhooks/sendgrid", content=body, headers=webhook_key.headers(body), **kwargs)

    return send


__all__ = ["Post", "client", "post", "staff_client", "web_services", "webhook_key"]
