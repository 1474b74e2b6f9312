"""Shared fixtures: a migrated database on SQLite and PostgreSQL, a movable clock, a link signer.

Storage tests ask for `engine`, `session`, `session_factory` or `database_url` and run once per
backend ([sqlite] and [postgresql]). Each backend is migrated once per test session; every
table is emptied after each test (migration tests ask for `blank_engine`, a database with no
tables, per backend). PostgreSQL needs NEWSLETTER_TEST_POSTGRES_URL: without it
those tests are skipped, or fail when CI=true. Each session gets its own schema, dropped at
the end, so several people can share one database.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, delete, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from newsletter import clock
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db.migrate import upgrade
from newsletter.db.session import make_engine, make_session_factory
from newsletter.db.tables import Base

BACKENDS = ("sqlite", "postgresql")
POSTGRES_ENV = "NEWSLETTER_TEST_POSTGRES_URL"
SECRET_KEY = "test-secret-key-not-for-production"


@dataclass(frozen=True)
class MigratedDatabase:
    """One migrated test database: its backend name, URL (with the schema) and engine."""

    backend: str
    url: str
    engine: Engine


@dataclass
class FrozenClock:
    """A clock that stands still until a test moves it."""

    current: datetime = field(default_factory=lambda: datetime(2026, 11, 20, 6, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@dataclass
class RecordingSender:
    """A ConfirmationSender that keeps each confirmation instead of emailing it."""

    sent: list[dict[str, str | None]] = field(default_factory=list)

    notices: list[dict[str, str | bool | None]] = field(default_factory=list)

    def send_confirmation(self, *, to: str, name: str | None, list_name: str, confirm_url: str) -> None:
        self.sent.append({"to": to, "name": name, "list_name": list_name, "confirm_url": confirm_url})

    def send_subscribed_notice(
        self, *, to: str, name: str | None, list_name: str, manage_url: str, already: bool
    ) -> None:
        self.notices.append({"to": to, "list_name": list_name, "manage_url": manage_url, "already": already})

    @property
    def last_token(self) -> str:
        url = self.sent[-1]["confirm_url"]
        assert url is not None
        return url.rsplit("/", 1)[-1]


@pytest.fixture(autouse=True)
def _root_logger_restored() -> Iterator[None]:
    """Commands run in-process configure the root logger (newsletter.logs); each test starts as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{POSTGRES_ENV} is not set; CI must test on PostgreSQL too")
    pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1/test)")


def _with_schema(url: str, schema: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MigratedDatabase]:
    """A database migrated to head, once per backend per test session."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "newsletter.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        yield MigratedDatabase("sqlite", f"sqlite:///{path}", engine)
        engine.dispose()
        return
    with _postgres_schema("test") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            yield MigratedDatabase("postgresql", url, engine)
        finally:
            engine.dispose()


@pytest.fixture
def blank_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A database of the test's backend with nothing in it, not even migrations (for migration tests)."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/blank.db")
        yield engine
        engine.dispose()
        return
    with _postgres_schema("blank") as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def _postgres_schema(prefix: str) -> Iterator[str]:
    """A throw-away schema on the test PostgreSQL server, dropped afterwards; the URL that uses it."""
    base = _postgres_base_url()
    schema = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_schema(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _empty_tables(database: MigratedDatabase) -> None:
    present = set(inspect(database.engine).get_table_names())
    tables = [table for table in Base.metadata.sorted_tables if table.name in present]
    with database.engine.begin() as conn:
        if database.backend == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            triggers = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            ).all()
            for name, _sql in triggers:  # the audit log refuses deletes: lift that for the clean-up only
                conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
            for table in reversed(tables):
                conn.execute(delete(table))
            for _name, sql in triggers:
                conn.exec_driver_sql(sql)


@pytest.fixture
def engine(migrated_database: MigratedDatabase) -> Iterator[Engine]:
    """The migrated engine of this test's backend; every table is emptied after the test."""
    yield migrated_database.engine
    _empty_tables(migrated_database)


@pytest.fixture
def backend(migrated_database: MigratedDatabase) -> str:
    """'sqlite' or 'postgresql'."""
    return migrated_database.backend


@pytest.fixture
def database_url(migrated_database: MigratedDatabase, engine: Engine) -> str:
    """The URL of this test's migrated database (for the CLI and services.build)."""
    return migrated_database.url


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on this test's database, configured as in production."""
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session, closed after the test."""
    with session_factory() as db_session:
        yield db_session


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Point the CLI (services.build) at the test database with a known secret key."""
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", SECRET_KEY)
    monkeypatch.delenv("NEWSLETTER_CONFIG_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return database_url


@pytest.fixture
def frozen_clock() -> Iterator[FrozenClock]:
    """Stop newsletter.clock at 2026-11-20 06:00 UTC; `advance(days=8)` moves it."""
    fake = FrozenClock()
    clock.set_clock(fake.now)
    yield fake
    clock.set_clock(None)


@pytest.fixture
def signer() -> TokenSigner:
    """A link signer with a fixed test key."""
    return TokenSigner(SECRET_KEY)


@pytest.fixture
def sender() -> RecordingSender:
    """A confirmation sender that records instead of emailing."""
    return RecordingSender()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Skipped tests as one line per reason (pytest's -rs prints one per test location)."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        where = report.longrepr
        reason = where[2] if isinstance(where, tuple) else str(where)
        reasons[reason.removeprefix("Skipped: ")] += 1
    if reasons:
        terminalreporter.write_sep("=", "skipped, by reason")
        for reason, count in reasons.most_common():
            terminalreporter.write_line(f"SKIPPED {count:>4} tests: {reason}")
