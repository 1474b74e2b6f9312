"""Storing SendGrid events once and applying their effects, a batch per transaction (the caller commits).

Each event once (ON CONFLICT on `sg_event_id`), linked to its delivery, its kind's bit and outcome on the
delivery row (an `unknown` delivery becomes `accepted`: reconciliation), erased people's events stored without
personal data, suppressions, and the send's counters. docs/architecture.md ("Events") gives the rules.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.addresses import InvalidAddress, email_hash, normalise_and_hash
from newsletter.audience.erasure import erased_among, is_placeholder, scrub_detail, scrub_text
from newsletter.audience.people.suppressions import suppress_hashes
from newsletter.db.bulk import among
from newsletter.db.counters import Deltas, add_counters, status_moved
from newsletter.db.tables import Delivery
from newsletter.events import kinds
from newsletter.events.sendgrid_webhook import Event
from newsletter.events.store import DeliveryState, insert_events, lock_deliveries, update_deliveries

SOURCE = "sendgrid-webhook"
LINK_KEY_LENGTH = 1000
_TOKEN = re.compile(r"[A-Za-z0-9_.~-]{40,}")


@dataclass(frozen=True)
class IngestResult:
    """What one batch did: events received, newly stored, already known, linked, addresses suppressed."""

    received: int
    stored: int
    duplicates: int
    linked: int
    suppressed: int


class Target(NamedTuple):
    """The delivery an event is about."""

    delivery_id: int
    send_id: int
    domain: str
    email: str


def ingest(session: Session, events: Sequence[Event], *, received_at: datetime | None = None) -> IngestResult:
    """Store the new events of a batch and apply their effects; the caller commits."""
    now = received_at or clock.now()
    unique = sorted({e.sg_event_id: e for e in reversed(events)}.values(), key=lambda e: e.sg_event_id)
    targets = _targets(session, unique)
    unique = [_without_person(e) if is_placeholder(_email_of(targets, e)) else e for e in unique]
    known: dict[str, tuple[str, str] | None] = {}
    addresses = {e.sg_event_id: _address(e, targets.get(e.sg_event_id), known) for e in unique}
    unlinked = {a[1] for key, a in addresses.items() if a is not None and key not in targets}
    erased = erased_among(session, unlinked) if unlinked else set()
    if erased:
        gone = {key for key, a in addresses.items() if a is not None and a[1] in erased}
        unique = [_without_person(e) if e.sg_event_id in gone else e for e in unique]
        addresses.update(dict.fromkeys(gone))
    rows = [_row(e, targets.get(e.sg_event_id), addresses[e.sg_event_id], now) for e in unique]
    inserted = insert_events(session, rows)
    new = [e for e in unique if e.sg_event_id in inserted]
    linked = [(e, targets[e.sg_event_id]) for e in new if e.sg_event_id in targets]
    deltas: Deltas = Counter()
    count_events(linked, deltas)
    _apply_to_deliveries(session, linked, deltas)
    suppressed = _suppress(session, new, addresses)
    add_counters(session, deltas)  # last: concurrent batches of a send wait on its counter rows until commit
    return IngestResult(len(events), len(new), len(events) - len(new), len(linked), suppressed)


def link_key(url: str) -> str:
    """A click's link as reports group it: per-recipient tokens (40+ URL-safe characters) become {token}."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host: keep the text as it came
        return url[:LINK_KEY_LENGTH]
    path = "/".join("{token}" if _TOKEN.fullmatch(seg) else seg for seg in parts.path.split("/"))
    query = "&".join(_token_param(param) for param in parts.query.split("&")) if parts.query else ""
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))[:LINK_KEY_LENGTH]


def _token_param(param: str) -> str:
    name, eq, value = param.partition("=")
    return f"{name}={{token}}" if eq and _TOKEN.fullmatch(value) else param


def _targets(session: Session, events: Iterable[Event]) -> dict[str, Target]:
    """sg_event_id → delivery, for events whose custom args name an existing delivery of that send."""
    wanted = {e.delivery_id for e in events if e.delivery_id is not None}
    if not wanted:
        return {}
    query = select(Delivery.id, Delivery.send_id, Delivery.domain, Delivery.email).where(
        among(session, Delivery.id, wanted)
    )
    found = {row.id: Target(row.id, row.send_id, row.domain, row.email) for row in session.execute(query)}
    out = {}
    for event in events:
        target = found.get(event.delivery_id) if event.delivery_id is not None else None
        if target is not None and event.send_id in (None, target.send_id):
            out[event.sg_event_id] = target
    return out


def _email_of(targets: dict[str, Target], event: Event) -> str | None:
    target = targets.get(event.sg_event_id)
    return target.email if target is not None else None


def _without_person(event: Event) -> Event:
    """An event for an erased delivery, stripped as erasure strips the events it finds."""
    return dataclasses.replace(
        event,
        email=None,
        url=scrub_text(event.url, event.email, event.delivery_id),
        detail=scrub_detail(event.detail, event.email, event.delivery_id),
    )


