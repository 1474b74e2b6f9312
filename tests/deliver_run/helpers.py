"""Helpers for send tests: readers in bulk, a scheduled send, delivery states, worker subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker
from support import samples
from support.counts import assert_status_counts_agree

from newsletter import clock
from newsletter.audience.addresses import email_hash
from newsletter.audience.people.lists import create_list, get_list
from newsletter.db.tables import Delivery, Send, Subscriber, Subscription
from newsletter.errors import NotFound
from newsletter.schedule.sends import create_send
from newsletter.schedule.wakeups import JOB_TABLE

ROOT = Path(__file__).resolve().parents[2]
ISSUES = ROOT / "issues"
SECRET_KEY = "test-secret-key-not-for-production"


def reader_address(n: int) -> str:
    """The address of reader number `n`."""
    return f"reader{n:05d}@example.org"


def add_readers(session: Session, list_name: str, count: int, *, start: int = 1) -> list[str]:
    """`count` active members of `list_name` (created if missing), inserted in bulk; their addresses."""
    try:
        mailing_list = get_list(session, list_name)
    except NotFound:
        mailing_list = create_list(session, list_name)
    now = clock.now()
    emails = [reader_address(n) for n in range(start, start + count)]
    session.execute(
        insert(Subscriber),
        [
            {
                "email": email,
                "email_hash": email_hash(email),
                "name": f"Ann{n} Lee",
                "attributes": {"first_name": f"Ann{n}"},
                "status": "enabled",
                "created_at": now,
                "updated_at": now,
            }
            for n, email in enumerate(emails, start)
        ],
    )
    ids = session.scalars(select(Subscriber.id).where(Subscriber.email.in_(emails)))
    session.execute(
        insert(Subscription),
        [
            {
                "subscriber_id": subscriber_id,
                "list_id": mailing_list.id,
                "status": "active",
                "created_at": now,
                "subscribed_at": now,
                "updated_at": now,
            }
            for subscriber_id in ids
        ],
    )
    session.commit()
    if session.get_bind().dialect.name == "postgresql":  # as autovacuum would after a bulk load (off here)
        session.execute(text("ANALYZE subscribers, subscriptions"))
        session.commit()
    return emails


def schedule(
    sessions: sessionmaker[Session], list_name: str = "daily-brief", *, transport: str = "sendgrid"
) -> int:
    """Schedule the sample issue to `list_name` now; the send's id."""
    with sessions.begin() as session:
        send = create_send(
            session,
            samples.rendered(),
            samples.publication(),
            list_names=[list_name],
            transport=transport,
        )
        return send.id


def statuses(sessions: sessionmaker[Session], send_id: int) -> dict[str, str]:
    """Each delivery's status by address."""
    with sessions() as session:
        rows = session.execute(select(Delivery.email, Delivery.status).where(Delivery.send_id == send_id))
        return dict(rows.all())


def counts(sessions: sessionmaker[Session], send_id: int) -> dict[str, int]:
    """How many deliveries of a send are in each state; fails if the send's status counters disagree."""
    return assert_status_counts_agree(sessions, send_id)


def send_status(sessions: sessionmaker[Session], send_id: int) -> str:
    """The send's state."""
    with sessions() as session:
        return session.get_one(Send, send_id).status


def exactly_once(addresses: Iterable[str]) -> Counter[str]:
    """Addresses seen more than once (empty when none was)."""
    seen = Counter(addresses)
    return Counter({address: n for address, n in seen.items() if n > 1})


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll `condition` every 20 ms until it holds; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def cli_environment(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a `newsletter` subprocess: this test's database and only the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SENDGRID_"))}
    env.update(NEWSLETTER_DATABASE_URL=database_url, NEWSLETTER_SECRET_KEY=SECRET_KEY, **settings)
    return env


@dataclass
class Workers:
    """`newsletter worker` subprocesses started by a test; every one still running is killed at the end."""

    cwd: Path
    started: list[subprocess.Popen[str]] = field(default_factory=list)

    def start(self, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
        """Start `python -m newsletter worker --once --quiet ARGS` with `env`."""
        command = [sys.executable, "-m", "newsletter", "worker", "--once", "--quiet", *args]
        process = subprocess.Popen(
            command, env=env, cwd=self.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.started.append(process)
        return process

    def finish(self, process: subprocess.Popen[str], timeout: float = 60.0) -> str:
        """Wait for a worker to exit 0; its standard output."""
        out, err = process.communicate(timeout=timeout)
        assert process.returncode == 0, f"worker exited {process.returncode}: {err}"
        assert "Traceback" not in err, err
        return out

    def kill(self, process: subprocess.Popen[str]) -> None:
        """SIGKILL: the worker gets no chance to clean up."""
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)

    def close(self) -> None:
        """Kill whatever is still running."""
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=30)


@contextmanager
def workers(cwd: Path) -> Iterator[Workers]:
    """A Workers that always cleans up."""
    started = Workers(cwd)
    try:
        yield started
    finally:
        started.close()


def accepted_counts(worker_output: str) -> int:
    """Sum of `N accepted` over a `worker --once` output's lines."""
    total = 0
    for line in worker_output.splitlines():
        for part in line.partition("(")[2].rstrip(")").split(", "):
            number, _, outcome = part.partition(" ")
            if outcome == "accepted":
                total += int(number)
    return total


def stored_jobs(engine: Engine) -> dict[str, float]:
    """APScheduler wake-up jobs in the store: id → next run time (epoch seconds)."""
    if JOB_TABLE not in inspect(engine).get_table_names():
        return {}
    with engine.connect() as conn:
        return {row[0]: row[1] for row in conn.execute(text(f"SELECT id, next_run_time FROM {JOB_TABLE}"))}


def empty_job_store(engine: Engine) -> None:
    """Delete every stored job (the database fixtures empty only the product's own tables)."""
    if JOB_TABLE in inspect(engine).get_table_names():
        with engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {JOB_TABLE}"))


def request_recipients(body: Any) -> list[str]:
    """The `to` addresses of one mail/send request body."""
    return [to["email"] for p in body["personalizations"] for to in p["to"]]
