"""Fixtures for running sends: the recording SendGrid stand-in, aiosmtpd, worker subprocesses, sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fixtures import sendgrid_recorder, smtp_server

from .helpers import Workers, workers

__all__ = ["Sleeps", "sendgrid_recorder", "sleeps", "smtp_server", "worker_processes"]


class Sleeps(list[float]):
    """An injectable sleep that records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    """Pass as `sleep=` to the SendGrid transport; read the waits it asked for."""
    return Sleeps()


@pytest.fixture
def worker_processes(tmp_path: Path) -> Iterator[Workers]:
    """Start `newsletter worker --once` subprocesses; any still running is killed after the test."""
    with workers(tmp_path) as started:
        yield started
