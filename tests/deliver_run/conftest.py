"""Fixtures for running sends: the recording SendGrid stand-in, aiosmtpd, worker subprocesses, sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fixtures import prism_url, sendgrid_recorder, smtp_server
from support.sleeps import sleeps

from .helpers import Workers, workers

__all__ = ["prism_url", "sendgrid_recorder", "sleeps", "smtp_server", "worker_processes"]


@pytest.fixture
def worker_processes(tmp_path: Path) -> Iterator[Workers]:
    """Start `newsletter worker --once` subprocesses; any still running is killed after the test."""
    with workers(tmp_path) as started:
        yield started
