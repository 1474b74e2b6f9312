"""Browser fixtures: the real app under uvicorn on 127.0.0.1, and Debian chromium through playwright.

Skipped with a reason when chromium or playwright is missing, except on CI (CI=true), where that fails.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from support.browser import chromium
from support.fixtures import smtp_server
from support.smtp_server import SmtpServer, free_port
from web_staff.helpers import make_services

from newsletter.services import Services
from newsletter.web.app import create_app

__all__ = ["browser", "live_app", "page", "smtp_server"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian chromium, per module: Playwright's sync API allows one running instance at a time."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page (no cookies)."""
    context = browser.new_context()
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()


class LiveApp:
    """The app served by uvicorn in a thread; `url` is its base URL."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(services), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveApp:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live_app(
    database_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    smtp_server: SmtpServer,
) -> Iterator[LiveApp]:
    """The app over the test database, mailing through the aiosmtpd server."""
    services = make_services(
        database_url, engine, session_factory, tmp_path, transport="smtp", smtp_url=smtp_server.url()
    )
    with LiveApp(services) as app:
        yield app
