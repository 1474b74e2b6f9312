"""Delivery fixtures: the recording SendGrid stand-in, aiosmtpd servers, Prism, a sleep that only records."""

from __future__ import annotations

from support.fixtures import (
    prism_url,
    sendgrid_recorder,
    smtp_server,
    smtp_starttls_server,
    smtps_server,
    tls_files,
)
from support.sleeps import sleeps

__all__ = [
    "prism_url",
    "sendgrid_recorder",
    "sleeps",
    "smtp_server",
    "smtp_starttls_server",
    "smtps_server",
    "tls_files",
]
