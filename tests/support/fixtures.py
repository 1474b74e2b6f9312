"""Delivery test fixtures; import them into a conftest, or `pytest_plugins = ["support.fixtures"]`."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from support.prism import Prism, PrismUnavailable
from support.sendgrid_recorder import SendGridRecorder
from support.smtp_server import SmtpServer, TlsFiles

SMTP_LOGIN = ("mailer", "s3cret pass")


@pytest.fixture
def sendgrid_recorder() -> Iterator[SendGridRecorder]:
    """A recording SendGrid stand-in on 127.0.0.1 (pass `.url` as host=); accepts by default."""
    with SendGridRecorder(api_key="SG.test") as recorder:
        yield recorder


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain aiosmtpd server on 127.0.0.1 that keeps every message (`.url()`, `.received`)."""
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1 (`.client_context()` trusts it)."""
    return TlsFiles.create(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp_starttls_server(tls_files: TlsFiles) -> Iterator[SmtpServer]:
    """aiosmtpd requiring STARTTLS and AUTH (login SMTP_LOGIN); `.url()` carries the credentials."""
    with SmtpServer(tls="starttls", tls_files=tls_files, login=SMTP_LOGIN) as server:
        yield server


@pytest.fixture
def smtps_server(tls_files: TlsFiles) -> Iterator[SmtpServer]:
    """aiosmtpd over implicit TLS (smtps://) requiring AUTH (login SMTP_LOGIN)."""
    with SmtpServer(tls="implicit", tls_files=tls_files, login=SMTP_LOGIN) as server:
        yield server


@pytest.fixture(scope="session")
def prism_url() -> Iterator[str]:
    """Base URL of Prism serving SendGrid's OpenAPI spec; skipped when unavailable, failed if CI=true."""
    prism = Prism()
    try:
        prism.start()
    except PrismUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Prism SendGrid stand-in unavailable on CI: {exc}")
        pytest.skip(str(exc))
    try:
        yield prism.url
    finally:
        prism.stop()


__all__ = [
    "SMTP_LOGIN",
    "prism_url",
    "sendgrid_recorder",
    "smtp_server",
    "smtp_starttls_server",
    "smtps_server",
    "tls_files",
]
