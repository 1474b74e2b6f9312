"""What GDPR erasure scrubs beyond the person's own rows: their address in deliveries, their traces in events.

Counts stay; the address, the recipient domain and personal fields of events go, and a pending delivery is
skipped. Event ingestion strips later events the same way. docs/architecture.md ("Erasure") says exactly what.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from newsletter.audience.addresses import spellings
from newsletter.db.counters import Deltas, add_counters, status_moved
from newsletter.db.tables import Delivery, Event, Send, SendCounter, Suppression

PLACEHOLDER_DOMAIN = "erased.invalid"
PERSONAL_DETAIL_KEYS = frozenset({"email", "ip", "useragent", "user_agent"})
"""Provider event fields that identify the person or their device; removed on erasure."""
DOMAIN_COUNTER_PREFIX = "domain:"
"""Per-domain counters in `send_counters` (kept by event ingestion) are named `domain:<figure>`."""


def placeholder(delivery_id: int) -> str:
    """The non-identifying address an erased delivery keeps."""
    return f"erased-{delivery_id}@{PLACEHOLDER_DOMAIN}"


def is_placeholder(address: str | None) -> bool:
    """Whether an address is an erased delivery's placeholder (the `.invalid` TLD is reserved, RFC 2606)."""
    return address is not None and address.lower().endswith(f"@{PLACEHOLDER_DOMAIN}")


def scrub_detail(detail: dict[str, Any], address: str | None, delivery_id: int | None) -> dict[str, Any]:
    """A provider event's detail without personal keys, `address` (any case) replaced in its text."""
    pattern = re.compile(re.escape(address), re.IGNORECASE) if address else None
    scrubbed: dict[str, Any] = _scrubbed(detail, pattern, delivery_id)
    return scrubbed


def scrub_text(text: str | None, address: str | None, delivery_id: int | None) -> str | None:
    """`text` with `address` (any case) replaced by the delivery's placeholder."""
    if not address:
        return text
    return _replace(text, re.compile(re.escape(address), re.IGNORECASE), delivery_id)


def erased_among(session: Session, digests: Collection[str]) -> set[str]:
    """Which of these address hashes belong to erased people (their global `erased` suppression)."""
    query = select(Suppression.email_hash).where(
        Suppression.reason == "erased",
        Suppression.list_id.is_(None),
        Suppression.email_hash.in_(sorted(digests)),
    )
    return set(session.scalars(query))


def scrub_sending_log(session: Session, subscriber_id: int | None, address: str, digest: str) -> None:
    """Replace the address in their deliveries and test sends; strip their events. The caller commits."""
    written = spellings(address)  # rows kept before domains were stored in ASCII may hold the Unicode one
    mine: list[ColumnElement[bool]] = [Delivery.send_id.in_(select(Send.id)) & Delivery.email.in_(written)]
    if subscriber_id is not None:
        mine.append(Delivery.subscriber_id == subscriber_id)
    query = select(Delivery.id, Delivery.send_id, Delivery.domain, Delivery.status, Delivery.detail)
    rows = session.execute(query.where(or_(*mine))).all()
    pattern = re.compile("|".join(re.escape(text) for text in written), re.IGNORECASE)
    if rows:
        session.execute(
            update(Delivery),
            [
                {
                    "id": row.id,
                    "subscriber_id": None,  # no foreign key clears it when the subscriber goes
                    "email": placeholder(row.id),
                    "domain": PLACEHOLDER_DOMAIN,
                    "detail": _replace(row.detail, pattern, row.id),
                }
                for row in rows
            ],
        )
        _move_domain_counters(session, Counter((row.send_id, row.domain) for row in rows))
        _skip_pending(session, [(row.send_id, row.id) for row in rows if row.status == "pending"])
        _scrub_test_recipients(session, written, {row.send_id: row.id for row in rows})
    _scrub_events(session, [row.id for row in rows], pattern, digest)


