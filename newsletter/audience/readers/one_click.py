"""RFC 8058 one-click unsubscribe on a lean path: a few Core statements on the session's connection.

Mail clients POST `List-Unsubscribe=One-Click` for whoever presses Unsubscribe, so this public write must stay
cheap: the effect of `membership.leave` without ORM objects, five statements and one commit. When the token
names its delivery and something changed, `on_unsubscribed(session, delivery_id)` runs before that commit.
The first write opens the transaction, so SQLite's write lock is taken by the UPDATE (busy timeout applies).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db.tables import ConsentEvidence, MailingList, Subscriber, Subscription, Suppression

SOURCE = "one-click"

OnUnsubscribed = Callable[[Session, int], object]
"""Called as (session, delivery_id) when a link naming its delivery unsubscribed someone (not a replay)."""


@dataclass(frozen=True)
class UnsubscribeResult:
    """What an unsubscribe did: `already` is True when nothing was left to do (a replay)."""

    already: bool
    lists: tuple[str, ...]

    @property
    def message(self) -> str:
        """The sentence to show the reader."""
        scope = ", ".join(self.lists) if self.lists else "all our emails"
        if self.already:
            return f"You were already unsubscribed from {scope}."
        return f"You are unsubscribed from {scope}."


def one_click_unsubscribe(
    session: Session, signer: TokenSigner, token: str, *, on_unsubscribed: OnUnsubscribed | None = None
) -> UnsubscribeResult:
    """RFC 8058: what the web layer calls for a POST with List-Unsubscribe=One-Click (never a GET)."""
    subscriber_public_id, list_public_ids, delivery_id = signer.read_unsubscribe_link(token)
    connection = session.connection()
    lists = _lists(connection, list_public_ids)
    names = tuple(name for _, name in lists)
    person = connection.execute(_PERSON, {"public_id": subscriber_public_id}).first()
    if person is None or (list_public_ids and not lists):
        session.rollback()
        return UnsubscribeResult(already=True, lists=names)
    list_ids = [list_id for list_id, _ in lists] if list_public_ids else None
    now = clock.now()
    left = _leave(connection, person.id, list_ids, now)
    added = _suppress(connection, person.email_hash, person.email, list_ids, now)
    if (left or added) and delivery_id is not None and on_unsubscribed is not None:
        on_unsubscribed(session, delivery_id)
    session.commit()
    session.expire_all()  # a caller's loaded subscriptions now read their new status
    return UnsubscribeResult(already=not (left or added), lists=names)


# Built once: building a statement costs ~5x more than executing a cached one (measured, bench/web.py).
_LISTS = select(MailingList.public_id, MailingList.id, MailingList.name).where(
    MailingList.public_id.in_(bindparam("public_ids", expanding=True))
)
_PERSON = select(Subscriber.id, Subscriber.email, Subscriber.email_hash).where(
    Subscriber.public_id == bindparam("public_id")
)
_LEAVE_ALL = (
    update(Subscription)
    .where(Subscription.subscriber_id == bindparam("subscriber"), Subscription.status != "unsubscribed")
    .values(status="unsubscribed", unsubscribed_at=bindparam("at"), updated_at=bindparam("at"))
    .returning(Subscription.list_id)
)
_LEAVE_LISTS = _LEAVE_ALL.where(Subscription.list_id.in_(bindparam("lists", expanding=True)))
_EVIDENCE = insert(ConsentEvidence)
_SUPPRESSED = select(Suppression.list_id).where(
    Suppression.email_hash == bindparam("digest"), Suppression.reason == "unsubscribed"
)
_SUPPRESSED_GLOBALLY = _SUPPRESSED.where(Suppression.list_id.is_(None))
_SUPPRESSED_FOR = _SUPPRESSED.where(Suppression.list_id.in_(bindparam("lists", expanding=True)))
_SUPPRESS = insert(Suppression)


def _lists(connection: Connection, public_ids: Sequence[str]) -> list[tuple[int, str]]:
    """The (id, name) of the token's lists that still exist, in the token's order."""
    if not public_ids:
        return []
    rows = connection.execute(_LISTS, {"public_ids": list(public_ids)})
    found = {row.public_id: (row.id, row.name) for row in rows}
    return [found[public_id] for public_id in public_ids if public_id in found]


def _leave(connection: Connection, subscriber_id: int, list_ids: list[int] | None, now: datetime) -> bool:
    """Mark the subscriptions unsubscribed and record one evidence row for each one that changed."""
    params: dict[str, Any] = {"subscriber": subscriber_id, "at": now}
    if list_ids is None:
        changed = list(connection.execute(_LEAVE_ALL, params).scalars())
    else:
        changed = list(connection.execute(_LEAVE_LISTS, {**params, "lists": list_ids}).scalars())
    if changed:
        connection.execute(_EVIDENCE, [_evidence(subscriber_id, list_id, now) for list_id in sorted(changed)])
    return bool(changed)


def _evidence(subscriber_id: int, list_id: int, now: datetime) -> dict[str, Any]:
    return {
        "subscriber_id": subscriber_id,
        "list_id": list_id,
        "action": "unsubscribe",
        "method": SOURCE,
        "source": SOURCE,
        "ip": None,
        "user_agent": None,
        "consent_text": None,
        "consent_version": None,
        "created_at": now,
    }


def _suppress(
    connection: Connection, digest: str, email: str, list_ids: list[int] | None, now: datetime
) -> bool:
    """Add the 'unsubscribed' suppressions still missing: global, or one per list."""
    if list_ids is None:
        scopes: list[int | None] = [None]
        existing = set(connection.execute(_SUPPRESSED_GLOBALLY, {"digest": digest}).scalars())
    else:
        scopes = list(list_ids)
        existing = set(connection.execute(_SUPPRESSED_FOR, {"digest": digest, "lists": list_ids}).scalars())
    row = {
        "email_hash": digest,
        "email": email,
        "reason": "unsubscribed",
        "source": SOURCE,
        "created_at": now,
    }
    missing = [{**row, "list_id": list_id} for list_id in scopes if list_id not in existing]
    if missing:
        connection.execute(_SUPPRESS, missing)
    return bool(missing)
