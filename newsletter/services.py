"""Composition root: builds the engine, sessions, token signer and the chosen transport from Settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from newsletter.audience.readers.tokens import TokenSigner
from newsletter.config import Settings, load_settings
from newsletter.db.revisions import schema_problem
from newsletter.db.session import describe_url, make_engine, make_session_factory
from newsletter.errors import ConfigError

if TYPE_CHECKING:
    from newsletter.deliver.transports.base import Transport


@dataclass(frozen=True)
class Services:
    """Everything a shell needs; use as a context manager so the engine is closed."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    @cached_property
    def tokens(self) -> TokenSigner:
        """The link signer; built on first use, so commands that sign nothing need no secret key."""
        return TokenSigner(self.settings.require_secret_key())

    def transport(self, name: str | None = None) -> Transport:
        """A new transport: `name` (outbox, smtp, sendgrid) or the configured NEWSLETTER_TRANSPORT."""
        return make_transport(self.settings, name or self.settings.transport)

    def check_database(self) -> None:
        """ConfigError naming NEWSLETTER_DATABASE_URL when the database is unreachable, not migrated, or
        migrated by a newer version: the one sentence every command and the web app's start say."""
        problem = self.database_problem()
        if problem is not None:
            raise ConfigError(problem)

    def database_problem(self) -> str | None:
        """The sentence check_database raises, or None when the database is ready (for /readyz too)."""
        where = describe_url(self.settings.database_url)
        try:
            problem = schema_problem(self.engine)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            return f"NEWSLETTER_DATABASE_URL: cannot use {where}: {reason}"
        return None if problem is None else f"NEWSLETTER_DATABASE_URL: {where} {problem}"

    def ready_to_send(self, transport_name: str | None = None) -> Transport:
        """Check everything sending needs before it starts (database, signing key, transport settings)."""
        self.check_database()
        _ = self.tokens
        return self.transport(transport_name)

    def close(self) -> None:
        """Close the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Services:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def build(settings: Settings | None = None) -> Services:
    """Wire the services for `settings` (read from the environment when None)."""
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    return Services(settings=settings, engine=engine, sessions=make_session_factory(engine))


@contextmanager
def ready(settings: Settings | None = None) -> Iterator[Services]:
    """Services whose database is reachable and migrated (else a one-line ConfigError), closed after."""
    with build(settings) as services:
        services.check_database()
        yield services


def make_transport(settings: Settings, name: str) -> Transport:
    """The one place choosing outbox, SMTP or SendGrid; a missing setting is a ConfigError.

    Each transport is imported here, when chosen, so commands that send nothing do not load the SendGrid
    library, cryptography or the render stage.
    """
    if name == "outbox":
        from newsletter.deliver.transports.outbox import OutboxTransport

        return OutboxTransport(settings.outbox_dir)
    if name == "smtp":
        if not settings.smtp_url:
            raise ConfigError("NEWSLETTER_SMTP_URL is required when NEWSLETTER_TRANSPORT=smtp")
        from newsletter.deliver.transports.smtp import SmtpTransport

        return SmtpTransport.from_url(settings.smtp_url)
    if name == "sendgrid":
        if settings.sendgrid_api_key is None:
            raise ConfigError("SENDGRID_API_KEY is required when NEWSLETTER_TRANSPORT=sendgrid")
        from newsletter.deliver.transports.sendgrid import SendGridTransport

        return SendGridTransport(settings.sendgrid_api_key.get_secret_value(), host=settings.sendgrid_host)
    raise ConfigError(f"NEWSLETTER_TRANSPORT: unknown transport {name!r} (outbox, smtp or sendgrid)")
