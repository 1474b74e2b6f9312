"""The audit log: who did what, when and from where, for every staff action (append-only).

Any stage or shell records into it with `record(session, actor, action, ...)` inside the transaction of
the action itself, so an action and its audit row commit (or roll back) together. `Actor` says who: a
staff member in the web app, a person at the command line (OS user or `--by`), later an API key. Rows
are never changed or deleted (database triggers refuse it); `entries` reads them for the CLI and the
admin page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.db.tables import EMAIL_LENGTH, AuditEntry


class Action(StrEnum):
    """Every action the log knows; its value is what is stored and shown."""

    LOGIN = "login"
    LOGIN_FAILED = "login.failed"
    LOGOUT = "logout"
    SEND_SCHEDULE = "send.schedule"
    SEND_APPROVE = "send.approve"
    SEND_PAUSE = "send.pause"
    SEND_RESUME = "send.resume"
    SEND_CANCEL = "send.cancel"
    SEND_REQUEUE = "send.requeue"
    SEND_RETRY_FAILED = "send.retry_failed"
    SEND_TEST = "send.test"
    IMPORT = "audience.import"
    EXPORT = "audience.export"
    ERASE = "subscriber.erase"
    USER_ADD = "user.add"
    USER_DEACTIVATE = "user.deactivate"
    USER_ACTIVATE = "user.activate"
    USER_SET_ROLE = "user.set_role"
    USER_RESET_PASSWORD = "user.reset_password"  # noqa: S105 (an action name)
    USER_CHANGE_PASSWORD = "user.change_password"  # noqa: S105
    USER_TOTP_ENABLE = "user.totp_enable"
    USER_TOTP_RESET = "user.totp_reset"
    USER_RECOVERY_CODE_USED = "user.recovery_code_used"
    POLICY_REQUIRE_TOTP = "policy.require_totp"


ACTOR_KINDS = ("staff", "cli", "api", "system")


@dataclass(frozen=True)
class Actor:
    """Who acts: `name` (staff email, OS user or `--by`), `kind` (staff, cli, api, system), from where."""

    name: str
    kind: str = "staff"
    address: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")


def record(
    session: Session,
    actor: Actor,
    action: Action | str,
    target: str = "",
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add one audit row in the caller's transaction (committed with the action it records)."""
    entry = AuditEntry(
        occurred_at=clock.now(),
        actor=actor.name.strip().lower()[:EMAIL_LENGTH],
        actor_kind=actor.kind,
        address=actor.address[:255],
        action=str(action),
        target=target[:EMAIL_LENGTH],
        detail=dict(detail or {}),
    )
    session.add(entry)
    session.flush()
    return entry


def entries(
    session: Session,
    *,
    since: datetime | None = None,
    actor: str | None = None,
    actions: Sequence[str] = (),
    limit: int = 200,
) -> list[AuditEntry]:
    """The newest rows first, filtered by time, actor (exact, case-insensitive) and actions."""
    query = select(AuditEntry).order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc()).limit(limit)
    if since is not None:
        query = query.where(AuditEntry.occurred_at >= since)
    if actor:
        query = query.where(AuditEntry.actor == actor.replace("\x00", "").strip().lower())
    if actions:
        query = query.where(AuditEntry.action.in_(list(actions)))
    return list(session.scalars(query))


def count_since(session: Session, action: str, since: datetime, *, actor: str = "", address: str = "") -> int:
    """How many `action` rows since `since` for an actor or an address (the login throttle asks)."""
    query = select(func.count()).where(AuditEntry.action == action, AuditEntry.occurred_at > since)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if address:
        query = query.where(AuditEntry.address == address)
    return session.scalar(query) or 0


def last_at(session: Session, action: str, *, actor: str = "", address: str = "") -> datetime | None:
    """When `action` last happened for an actor or an address, or None."""
    query = select(func.max(AuditEntry.occurred_at)).where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if address:
        query = query.where(AuditEntry.address == address)
    found: datetime | None = session.scalar(query)
    return found
