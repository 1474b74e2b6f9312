"""A scripted SendGrid event stream for a send, with the report figures it must produce.

`EventScript(deliveries, started_at=...)` decides, per recipient and from a seed, what SendGrid says:
processed, deferrals, then delivered / hard bounce / blocked / dropped, human and machine opens,
clicks, unsubscribes, group unsubscribes and spam reports; plus repeated events (SendGrid retries),
events of an unknown type, and events for deliveries we never made. Iterating `events()` fills
`expected`, counted here independently of the ingestion code. Used by tests/reports and bench/events.py.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

LINKS = (
    "https://northwind-health.example/articles/walking-after-dinner?utm_source=ealert",
    "https://northwind-health.example/articles/sleep-and-sugar?utm_source=ealert",
    "https://northwind-health.example/shop/pedometer",
    "https://northwind-health.example/brief/archive/2026-11-20-walking",
)
UNSUBSCRIBE_LINK = "https://northwind-health.example/brief/unsubscribe/{token}"
SOFT_CLASSES = ("Technical", "Reputation", "Content", "Frequency or Volume Too High")
HOURLY = {
    "processed": "processed",
    "delivered": "delivered",
    "deferred": "deferrals",
    "hard_bounce": "hard_bounces",
    "blocked": "blocked",
    "dropped": "dropped",
    "open": "opens",
    "machine_open": "machine_opens",
    "click": "clicks",
    "unsubscribe": "unsubscribes",
    "group_unsubscribe": "group_unsubscribes",
    "spamreport": "spam_complaints",
}
DOMAIN_FIGURES = (
    "delivered",
    "deferred",
    "bounced",
    "dropped",
    "unique_opens",
    "unique_clicks",
    "unsubscribes",
    "spam_complaints",
)


@dataclass
class Expected:
    """What the report must say after the stream, and what must be suppressed."""

    figures: Counter[str] = field(default_factory=Counter)
    bounced_by_classification: Counter[str] = field(default_factory=Counter)
    clicks_per_link: Counter[str] = field(default_factory=Counter)
    by_domain: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    over_time: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    other_events: Counter[str] = field(default_factory=Counter)
    suppressed: dict[str, str] = field(default_factory=dict)
    events: int = 0
    repeats: int = 0
    unlinked: int = 0
    linked_delivery_ids: set[int] = field(default_factory=set)


class EventScript:
    """A seeded stream over `deliveries` [(delivery_id, send_id, email)] of a send started at `started_at`."""

    def __init__(
        self,
        deliveries: Sequence[tuple[int, int, str]],
        *,
        started_at: datetime,
        seed: int = 20261120,
        open_rate: float = 0.35,
        max_opens: int = 4,
        max_clicks: int = 3,
    ) -> None:
        self.deliveries = deliveries
        self.origin = started_at.replace(minute=0, second=0, microsecond=0)
        self.start = int(started_at.timestamp())
        self.rng = random.Random(seed)
        self.open_rate, self.max_opens, self.max_clicks = open_rate, max_opens, max_clicks
        self.expected = Expected()
        self._n = 0
        self._seen: dict[int, set[str]] = {}

    def events(self) -> Iterator[dict[str, Any]]:
        """Every event, in order; some are repeated a few events later, as SendGrid retries do."""
        pending: list[dict[str, Any]] = []
        for index, delivery in enumerate(self.deliveries):
            for event in self._recipient(delivery):
                yield event
                if self._n % 777 == 0:
                    pending.append(event)
            if index % 1999 == 1000:
                yield from self._strangers(index)
            if len(pending) > 2 or (pending and index == len(self.deliveries) - 1):
                self.expected.repeats += len(pending)
                yield from pending
                pending = []

    def batches(self, size: int = 1000) -> Iterator[list[dict[str, Any]]]:
        """The events in webhook batches of `size`."""
        batch: list[dict[str, Any]] = []
        for event in self.events():
            batch.append(event)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _recipient(self, delivery: tuple[int, int, str]) -> Iterator[dict[str, Any]]:
        rng, at = self.rng, self.start + self.rng.randint(0, 900)
        if rng.random() < 0.005:
            yield self._event("dropped", delivery, at, reason="Bounced Address")
            return
        yield self._event("processed", delivery, at)
        if rng.random() < 0.05:
            for attempt in range(rng.randint(1, 3)):
                yield self._event("deferred", delivery, at + 300 * (attempt + 1), attempt=str(attempt + 1))
        at += 1800
        fate = rng.random()
        if fate < 0.012:
            yield self._event("bounce", delivery, at, type="bounce", bounce_classification="Invalid Address")
            return
        if fate < 0.022:
            cls = rng.choice(SOFT_CLASSES)
            yield self._event("bounce", delivery, at, type="blocked", bounce_classification=cls)
            return
        yield self._event("delivered", delivery, at, response="250 OK")
        yield from self._engagement(delivery, at)

    def _engagement(self, delivery: tuple[int, int, str], at: int) -> Iterator[dict[str, Any]]:
        rng = self.rng
        opener = rng.random() < self.open_rate
        if opener:
            for _ in range(rng.randint(1, self.max_opens)):
                yield self._event("open", delivery, at + rng.randint(60, 47 * 3600), sg_machine_open=False)
        if rng.random() < 0.12:
            for _ in range(rng.randint(1, 2)):
                yield self._event("open", delivery, at + rng.randint(1, 600), sg_machine_open=True)
        if opener and rng.random() < 0.3:
            for _ in range(rng.randint(1, self.max_clicks)):
                url = rng.choice(LINKS) if rng.random() < 0.9 else self._unsubscribe_link()
                yield self._event("click", delivery, at + rng.randint(3600, 48 * 3600), url=url)
        fate = rng.random()
        if fate < 0.003:
            yield self._event("unsubscribe", delivery, at + rng.randint(3600, 40 * 3600))
        elif fate < 0.005:
            yield self._event("group_unsubscribe", delivery, at + 7200, asm_group_id=4242)
        elif fate < 0.0062:
            yield self._event("spamreport", delivery, at + rng.randint(3600, 30 * 3600))

    def _strangers(self, index: int) -> Iterator[dict[str, Any]]:
        """An unknown event type (counted apart) and events for deliveries that are not ours."""
        delivery = self.deliveries[index]
        yield self._event("mystery_event", delivery, self.start + 60, shiny_new_field={"x": 1})
        delivery_id, send_id, _ = delivery
        for foreign in ((10**12 + index, send_id), (delivery_id, send_id + 10**6)):
            self._n += 1
            self.expected.unlinked += 1
            self.expected.events += 1
            yield {
                "event": "delivered",
                "email": f"stranger{index}@elsewhere.example",
                "timestamp": self.start,
                "sg_event_id": f"stranger-{index}-{foreign[0]}",
                "delivery_id": foreign[0],
                "send_id": foreign[1],
            }

    def _event(self, kind: str, delivery: tuple[int, int, str], at: int, **fields: Any) -> dict[str, Any]:
        delivery_id, send_id, email = delivery
        self._n += 1
        data = {
            "email": email,
            "timestamp": at,
            "event": kind,
            "sg_event_id": f"e{send_id}-{self._n}-{secrets.token_hex(4)}",
            "sg_message_id": f"m{delivery_id}.filter0001",
            "smtp-id": f"<{delivery_id}@ismtpd-1>",
            "category": ["daily-brief"],
            "send_id": str(send_id),
            "delivery_id": str(delivery_id),
            **fields,
        }
        self._expect(delivery, kind, at, fields)
        return data

    def _unsubscribe_link(self) -> str:
        return UNSUBSCRIBE_LINK.format(token=secrets.token_urlsafe(36))

    def _expect(self, delivery: tuple[int, int, str], kind: str, at: int, fields: dict[str, Any]) -> None:
        """Count one event as the report will: events per kind and hour, once-per-delivery figures."""
        e = self.expected
        e.events += 1
        delivery_id, _, email = delivery
        e.linked_delivery_ids.add(delivery_id)
        if kind == "bounce":
            kind = "blocked" if fields["type"] == "blocked" else "hard_bounce"
        if kind == "open" and fields.get("sg_machine_open"):
            kind = "machine_open"
        if kind not in HOURLY:
            e.other_events[kind] += 1
            return
        hour = int((at - int(self.origin.timestamp())) // 3600)
        e.over_time[hour][HOURLY[kind]] += 1
        seen = self._seen.setdefault(delivery_id, set())
        figures = _FIGURES.get(kind, ())
        domain = email.rpartition("@")[2]
        for figure in figures:
            if figure not in seen:
                seen.add(figure)
                e.figures[figure] += 1
                if figure in DOMAIN_FIGURES:
                    e.by_domain[domain][figure] += 1
                if figure == "bounced":
                    e.bounced_by_classification[fields["bounce_classification"]] += 1
        totals = {"deferred": "deferrals", "open": "total_opens", "machine_open": "total_machine_opens"}
        if kind in totals:
            e.figures[totals[kind]] += 1
        if kind == "click":
            e.figures["total_clicks"] += 1
            url = fields["url"]
            e.clicks_per_link[UNSUBSCRIBE_LINK if "/unsubscribe/" in url else url] += 1
        reason = {"hard_bounce": "hard_bounce", "spamreport": "spam_complaint"}.get(kind)
        reason = reason or ("unsubscribed" if kind in ("unsubscribe", "group_unsubscribe") else None)
        if reason:
            e.suppressed.setdefault(email, reason)


_FIGURES = {
    "processed": ("processed",),
    "delivered": ("delivered",),
    "deferred": ("deferred",),
    "hard_bounce": ("bounced", "hard_bounces"),
    "blocked": ("bounced", "blocked"),
    "dropped": ("dropped",),
    "open": ("unique_opens",),
    "machine_open": ("unique_machine_opens",),
    "click": ("unique_clicks",),
    "unsubscribe": ("unsubscribes",),
    "group_unsubscribe": ("unsubscribes",),
    "spamreport": ("spam_complaints",),
}
