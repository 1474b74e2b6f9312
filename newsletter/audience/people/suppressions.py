"""Suppressions: addresses (by sha256) that must not be mailed, globally or for one list, and why."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.addresses import normalise_and_hash
from newsletter.db.tables import SUPPRESSION_REASONS, Subscriber, Suppression
from newsletter.errors import AudienceError

BLOCKING_REASONS = ("erased", "spam_complaint", "hard_bounce", "manual")
"""Reasons only staff can lift; a person's own re-subscription lifts only 'unsubscribed'."""


def add_suppression(
    session: Session, address: str, reason: str, *, source: str, list_id: int | None = None
) -> bool:
    """Suppress `address` globally (or for one list); False if it already was. The caller commits."""
    email, digest = normalise_and_hash(address)
    return suppress_hash(session, digest, email, reason, source=source, list_id=list_id)


def suppress_hash(
    session: Session,
    digest: str,
    email: str | None,
    reason: str,
    *,
    source: str,
    list_id: int | None = None,
) -> bool:
    """Suppress by hash; with the address, a global blocking reason also blocklists the subscriber."""
    if reason not in SUPPRESSION_REASONS:
        raise AudienceError(f"unknown suppression reason {reason!r}; use one of {SUPPRESSION_REASONS}")
    existing = session.scalar(
        select(Suppression.id).where(
            Suppression.email_hash == digest,
            Suppression.reason == reason,
            Suppression.list_id.is_(None) if list_id is None else Suppression.list_id == list_id,
        )
    )
    if existing is not None:
        return False
    session.add(
        Suppression(
            email_hash=digest,
            email=email,
            list_id=list_id,
            reason=reason,
            source=source[:64],
            created_at=clock.now(),
        )
    )
    if list_id is None and reason in BLOCKING_REASONS and email is not None:
        session.execute(update(Subscriber).where(Subscriber.email == email).values(status="blocklisted"))
    session.flush()
    return True


def suppress_hashes(session: Session, wanted: Iterable[tuple[str, str | None, str]], *, source: str) -> int:
    """Suppress many addresses globally at once, each (hash, address or None, reason); how many were new.

    `suppress_hash` for a batch: one look-up of those already suppressed, one insert, and one update
    blocklisting the subscribers of the new blocking ones. The caller commits.
    """
    unique = {(digest, reason): email for digest, email, reason in wanted}
    if not unique:
        return 0
    unknown = {reason for _, reason in unique} - set(SUPPRESSION_REASONS)
    if unknown:
        raise AudienceError(
            f"unknown suppression reason {sorted(unknown)[0]!r}; use one of {SUPPRESSION_REASONS}"
        )
    found = session.execute(
        select(Suppression.email_hash, Suppression.reason).where(
            Suppression.email_hash.in_(sorted({digest for digest, _ in unique})),
            Suppression.list_id.is_(None),
        )
    )
    new = sorted(unique.keys() - {(digest, reason) for digest, reason in found})
    if not new:
        return 0
    now = clock.now()
    session.execute(
        insert(Suppression),
        [
            {
                "email_hash": digest,
                "email": unique[(digest, reason)],
                "list_id": None,
                "reason": reason,
                "source": source[:64],
                "created_at": now,
            }
            for digest, reason in new
        ],
    )
    blocked = sorted(
        {email for key in new if key[1] in BLOCKING_REASONS and (email := unique[key]) is not None}
    )
    if blocked:
        session.execute(update(Subscriber).where(Subscriber.email.in_(blocked)).values(status="blocklisted"))
    return len(new)


def applying(session: Session, digest: str, list_id: int | None) -> list[Suppression]:
    """Suppressions of `digest` that apply to a list (global ones, and that list's), worst first."""
    scope: ColumnElement[bool] = Suppression.list_id.is_(None)
    if list_id is not None:
        scope = or_(scope, Suppression.list_id == list_id)
    rows = session.scalars(select(Suppression).where(Suppression.email_hash == digest, scope))
    return sorted(rows, key=_severity)


def blocking(session: Session, digest: str, list_id: int | None) -> Suppression | None:
    """The worst suppression a person cannot lift by subscribing again, if any."""
    return first_blocking(applying(session, digest, list_id))


def first_blocking(rows: Iterable[Suppression]) -> Suppression | None:
    """The first of `rows` (as `applying` orders them: worst first) that only staff can lift, if any."""
    return next((row for row in rows if row.reason in BLOCKING_REASONS), None)


def lift_unsubscribed(session: Session, digest: str, list_id: int) -> None:
    """Forget 'unsubscribed' suppressions for one list and the global one (re-subscription)."""
    session.execute(
        delete(Suppression).where(
            Suppression.email_hash == digest,
            Suppression.reason == "unsubscribed",
            or_(Suppression.list_id.is_(None), Suppression.list_id == list_id),
        )
    )


def suppressions_of(session: Session, digest: str) -> list[Suppression]:
    """Every suppression of one address, oldest first."""
    query = select(Suppression).where(Suppression.email_hash == digest).order_by(Suppression.id)
    return list(session.scalars(query))


def worst(reasons: Iterable[tuple[str, bool]]) -> tuple[str, bool] | None:
    """Of (reason, is_global) pairs, the one to report: blocking before unsubscribed, global first."""
    ranked = sorted(reasons, key=lambda pair: (_rank(pair[0]), not pair[1]))
    return ranked[0] if ranked else None


def describe(reason: str, is_global: bool) -> str:
    """A short phrase for messages and reject files, e.g. 'suppressed (hard_bounce)'."""
    if reason == "unsubscribed" and not is_global:
        return "suppressed (unsubscribed from this list)"
    return f"suppressed ({reason})"


def _rank(reason: str) -> int:
    order = (*BLOCKING_REASONS, "unsubscribed")
    return order.index(reason) if reason in order else len(order)


def _severity(row: Suppression) -> tuple[int, bool, int]:
    return (_rank(row.reason), row.list_id is not None, row.id)
