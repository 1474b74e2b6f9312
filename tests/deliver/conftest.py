"""Delivery fixtures: the recording SendGrid stand-in, aiosmtpd servers, Prism, a sleep that only records."""

from __future__ import annotations

import pytest
from support.fixtures import (
    prism_url,
    sendgrid_recorder,
    smtp_server,
    smtp_starttls_server,
    smtps_server,
    tls_files,
)

__all__ = [
    "prism_url",
    "sendgrid_recorder",
    "sleeps",
    "smtp_server",
    "smtp_starttls_server",
    "smtps_server",
    "tls_files",
]


class Sleeps(list[float]):
    """An injectable sleep that records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    """Pass as `sleep=` to the SendGrid transport; read the waits it asked for."""
    return Sleeps()
