"""Staff accounts: argon2 password hashes, adding people, roles, deactivation, password resets.

Both shells use it (`newsletter users ...`, the admin pages). Every change is recorded in the audit log
in the same commit, and a change that must end someone's sessions (password, deactivation) deletes
their session rows in that commit too, so it takes effect on their very next request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.db.audit import Action, Actor, record
from newsletter.db.tables import STAFF_ROLES as STAFF_ROLES  # the shells' one way to the role names
from newsletter.db.tables import StaffSession, StaffUser
from newsletter.errors import ConfigError, NewsletterError, NotFound

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password, only here to spend the same time")


class StaffError(NewsletterError):
    """A staff account could not be added or changed."""


@dataclass(frozen=True)
class Staff:
    """A signed-in person as the shells see them (no password hash, no secrets)."""

    id: int
    email: str
    role: str
    has_totp: bool = False


@dataclass(frozen=True)
class AccountRow:
    """One account in the list of accounts."""

    id: int
    email: str
    role: str
    active: bool
    has_totp: bool
    created_at: datetime
    last_login_at: datetime | None


def normalise_address(email: str) -> str:
    """The stored form of a staff email (trimmed, lower case); StaffError if it is not an address."""
    address = email.strip().lower()
    if "@" not in address or len(address) > 320:
        raise StaffError(f"{email!r} is not an email address")
    return address


def check_role(role: str) -> str:
    """`role` if it is one of STAFF_ROLES, else a ConfigError listing them."""
    if role not in STAFF_ROLES:
        raise ConfigError(f"unknown role {role!r} (one of {', '.join(STAFF_ROLES)})")
    return role


def check_password(password: str) -> str:
    """`password` if it is long enough, else StaffError."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return password


def staff_of(user: StaffUser) -> Staff:
    """The shells' view of an account row."""
    return Staff(user.id, user.email, user.role, user.totp_secret is not None)


def find_user(session: Session, email: str) -> StaffUser:
    """The account row of `email`; NotFound otherwise."""
    user = session.scalar(select(StaffUser).where(StaffUser.email == normalise_address(email)))
    if user is None:
        raise NotFound(f"no staff account {email.strip().lower()!r} (see `newsletter users list`)")
    return user


def add_user(session: Session, email: str, role: str, password: str, *, by: Actor | None = None) -> Staff:
    """Add a staff account (or reset an existing one's password and role, ending its sessions); commits."""
    address = normalise_address(email)
    check_role(role)
    check_password(password)
    user = session.scalar(select(StaffUser).where(StaffUser.email == address))
    if user is None:
        user = StaffUser(email=address, created_at=clock.now(), active=True)
        session.add(user)
        action = Action.USER_ADD
    else:
        action = Action.USER_RESET_PASSWORD
    user.role = role
    _set_password(session, user, password)
    if by is not None:
        record(session, by, action, address, {"role": role})
    session.commit()
    return staff_of(user)


def list_users(session: Session) -> list[AccountRow]:
    """Every account, by email."""
    users = session.scalars(select(StaffUser).order_by(StaffUser.email))
    return [
        AccountRow(u.id, u.email, u.role, u.active, u.totp_secret is not None, u.created_at, u.last_login_at)
        for u in users
    ]


def set_active(session: Session, email: str, active: bool, *, by: Actor) -> Staff:
    """Deactivate (ending every session at once) or activate an account; commits."""
    user = find_user(session, email)
    if not active and by.name == user.email:
        raise StaffError("you cannot deactivate your own account")
    user.active = active
    if not active:
        end_sessions(session, user.id)
    record(session, by, Action.USER_ACTIVATE if active else Action.USER_DEACTIVATE, user.email)
    session.commit()
    return staff_of(user)


def set_role(session: Session, email: str, role: str, *, by: Actor) -> Staff:
    """Change an account's role; its open sessions see the new role on their next request; commits."""
    user = find_user(session, email)
    check_role(role)
    if by.name == user.email and role != "admin" and user.role == "admin":
        raise StaffError("you cannot take the admin role from yourself; ask another admin")
    before, user.role = user.role, role
    record(session, by, Action.USER_SET_ROLE, user.email, {"from": before, "to": role})
    session.commit()
    return staff_of(user)


def reset_password(session: Session, email: str, password: str, *, by: Actor) -> Staff:
    """Set a new password for someone (an admin, or the CLI), ending their sessions; commits."""
    user = find_user(session, email)
    _set_password(session, user, check_password(password))
    record(session, by, Action.USER_RESET_PASSWORD, user.email)
    session.commit()
    return staff_of(user)


def change_own_password(session: Session, staff_id: int, current: str, new: str, *, by: Actor) -> None:
    """Change one's own password after checking the current one; every session of the account ends."""
    user = session.get(StaffUser, staff_id)
    if user is None or not verify_password(user.password_hash, current):
        raise StaffError("the current password is not right")
    _set_password(session, user, check_password(new))
    record(session, by, Action.USER_CHANGE_PASSWORD, user.email)
    session.commit()


def get_user(session: Session, user_id: int) -> Staff | None:
    """An active account by id, else None."""
    user = session.get(StaffUser, user_id)
    if user is None or not user.active:
        return None
    return staff_of(user)


def password_matches(session: Session, email: str, password: str) -> StaffUser | None:
    """The active account whose password this is, else None (the same argon2 work either way)."""
    try:
        address = normalise_address(email)
    except StaffError:
        address = ""
    user = session.scalar(select(StaffUser).where(StaffUser.email == address)) if address else None
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def authenticate(session: Session, email: str, password: str) -> Staff | None:
    """The account for a correct email and password, else None; commits (no audit row: see staff.login)."""
    user = password_matches(session, email, password)
    if user is None:
        return None
    user.last_login_at = clock.now()
    session.commit()
    return staff_of(user)


def end_sessions(session: Session, staff_id: int) -> None:
    """Delete every session of an account (in the caller's transaction)."""
    session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches the argon2 hash (False for a malformed hash)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _set_password(session: Session, user: StaffUser, password: str) -> None:
    user.password_hash = _hasher.hash(password)
    user.password_changed_at = clock.now()
    if user.id is not None:
        end_sessions(session, user.id)
