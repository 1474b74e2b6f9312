"""Consent evidence: the append-only record of consent given or withdrawn, and how it was obtained."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.db.tables import ConsentEvidence


@dataclass(frozen=True)
class Consent:
    """How consent was obtained: method (form, import, cli, preferences...), where, and what was shown."""

    method: str
    source: str = ""
    ip: str | None = None
    user_agent: str | None = None
    text: str | None = None
    version: str | None = None


def record_consent(
    session: Session,
    *,
    subscriber_id: int,
    list_id: int | None,
    action: str,
    consent: Consent,
    at: datetime,
) -> None:
    """Append one evidence row (action: subscribe, confirm or unsubscribe); rows are never changed."""
    session.add(
        ConsentEvidence(
            subscriber_id=subscriber_id,
            list_id=list_id,
            action=action,
            method=consent.method,
            source=consent.source[:255],
            ip=consent.ip,
            user_agent=consent.user_agent,
            consent_text=consent.text,
            consent_version=consent.version,
            created_at=at,
        )
    )


def evidence_for(session: Session, subscriber_id: int) -> list[ConsentEvidence]:
    """Every evidence row for a subscriber, oldest first."""
    query = (
        select(ConsentEvidence)
        .where(ConsentEvidence.subscriber_id == subscriber_id)
        .order_by(ConsentEvidence.id)
    )
    return list(session.scalars(query))
