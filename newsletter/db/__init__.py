"""Kernel persistence: engine and sessions, mapped tables, and the Alembic migrations."""

from newsletter.db.migrate import current_revision, upgrade
from newsletter.db.session import make_engine, make_session_factory
from newsletter.db.tables import (
    Base,
    ConsentEvidence,
    MailingList,
    Subscriber,
    Subscription,
    Suppression,
)

__all__ = [
    "Base",
    "ConsentEvidence",
    "MailingList",
    "Subscriber",
    "Subscription",
    "Suppression",
    "current_revision",
    "make_engine",
    "make_session_factory",
    "upgrade",
]
