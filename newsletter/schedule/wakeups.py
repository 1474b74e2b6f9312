"""APScheduler wake-ups: a date job per scheduled send in the SQLAlchemy job store wakes the worker on time.

APScheduler is never the record of what was sent (the deliveries table is); a lost or duplicate wake-up is
harmless because the worker also polls, and runs are idempotent. Settings, chosen on purpose:
coalesce=True (many missed runs of one job collapse into one), max_instances=1, and misfire_grace_time=None
(a send whose time passed while no worker ran still goes out as soon as one starts, never silently dropped).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import TypeVar

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

from newsletter.db.tables import Send

WAKE_FUNCTION = "newsletter.worker:wake"
JOB_TABLE = "apscheduler_jobs"
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
S = TypeVar("S", bound=BaseScheduler)


def make_scheduler(engine: Engine) -> BackgroundScheduler:
    """A scheduler over the shared job store in the product's database (UTC); start it with `started`."""
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
        job_defaults=JOB_DEFAULTS,
        timezone=UTC,
    )


def started(make: Callable[[], S], *, paused: bool = False) -> S:
    """A scheduler from `make()`, started. Starting creates the job table when missing; two processes
    starting at once (two `newsletter send` calls) may both try, and the second's CREATE TABLE then
    fails: the table exists by then, so a fresh scheduler is started once more."""
    for attempt in (1, 2, 3):
        scheduler = make()
        try:
            scheduler.start(paused=paused)
        except (OperationalError, ProgrammingError, IntegrityError) as exc:
            if attempt == 3 or not _created_meanwhile(exc):
                raise
            continue
        return scheduler
    raise AssertionError("unreachable")


def _created_meanwhile(error: Exception) -> bool:
    """The job table (or its type, on PostgreSQL) was created by another process meanwhile."""
    text = str(error).lower()
    return "already exists" in text or "pg_type_typname_nsp_index" in text


class _StoreOnlyScheduler(BaseScheduler):  # type: ignore[misc]
    """Writes jobs to the store and never runs any: no thread, so nothing is processed on shutdown.

    (A paused BackgroundScheduler is not enough: its loop wakes on shutdown and processes every due
    job in the store once, against executors already shut down, logging tracebacks and leaving them.)
    """

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        """Nothing to wake: this scheduler never processes jobs."""


def add_wakeup(engine: Engine, send: Send) -> None:
    """Store a job that wakes the worker at the send's time (replacing an earlier one for the send)."""
    # The job store's own engine: shutting the store down disposes its engine, which must not be the
    # caller's (a session of it may still hold a connection).
    store_engine = create_engine(engine.url, poolclass=NullPool)
    scheduler = started(
        lambda: _StoreOnlyScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=store_engine, tablename=JOB_TABLE)},
            job_defaults=JOB_DEFAULTS,
            timezone=UTC,
        ),
        paused=True,
    )
    try:
        scheduler.add_job(
            WAKE_FUNCTION,
            "date",
            run_date=send.scheduled_at,
            id=f"send-{send.id}",
            args=[send.id],
            replace_existing=True,
        )
    finally:
        scheduler.shutdown(wait=False)
