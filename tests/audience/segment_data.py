"""Readers with mixed attributes, lists, consent, deliveries and events, loaded with plain Core inserts.

`make_readers(n, seed)` builds them in Python (values clean and messy: numbers as text and as JSON,
yes/no words in any case, bad dates, wrong JSON types, wrong case); `load(session, readers)` writes
them; `mailable(reader, lists)` is the plain-Python answer to "who may be mailed on these lists".
Tests compare what a segment selects in SQL with a plain Python filter over the same readers.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from newsletter.db.tables import (
    ConsentEvidence,
    Delivery,
    Event,
    MailingList,
    Send,
    Subscriber,
    Subscription,
    Suppression,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LISTS = ("e-alert", "weekly")
ROLES: tuple[Any, ...] = ("clinician", "patient", "caregiver", "researcher", "Clinician", 5, "", None)
STATES = ("NY", "NJ", "CA", "TX", "FL", "ny", None)
SPECIALTIES = (
    "geriatrics",
    "cardiology",
    "nephrology",
    "O'Brien clinic",
    'say "hi"',
    "x'; DROP TABLE subscribers; --",
    "back\\slash",
    "ünïcode",
    None,
    None,
)
YEARS: tuple[Any, ...] = (
    "12",
    "3",
    "3.5",
    "0",
    "-2",
    "40",
    7,
    15.5,
    "x",
    "1e3",
    "10.",
    " 9",
    "",
    None,
    None,
    True,
)
BIRTH_YEARS: tuple[Any, ...] = ("1948", "1955", "1962", "1969", "1970", "1984", "2001", 1960, "19x0", None)
WEBINARS: tuple[Any, ...] = (
    "2026-03-01",
    "2026-06-01",
    "2026-06-02",
    "2025-12-31",
    "2026-6-1",
    "June",
    20260601,
    None,
)
SMS: tuple[Any, ...] = ("yes", "No", "TRUE", "false", "1", "0", True, False, "maybe", 1, None)
SOURCES = ("webinar", "website", "partner", None)
METHODS = ("import", "form", "cli")


@dataclass
class Reader:
    """One generated reader and everything the database will hold about them."""

    id: int
    email: str
    name: str | None
    status: str
    created_at: datetime
    attributes: dict[str, Any]
    subscriptions: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    consent: list[tuple[str, str, str]] = field(default_factory=list)  # (list, action, method)
    suppressed: bool = False
    list_suppressed: set[str] = field(default_factory=set)
    deliveries: list[tuple[str, datetime]] = field(default_factory=list)  # (status, sent_at)
    events: list[tuple[str, datetime, bool | None]] = field(default_factory=list)  # (type, at, machine)


def make_readers(count: int, seed: int = 13) -> list[Reader]:
    """`count` readers with a fixed seed."""
    rng = random.Random(seed)
    return [_reader(rng, n) for n in range(1, count + 1)]


def _maybe(attributes: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        attributes[key] = value


def _reader(rng: random.Random, n: int) -> Reader:
    attributes: dict[str, Any] = {}
    for key, choices in (
        ("role", ROLES),
        ("state", STATES),
        ("specialty", SPECIALTIES),
        ("years_in_practice", YEARS),
        ("birth_year", BIRTH_YEARS),
        ("last_webinar", WEBINARS),
        ("sms_alerts", SMS),
        ("signup_source", SOURCES),
    ):
        _maybe(attributes, key, rng.choice(choices))
    created = NOW - timedelta(days=rng.randint(0, 700), hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
    reader = Reader(
        id=n,
        email=f"reader.{n}@example{n % 7}.org",
        name=rng.choice([f"Reader {n}", None, ""]),
        status="blocklisted" if rng.random() < 0.02 else "enabled",
        created_at=created,
        attributes=attributes,
        suppressed=rng.random() < 0.03,
    )
    for list_name, chance in (("e-alert", 0.9), ("weekly", 0.35)):
        if rng.random() < chance:
            status = "unsubscribed" if rng.random() < 0.08 else "active"
            reader.subscriptions[list_name] = (status, created + timedelta(hours=rng.randint(0, 2000)))
            reader.consent.append((list_name, "subscribe", rng.choice(METHODS)))
            if rng.random() < 0.02:
                reader.list_suppressed.add(list_name)
    for _ in range(rng.choice((0, 0, 1, 2, 3))):
        sent = NOW - timedelta(days=rng.randint(0, 400), hours=rng.randint(0, 23))
        status = rng.choice(("accepted", "accepted", "accepted", "failed"))
        reader.deliveries.append((status, sent))
        if status != "accepted":
            continue
        for kind, chance in (("open", 0.5), ("click", 0.2), ("open", 0.2)):
            if rng.random() < chance:
                machine = rng.choice((None, False, True)) if kind == "open" else None
                reader.events.append((kind, sent + timedelta(hours=rng.randint(0, 300)), machine))
    return reader


def load(session: Session, readers: list[Reader]) -> dict[str, int]:
    """Write the readers (subscribers, lists, subscriptions, consent, suppressions, a send's deliveries and
    their events); returns list name → id."""
    list_ids = {}
    for name in LISTS:
        row = MailingList(name=name, created_at=NOW)
        session.add(row)
        session.flush()
        list_ids[name] = row.id
    _insert(session, Subscriber, [_subscriber(r) for r in readers])
    if session.get_bind().dialect.name == "postgresql":  # explicit ids: move the sequence past them
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('subscribers', 'id'), max(id)) FROM subscribers")
        )
    _insert(
        session, Subscription, [_subscription(r, name, list_ids) for r in readers for name in r.subscriptions]
    )
    consent = [
        {"subscriber_id": r.id, "list_id": list_ids[list_name], "action": action, "method": method,
         "source": f"{method}-source", "created_at": r.created_at}
        for r in readers for list_name, action, method in r.consent
    ]  # fmt: skip
    _insert(session, ConsentEvidence, consent)
    _insert(session, Suppression, _suppressions(readers, list_ids))
    send_ids = [_send(session) for _ in range(max((len(r.deliveries) for r in readers), default=0))]
    deliveries, delivery_events = [], []
    for reader in readers:
        for send_id, (status, sent_at) in zip(send_ids, reader.deliveries, strict=False):
            sent = sent_at if status == "accepted" else None
            deliveries.append(
                {
                    "send_id": send_id,
                    "subscriber_id": reader.id,
                    "email": reader.email,
                    "status": status,
                    "sent_at": sent,
                }
            )
    _insert(session, Delivery, deliveries)
    query = select(Delivery.id, Delivery.send_id, Delivery.subscriber_id, Delivery.status).order_by(
        Delivery.id
    )
    by_reader: dict[int, list[tuple[int, int]]] = {}
    for delivery_id, send_id, subscriber_id, status in session.execute(query):
        if status == "accepted":
            by_reader.setdefault(subscriber_id, []).append((delivery_id, send_id))
    counter = 0
    for reader in readers:
        for kind, at, machine in reader.events:
            counter += 1
            delivery_id, send_id = by_reader[reader.id][counter % len(by_reader[reader.id])]
            delivery_events.append({"sg_event_id": f"ev-{counter}", "type": kind, "occurred_at": at,
                                    "received_at": at, "send_id": send_id, "delivery_id": delivery_id,
                                    "machine_open": machine, "detail": {}})  # fmt: skip
    _insert(session, Event, delivery_events)
    session.commit()
    return list_ids


def _insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        session.execute(insert(table), rows[start : start + 5000])


def _subscriber(reader: Reader) -> dict[str, Any]:
    return {
        "id": reader.id,
        "public_id": f"pub-{reader.id}",
        "email": reader.email,
        "email_hash": _hash(reader.email),
        "name": reader.name,
        "attributes": reader.attributes,
        "status": reader.status,
        "created_at": reader.created_at,
        "updated_at": reader.created_at,
    }


def _subscription(reader: Reader, name: str, list_ids: dict[str, int]) -> dict[str, Any]:
    status, since = reader.subscriptions[name]
    return {
        "subscriber_id": reader.id,
        "list_id": list_ids[name],
        "status": status,
        "created_at": since,
        "subscribed_at": since,
        "unsubscribed_at": since if status == "unsubscribed" else None,
        "updated_at": since,
    }


def _suppressions(readers: list[Reader], list_ids: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for reader in readers:
        scopes = ([None] if reader.suppressed else []) + [
            list_ids[name] for name in sorted(reader.list_suppressed)
        ]
        rows += [{"email_hash": _hash(reader.email), "email": reader.email, "list_id": scope,
                  "reason": "manual", "source": "test", "created_at": NOW} for scope in scopes]  # fmt: skip
    return rows


def _send(session: Session) -> int:
    send = Send(
        issue_slug="2026-11-01-x",
        subject="S",
        html="<p>x</p>",
        text="x",
        sha256="0" * 64,
        publication={},
        status="sent",
        transport="outbox",
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(send)
    session.flush()
    return send.id


def _hash(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def mailable(reader: Reader, lists: tuple[str, ...] = LISTS) -> bool:
    """Plain Python: enabled, not suppressed, active on one of `lists` without a suppression for it."""
    if reader.status != "enabled" or reader.suppressed:
        return False
    return any(
        reader.subscriptions.get(name, ("", NOW))[0] == "active" and name not in reader.list_suppressed
        for name in lists
    )
