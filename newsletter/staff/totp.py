"""The optional second factor: TOTP (RFC 6238, pyotp), its QR code (segno, drawn here), recovery codes.

Enabling is two steps: `begin_setup` makes a new secret (kept pending) and its QR code, shown once;
`confirm_setup` turns it on when a code from the app matches, and returns ten single-use recovery codes
(only their sha256 is kept: each holds 80 random bits, so a slow hash adds nothing). A code is accepted
once: the time step of the last one accepted is kept. `require_totp` is the admin's rule for everyone.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.db.audit import Action, Actor, record
from newsletter.db.session import dialect_insert
from newsletter.db.tables import StaffPolicy, StaffRecoveryCode, StaffUser
from newsletter.staff.accounts import StaffError, find_user

ISSUER = "Newsletter staff"
RECOVERY_CODES = 10
REQUIRE_TOTP = "require_totp"
STEP_SECONDS = 30


@dataclass(frozen=True)
class Setup:
    """A pending secret as the person sees it once: the text to type and the QR code (an SVG data URI)."""

    secret: str
    uri: str
    qr_svg_data_uri: str


def begin_setup(session: Session, staff_id: int) -> Setup:
    """A new pending secret for the account (replacing any earlier pending one); commits."""
    user = _user(session, staff_id)
    secret = pyotp.random_base32()
    user.totp_pending = secret
    session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return Setup(secret, uri, qr)


def confirm_setup(session: Session, staff_id: int, code: str, *, by: Actor) -> list[str]:
    """Turn the pending secret on if `code` matches it; the new recovery codes, shown once; commits."""
    user = _user(session, staff_id)
    if user.totp_pending is None:
        raise StaffError("start again: there is no code waiting to be confirmed")
    step = _matching_step(user.totp_pending, code, None)
    if step is None:
        raise StaffError("that code does not match; check the time on your phone and try the next one")
    user.totp_secret, user.totp_pending, user.totp_last_step = user.totp_pending, None, step
    codes = _new_recovery_codes(session, user.id)
    record(session, by, Action.USER_TOTP_ENABLE, user.email)
    session.commit()
    return codes


def reset_totp(session: Session, email: str, *, by: Actor) -> None:
    """Remove an account's second factor and recovery codes (a lost phone); commits."""
    user = find_user(session, email)
    user.totp_secret = user.totp_pending = user.totp_last_step = None
    session.execute(
        update(StaffRecoveryCode).where(StaffRecoveryCode.staff_id == user.id).values(used_at=clock.now())
    )
    record(session, by, Action.USER_TOTP_RESET, user.email)
    session.commit()


def check_second_factor(session: Session, user: StaffUser, code: str) -> str | None:
    """ "totp" or "recovery" when `code` is a fresh TOTP code or an unused recovery code (then used up).

    No commit: the caller commits with its audit row.
    """
    typed = "".join(code.split())
    if user.totp_secret is None or not typed or len(typed) > 64:
        return None
    if typed.isdecimal():
        step = _matching_step(user.totp_secret, typed, user.totp_last_step)
        if step is None:
            return None
        user.totp_last_step = step
        return "totp"
    used = session.execute(
        update(StaffRecoveryCode)
        .where(
            StaffRecoveryCode.staff_id == user.id,
            StaffRecoveryCode.code_hash == _code_hash(typed),
            StaffRecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return "recovery" if used.rowcount == 1 else None  # type: ignore[attr-defined]


def recovery_codes_left(session: Session, staff_id: int) -> int:
    """Unused recovery codes of an account."""
    query = select(StaffRecoveryCode.id).where(
        StaffRecoveryCode.staff_id == staff_id, StaffRecoveryCode.used_at.is_(None)
    )
    return len(session.scalars(query).all())


def totp_required(session: Session) -> bool:
    """Whether an admin requires a second factor for every account."""
    return session.scalar(select(StaffPolicy.value).where(StaffPolicy.name == REQUIRE_TOTP)) == "1"


def require_totp(session: Session, required: bool, *, by: Actor) -> None:
    """Require (or stop requiring) TOTP for every account; commits."""
    values = {
        "name": REQUIRE_TOTP,
        "value": "1" if required else "0",
        "updated_at": clock.now(),
        "updated_by": by.name,
    }
    statement = dialect_insert(session, StaffPolicy).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"], set_={k: v for k, v in values.items() if k != "name"}
        )
    )
    record(session, by, Action.POLICY_REQUIRE_TOTP, "everyone", {"required": required})
    session.commit()


def _user(session: Session, staff_id: int) -> StaffUser:
    user = session.get(StaffUser, staff_id)
    if user is None or not user.active:
        raise StaffError("this account is not active")
    return user


def _matching_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step (now, or one either side) whose code is `code`, if newer than `last_step`."""
    typed = "".join(code.split())
    if not typed.isdecimal() or len(typed) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = clock.now()
    current = int(now.timestamp()) // STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), typed):
            return step
    return None


def _new_recovery_codes(session: Session, staff_id: int) -> list[str]:
    session.execute(
        update(StaffRecoveryCode).where(StaffRecoveryCode.staff_id == staff_id).values(used_at=clock.now())
    )
    codes = [f"{secrets.token_hex(5)}-{secrets.token_hex(5)}" for _ in range(RECOVERY_CODES)]
    session.add_all(StaffRecoveryCode(staff_id=staff_id, code_hash=_code_hash(c)) for c in codes)
    return codes


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().encode("utf-8")).hexdigest()
