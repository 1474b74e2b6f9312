"""Schedule fixtures: reading the APScheduler job store, which starts and ends each test empty."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from deliver_run.helpers import empty_job_store, stored_jobs
from sqlalchemy import Engine

Jobs = Callable[[], dict[str, float]]


@pytest.fixture
def jobs(engine: Engine) -> Iterator[Jobs]:
    """`jobs()` reads the job store (id → next run time); emptied before and after the test."""
    empty_job_store(engine)
    yield lambda: stored_jobs(engine)
    empty_job_store(engine)
