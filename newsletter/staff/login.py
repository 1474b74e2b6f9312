"""Signing in: password, then the second factor when the account has one; failures slowed down.

Failed attempts are audit rows (`login.failed`, with the address typed and the client's IP), and the
throttle reads them back, so it holds across processes and restarts. Past `per_account` failures for one
account (since its last successful sign-in) or `per_ip` failures from one address within the hour,
each further attempt must wait twice as long as the one before (30 s, 60 s, ... up to 15 minutes).
Successful sign-ins are never counted. A refused attempt checks nothing, does not lengthen the wait and
writes no row (it costs nothing, so logging it would let anyone fill the log).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.db.audit import Action, Actor, count_since, last_at, record
from newsletter.db.tables import StaffUser
from newsletter.staff.accounts import Staff, password_matches, staff_of
from newsletter.staff.sessions import start_session
from newsletter.staff.totp import check_second_factor

WINDOW = timedelta(hours=1)
FIRST_DELAY = 30.0
MAX_DELAY = 15 * 60.0


@dataclass(frozen=True)
class LoginLimits:
    """Failures allowed before the backoff starts: per account and per client address."""

    per_account: int = 5
    per_ip: int = 20


@dataclass(frozen=True)
class Client:
    """Where an attempt comes from."""

    ip: str
    user_agent: str = ""


@dataclass(frozen=True)
class LoginResult:
    """What an attempt came to: signed in (`token`), a code needed (`pending_id`), or refused."""

    staff: Staff | None = None
    token: str = ""
    pending_id: int | None = None
    wait_seconds: int = 0


def wait_needed(session: Session, email: str, client: Client, limits: LoginLimits) -> int:
    """Seconds to wait before `email` may try again from `client.ip` (0: go ahead)."""
    now = clock.now()
    since = now - WINDOW
    account = email.strip().lower()
    last_ok = last_at(session, Action.LOGIN, actor=account)
    account_since = max(since, last_ok) if last_ok else since
    waits = [
        _wait(session, now, count_since(session, Action.LOGIN_FAILED, account_since, actor=account),
              limits.per_account, actor=account),
        _wait(session, now, count_since(session, Action.LOGIN_FAILED, since, address=client.ip),
              limits.per_ip, address=client.ip),
    ]  # fmt: skip
    return max(waits)


def password_step(
    session: Session, email: str, password: str, client: Client, limits: LoginLimits
) -> LoginResult:
    """Check email and password (unless throttled); signs in when no second factor is set; commits."""
    account = email.strip().lower()[:320]
    actor = Actor(account or "(blank)", "staff", client.ip)
    wait = wait_needed(session, account, client, limits)
    if wait:
        return LoginResult(wait_seconds=wait)
    user = password_matches(session, account, password)
    if user is None:
        record(session, actor, Action.LOGIN_FAILED, account, {"step": "password"})
        session.commit()
        return LoginResult()
    if user.totp_secret is not None:
        session.commit()  # a rehashed password is kept
        return LoginResult(pending_id=user.id)
    return _signed_in(session, user, client, actor, "password")


def code_step(session: Session, staff_id: int, code: str, client: Client, limits: LoginLimits) -> LoginResult:
    """Check the second factor of an account whose password was right; signs in; commits."""
    user = session.get(StaffUser, staff_id)
    if user is None or not user.active or user.totp_secret is None:
        return LoginResult()
    actor = Actor(user.email, "staff", client.ip)
    wait = wait_needed(session, user.email, client, limits)
    if wait:
        return LoginResult(wait_seconds=wait, pending_id=staff_id)
    kind = check_second_factor(session, user, code)
    if kind is None:
        record(session, actor, Action.LOGIN_FAILED, user.email, {"step": "code"})
        session.commit()
        return LoginResult(pending_id=staff_id)
    if kind == "recovery":
        record(session, actor, Action.USER_RECOVERY_CODE_USED, user.email)
    return _signed_in(session, user, client, actor, kind)


def _signed_in(session: Session, user: StaffUser, client: Client, actor: Actor, how: str) -> LoginResult:
    user.last_login_at = clock.now()
    token = start_session(session, user.id, ip=client.ip, user_agent=client.user_agent)
    record(session, actor, Action.LOGIN, user.email, {"with": how})
    session.commit()
    return LoginResult(staff=staff_of(user), token=token)


def _wait(
    session: Session, now: datetime, failures: int, free: int, *, actor: str = "", address: str = ""
) -> int:
    if failures < free:
        return 0
    delay = min(FIRST_DELAY * 2.0 ** (failures - free), MAX_DELAY)
    last = last_at(session, Action.LOGIN_FAILED, actor=actor, address=address)
    if last is None:
        return 0
    return max(0, math.ceil(delay - (now - last).total_seconds()))
