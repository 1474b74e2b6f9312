"""Event test helpers: a locally generated webhook key that signs like SendGrid, sends with deliveries."""

from __future__ import annotations

import base64
import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.db.counters import Deltas, add_counters, status_added
from newsletter.db.tables import Delivery, DeliveryBatch, Send
from newsletter.events.sendgrid_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER

_ids = itertools.count(1)


@dataclass
class WebhookKey:
    """A P-256 key pair: `public_b64` is what SendGrid shows (base64 DER); `headers` signs a body."""

    private: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    @property
    def public_b64(self) -> str:
        der = self.private.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(der).decode()

    def sign(self, body: bytes, timestamp: str) -> str:
        """SendGrid's signature: ECDSA SHA-256 over timestamp + body, base64 DER."""
        return base64.b64encode(
            self.private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        ).decode()

    def headers(self, body: bytes, at: datetime | None = None) -> dict[str, str]:
        """The two signature headers for `body`, signed at `at` (default: now)."""
        timestamp = str(int((at or clock.now()).timestamp()))
        return {
            SIGNATURE_HEADER: self.sign(body, timestamp),
            TIMESTAMP_HEADER: timestamp,
            "Content-Type": "application/json",
        }


def body_of(events: Sequence[dict[str, Any]]) -> bytes:
    """A webhook body: the events as a JSON array."""
    return orjson.dumps(list(events))


def event(kind: str, delivery: tuple[int, int, str] | None = None, **fields: Any) -> dict[str, Any]:
    """A SendGrid event of `kind` for delivery (id, send_id, email), with custom args at top level."""
    data: dict[str, Any] = {
        "event": kind,
        "sg_event_id": f"ev-{next(_ids)}",
        "sg_message_id": "msg.filter0001",
        "timestamp": int(clock.now().timestamp()),
        "smtp-id": "<abc@ismtpd>",
        "category": ["daily-brief"],
    }
    if delivery is not None:
        delivery_id, send_id, email = delivery
        data.update(email=email, send_id=str(send_id), delivery_id=str(delivery_id))
    data.update(fields)
    return data


def make_send(
    session: Session,
    emails: Sequence[str],
    *,
    status: str = "accepted",
    statuses: dict[int, str] | None = None,
    batched: bool = False,
) -> tuple[int, list[tuple[int, int, str]]]:
    """A sent send with one delivery per address (status, or statuses[i]), its status counters as sending
    would have left them (with `batched`, also the done batch its rows were sent in); returns (send_id,
    deliveries)."""
    now = clock.now()
    send = Send(
        issue_slug="2026-11-20-walking",
        subject="A short walk after dinner",
        html="<p>Hi</p>",
        text="Hi",
        sha256="0" * 64,
        publication={"name": "Daily Wellness Brief"},
        status="sent",
        transport="sendgrid",
        started_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(send)
    session.flush()
    statuses = statuses or {}
    rows = [
        {
            "send_id": send.id,
            "email": email,
            "domain": email.rpartition("@")[2],
            "status": statuses.get(i, status),
            "attempts": 1,
            "sent_at": now,
        }
        for i, email in enumerate(emails)
    ]
    for start in range(0, len(rows), 5000):
        session.execute(insert(Delivery), rows[start : start + 5000])
    deltas: Deltas = Counter()
    for status_of_row, n in Counter(row["status"] for row in rows).items():
        status_added(deltas, send.id, status_of_row, n)
    add_counters(session, deltas)
    ids = session.execute(
        select(Delivery.id, Delivery.email).where(Delivery.send_id == send.id).order_by(Delivery.id)
    )
    deliveries = [(delivery_id, send.id, email) for delivery_id, email in ids]
    if batched and deliveries:
        session.add(
            DeliveryBatch(
                send_id=send.id, first_id=deliveries[0][0], last_id=deliveries[-1][0], size=len(deliveries),
                state="done", attempts=1, claimed_at=now,
            )
        )  # fmt: skip
    session.commit()
    return send.id, deliveries