def _address(
    event: Event, target: Target | None, known: dict[str, tuple[str, str] | None]
) -> tuple[str, str] | None:
    """The address, normalised, and its hash: the delivery's if linked (stored normalised), else the event's.

    `known` caches answers within a batch: a recipient's events usually travel together.
    """
    raw = target.email if target is not None else event.email
    if raw is None or is_placeholder(raw):
        return None
    if raw not in known:
        try:
            known[raw] = (raw, email_hash(raw)) if target is not None else normalise_and_hash(raw)
        except InvalidAddress:
            known[raw] = None
    return known[raw]


def _row(
    event: Event, target: Target | None, address: tuple[str, str] | None, now: datetime
) -> tuple[Any, ...]:
    """The event as a row of store.EVENT_COLUMNS."""
    reason = kinds.SUPPRESSING.get(event.kind) if address is not None else None
    if target is not None:
        domain = target.domain
    else:
        domain = address[0].rpartition("@")[2] if address is not None else ""
    return (
        event.sg_event_id,
        event.type,
        event.occurred_at,
        now,
        target.send_id if target else None,
        target.delivery_id if target else None,
        address[1] if address is not None else None,
        domain[:255],
        event.sg_message_id,
        event.bounce_type,
        event.classification,
        event.machine_open,
        event.url,
        reason,
        orjson.dumps(event.detail).decode(),
    )


def count_events(linked: Sequence[tuple[Event, Target]], deltas: Deltas) -> None:
    """Totals per kind, per kind and hour, and clicks per link."""
    hours: dict[tuple[int, int, int, int], str] = {}
    for event, target in linked:
        name, at = event.kind, event.occurred_at
        hour = hours.get((at.year, at.month, at.day, at.hour))
        if hour is None:
            hour = hours[(at.year, at.month, at.day, at.hour)] = at.strftime("%Y-%m-%dT%H")
        deltas[(target.send_id, "events", name)] += 1
        deltas[(target.send_id, f"hour:{name}"[:40], hour)] += 1
        if name == "click" and event.url:
            deltas[(target.send_id, "link", link_key(event.url))] += 1


def _apply_to_deliveries(session: Session, linked: Sequence[tuple[Event, Target]], deltas: Deltas) -> None:
    """Set flags, outcome and reconciled status on the delivery rows; count unique figures and status moves.

    The rows are locked as they are read, so the status each one leaves is the one it had.
    """
    by_delivery: dict[int, list[Event]] = {}
    for event, target in linked:
        by_delivery.setdefault(target.delivery_id, []).append(event)
    targets = {target.delivery_id: target for _, target in linked}
    current = lock_deliveries(session, by_delivery)
    changed = []
    for delivery_id, state in current.items():
        events = sorted(by_delivery[delivery_id], key=lambda e: e.occurred_at)
        new = _next_state(state, events)
        count_unique(targets[delivery_id], state.event_flags, new.event_flags, events, deltas)
        status_moved(deltas, targets[delivery_id].send_id, state.status, new.status, 1)
        if new != state:
            changed.append(new)
    update_deliveries(session, changed)


def _next_state(state: DeliveryState, events: Sequence[Event]) -> DeliveryState:
    """The delivery after these events (oldest first): flags, outcome, and unknown → accepted."""
    flags, outcome, outcome_at = state.event_flags, state.outcome, state.outcome_at
    for event in events:
        name = event.kind
        flags |= kinds.BITS.get(name, 0)
        new_outcome = kinds.OUTCOME_OF.get(name)
        if new_outcome is None:
            continue
        open_ended = outcome in (None, "deferred")
        later = outcome_at is None or event.occurred_at >= outcome_at
        if (new_outcome == "deferred" and open_ended and later) or (
            new_outcome != "deferred" and (open_ended or later)
        ):
            outcome, outcome_at = new_outcome, event.occurred_at
    status = "accepted" if state.status == "unknown" else state.status
    return DeliveryState(state.id, flags, status, outcome, outcome_at)


def count_unique(target: Target, old: int, new: int, events: Sequence[Event], deltas: Deltas) -> None:
    """Unique figures this delivery newly reaches, overall and for its domain; bounces by classification."""
    for figure, mask in kinds.UNIQUE_FIGURES.items():
        if old & mask or not new & mask:
            continue
        deltas[(target.send_id, "unique", figure)] += 1
        deltas[(target.send_id, f"domain:{figure}", target.domain[:1000])] += 1
        if figure == "bounced":
            bounce = next(e for e in events if e.type == "bounce")
            deltas[(target.send_id, "bounce_class", bounce.classification or "Unclassified")] += 1


def _suppress(session: Session, new: Sequence[Event], addresses: dict[str, tuple[str, str] | None]) -> int:
    """Suppress the addresses of new hard bounces, spam reports and unsubscribes; how many were new."""
    wanted: dict[tuple[str, str], str] = {}
    for event in new:
        reason = kinds.SUPPRESSING.get(event.kind)
        address = addresses[event.sg_event_id]
        if reason is not None and address is not None:
            email, digest = address
            wanted.setdefault((digest, reason), email)
    return suppress_hashes(
        session, [(digest, email, reason) for (digest, reason), email in wanted.items()], source=SOURCE
    )
