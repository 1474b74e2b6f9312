"""Staff accounts for the web app: argon2 password hashes, adding people, checking a sign-in.

Both shells use it (`newsletter users add`, the staff login page); it imports only the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.db.tables import STAFF_ROLES as STAFF_ROLES  # the shells' one way to the role names
from newsletter.db.tables import StaffUser
from newsletter.errors import ConfigError, NewsletterError

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password, only here to spend the same time")


class StaffError(NewsletterError):
    """A staff account could not be added or changed."""


@dataclass(frozen=True)
class Staff:
    """A signed-in person as the web app sees them (no password hash)."""

    id: int
    email: str
    role: str


def add_user(session: Session, email: str, role: str, password: str) -> Staff:
    """Add a staff account (or reset an existing one's password and role); commits."""
    address = email.strip().lower()
    if "@" not in address:
        raise StaffError(f"{email!r} is not an email address")
    if role not in STAFF_ROLES:
        raise ConfigError(f"unknown role {role!r} (one of {', '.join(STAFF_ROLES)})")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    user = session.scalar(select(StaffUser).where(StaffUser.email == address))
    if user is None:
        user = StaffUser(email=address, created_at=clock.now(), active=True)
        session.add(user)
    user.role = role
    user.password_hash = _hasher.hash(password)
    session.commit()
    return Staff(user.id, user.email, user.role)


def authenticate(session: Session, email: str, password: str) -> Staff | None:
    """The account for a correct email and password, else None (same work either way); commits."""
    user = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = clock.now()
    session.commit()
    return Staff(user.id, user.email, user.role)


def get_user(session: Session, user_id: int) -> Staff | None:
    """An active account by id (for each signed-in request), else None."""
    user = session.get(StaffUser, user_id)
    if user is None or not user.active:
        return None
    return Staff(user.id, user.email, user.role)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
