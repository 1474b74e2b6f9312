"""Server-side staff sessions: a random token in the cookie, its sha256 in `staff_sessions`.

A session is checked on every request: it must exist (logout, a password change or deactivation
deleted it), its account must be active (the role is read afresh, so a role change applies at once),
it must have been used within the idle timeout and be younger than the absolute timeout. Its last use
is written at most once a minute.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.db.tables import StaffSession, StaffUser
from newsletter.staff.accounts import Staff, staff_of

TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Timeouts:
    """How long a session lives without use (`idle`) and at most (`absolute`)."""

    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class SignedIn:
    """A live session: its row id and the account as it is now."""

    session_id: int
    staff: Staff


def token_hash(token: str) -> str:
    """What the table keeps of a session token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, staff_id: int, *, ip: str = "", user_agent: str = "") -> str:
    """Open a session for an account (in the caller's transaction); returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        StaffSession(
            token_hash=token_hash(token),
            staff_id=staff_id,
            created_at=now,
            last_seen_at=now,
            ip=ip[:64],
            user_agent=user_agent[:300],
        )
    )
    session.flush()
    return token


def resume_session(session: Session, token: str, timeouts: Timeouts) -> SignedIn | None:
    """The live session of `token`, its last use noted; None (and the row gone) when it has ended; commits."""
    if not token or len(token) > 100:
        return None
    found = session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.staff_id)
        .where(StaffSession.token_hash == token_hash(token))
    ).first()
    if found is None:
        return None
    row, user = found
    now = clock.now()
    expired = now - row.last_seen_at > timeouts.idle or now - row.created_at > timeouts.absolute
    if expired or not user.active:
        session.delete(row)
        session.commit()
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.commit()
    return SignedIn(row.id, staff_of(user))


def end_session(session: Session, token: str) -> int | None:
    """Delete the session of `token` (logout); returns the account id it belonged to, if any. No commit."""
    row = session.scalar(select(StaffSession).where(StaffSession.token_hash == token_hash(token)))
    if row is None:
        return None
    staff_id = row.staff_id
    session.execute(delete(StaffSession).where(StaffSession.id == row.id))
    return staff_id


def purge_expired(session: Session, timeouts: Timeouts) -> int:
    """Delete every session past its idle or absolute timeout (browsers that never came back); commits."""
    now = clock.now()
    stale = (StaffSession.last_seen_at < now - timeouts.idle) | (
        StaffSession.created_at < now - timeouts.absolute
    )
    removed = session.execute(delete(StaffSession).where(stale)).rowcount  # type: ignore[attr-defined]
    session.commit()
    return int(removed or 0)


def open_sessions(session: Session, staff_id: int) -> int:
    """How many sessions an account has open (the admin's users page shows it)."""
    return len(session.scalars(select(StaffSession.id).where(StaffSession.staff_id == staff_id)).all())