def _skip_pending(session: Session, pending: Sequence[tuple[int, int]]) -> None:
    """Deliveries still waiting are never sent (a test send would mail whatever address it holds).

    Only rows still pending when updated change (a worker may have marked one since it was read), and
    the send's status counters move by the rows that did.
    """
    ids_by_send: dict[int, list[int]] = {}
    for send_id, delivery_id in pending:
        ids_by_send.setdefault(send_id, []).append(delivery_id)
    deltas: Deltas = Counter()
    for send_id, ids in sorted(ids_by_send.items()):
        skipped = session.connection().execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status == "pending")
            .values(status="skipped", detail="erased before it was sent")
        )
        status_moved(deltas, send_id, "pending", "skipped", skipped.rowcount)
    add_counters(session, deltas)


def _move_domain_counters(session: Session, moved: Counter[tuple[int, str]]) -> None:
    """Per-domain counters of a domain nobody of that send is left at move to the neutral domain.

    A domain others of the send still share keeps its counters (the person's share cannot be told
    apart there, and such a domain identifies no one); report totals are unchanged either way.
    """
    for send_id, domain in sorted(moved):
        if domain == PLACEHOLDER_DOMAIN:
            continue
        left = session.scalar(
            select(func.count()).where(Delivery.send_id == send_id, Delivery.domain == domain)
        )
        if left:
            continue
        where = and_(
            SendCounter.send_id == send_id,
            SendCounter.name.startswith(DOMAIN_COUNTER_PREFIX, autoescape=True),
        )
        counters = select(SendCounter.name, SendCounter.value).where(where)
        old: dict[str, int] = dict(session.execute(counters.where(SendCounter.key == domain)).all())
        if not old:
            continue
        neutral: dict[str, int] = dict(
            session.execute(counters.where(SendCounter.key == PLACEHOLDER_DOMAIN)).all()
        )
        session.execute(delete(SendCounter).where(where, SendCounter.key.in_([domain, PLACEHOLDER_DOMAIN])))
        session.add_all(
            SendCounter(
                send_id=send_id,
                name=name,
                key=PLACEHOLDER_DOMAIN,
                value=old.get(name, 0) + neutral.get(name, 0),
            )
            for name in sorted(old.keys() | neutral.keys())
        )
        session.flush()


def _scrub_test_recipients(session: Session, written: Sequence[str], delivery_of: dict[int, int]) -> None:
    """A test send's recipient list shows the delivery's placeholder instead of the address."""
    wanted = {text.lower() for text in written}
    for send_id in sorted(delivery_of):
        send = session.get(Send, send_id)
        if send is None or not send.test_recipients:
            continue
        if any(item.lower() in wanted for item in send.test_recipients):
            send.test_recipients = [
                placeholder(delivery_of[send_id]) if item.lower() in wanted else item
                for item in send.test_recipients
            ]
    session.flush()


def _scrub_events(session: Session, delivery_ids: list[int], pattern: re.Pattern[str], digest: str) -> None:
    query = select(Event.id, Event.delivery_id, Event.url, Event.detail).where(
        or_(Event.email_hash == digest, Event.delivery_id.in_(delivery_ids))
    )
    changes = [
        {
            "id": event_id,
            "email_hash": None,
            "domain": PLACEHOLDER_DOMAIN,
            "url": _replace(url, pattern, delivery_id),
            "detail": _scrubbed(detail or {}, pattern, delivery_id),
        }
        for event_id, delivery_id, url, detail in session.execute(query)
    ]
    if changes:
        session.execute(update(Event), changes)


def _scrubbed(value: Any, pattern: re.Pattern[str] | None, delivery_id: int | None) -> Any:
    """`value` without personal keys, the address replaced wherever it appears in text."""
    if isinstance(value, dict):
        return {
            key: _scrubbed(item, pattern, delivery_id)
            for key, item in value.items()
            if key not in PERSONAL_DETAIL_KEYS
        }
    if isinstance(value, list):
        return [_scrubbed(item, pattern, delivery_id) for item in value]
    if isinstance(value, str) and pattern is not None:
        return _replace(value, pattern, delivery_id)
    return value


def _replace(text: str | None, pattern: re.Pattern[str], delivery_id: int | None) -> str | None:
    if text is None:
        return None
    return pattern.sub(placeholder(delivery_id) if delivery_id is not None else "erased", text)
