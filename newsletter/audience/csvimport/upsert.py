"""One import chunk written to the database: look up, decide per address, then bulk INSERT ... ON CONFLICT.

New people go in through `newcomers` on PostgreSQL (COPY and one statement) and through a bulk
INSERT on SQLite; people already known who are new to the list join through `_join` (by address).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import insert, literal, or_, select, update
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.csvimport.newcomers import Newcomers
from newsletter.audience.csvimport.staging import Record
from newsletter.audience.people.suppressions import describe, worst
from newsletter.db.bulk import BulkInsert, among, among_strings, json_text
from newsletter.db.session import dialect_insert, is_postgres
from newsletter.db.tables import (
    ConsentEvidence,
    MailingList,
    Subscriber,
    Subscription,
    Suppression,
    UTCDateTime,
    new_public_ids,
)

Outcome = Literal["added", "updated", "unchanged", "suppressed"]
UNSUBSCRIBED = "previously unsubscribed from this list (not re-subscribed)"
_SUBSCRIBER_COLUMNS = (
    "public_id",
    "email",
    "email_hash",
    "name",
    "attributes",
    "status",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class Decision:
    """What happened to one record; `reason` is set for reported (suppressed) records."""

    kind: Outcome
    reason: str | None = None


_ADDED, _UPDATED, _UNCHANGED = Decision("added"), Decision("updated"), Decision("unchanged")


@dataclass(slots=True)
class _Known:
    id: int
    name: str | None
    attributes: dict[str, Any]


@dataclass(slots=True)
class Plan:
    """One chunk decided: a decision per record, and the writes they need."""

    now: datetime
    decisions: list[Decision]
    fresh: list[Record]
    joining: list[str]
    changes: list[dict[str, Any]]


class ChunkWriter:
    """Writes chunks of merged records into one list, committing each chunk.

    `plan` looks a chunk up and decides; `apply` writes and commits it. On PostgreSQL the look-ups
    use a second session (`separate_reader`), so the next chunk can be planned while this one is
    applied (chunks never share an address, so neither sees the other's rows). Call `close()`.
    """

    def __init__(
        self,
        session: Session,
        mailing_list: MailingList,
        source: str,
        *,
        trust_fresh_keys: bool | None = None,
    ) -> None:
        self.session = session
        self.list_id = mailing_list.id
        self.source = source
        postgres = is_postgres(session)
        self._newcomers = (
            Newcomers(session, mailing_list.id, source, trust_fresh_keys=trust_fresh_keys)
            if postgres
            else None
        )
        self.reader = Session(bind=session.get_bind()) if postgres else session
        self.separate_reader = self.reader is not session

    def close(self) -> None:
        """Give back the reading session's connection."""
        if self.separate_reader:
            self.reader.close()

    def plan(self, records: Sequence[Record]) -> Plan:
        """Look the chunk up and decide each record (reads only)."""
        now = clock.now()
        blocked = self._suppressed(records)
        known = self._known(records)
        statuses = self._statuses([k.id for k in known.values()])
        if self.separate_reader:
            self.reader.rollback()  # end the read-only transaction: no snapshot held while writing
        plan = Plan(now, [], [], [], [])
        for record in records:
            current = known.get(record.email)
            status = statuses.get(current.id) if current else None
            if record.hash in blocked or status == "unsubscribed":
                plan.decisions.append(Decision("suppressed", blocked.get(record.hash, UNSUBSCRIBED)))
            elif current is None:
                plan.fresh.append(record)
                plan.decisions.append(_ADDED)
            else:
                change = _merge(current, record, now)
                if change:
                    plan.changes.append(change)
                if status is None:
                    plan.joining.append(record.email)
                plan.decisions.append(_ADDED if status is None else _UPDATED if change else _UNCHANGED)
        return plan

    def apply(self, plan: Plan) -> None:
        """Write a planned chunk and commit it."""
        joining = list(plan.joining)
        if plan.changes:
            self.session.execute(update(Subscriber), plan.changes)
        if self._newcomers is not None:
            joining += self._newcomers.add(plan.fresh, plan.now)
        else:
            self._insert_subscribers(plan.fresh, plan.now)
            joining += [r.email for r in plan.fresh]
        self._join(joining, plan.now)
        self.session.commit()

    def _suppressed(self, records: Sequence[Record]) -> dict[str, str]:
        query = select(Suppression.email_hash, Suppression.reason, Suppression.list_id).where(
            among_strings(self.reader, Suppression.email_hash, [r.hash for r in records]),
            or_(Suppression.list_id.is_(None), Suppression.list_id == self.list_id),
        )
        found: dict[str, list[tuple[str, bool]]] = {}
        for digest, reason, list_id in self.reader.execute(query):
            found.setdefault(digest, []).append((reason, list_id is None))
        return {digest: _reason(pairs) for digest, pairs in found.items()}

    def _known(self, records: Sequence[Record]) -> dict[str, _Known]:
        query = select(Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.attributes).where(
            among_strings(self.reader, Subscriber.email, [r.email for r in records])
        )
        return {
            email: _Known(id_, name, dict(attrs or {}))
            for id_, email, name, attrs in self.reader.execute(query)
        }

    def _statuses(self, subscriber_ids: list[int]) -> dict[int, str]:
        if not subscriber_ids:
            return {}
        query = select(Subscription.subscriber_id, Subscription.status).where(
            Subscription.list_id == self.list_id,
            among(self.reader, Subscription.subscriber_id, subscriber_ids),
        )
        return dict(self.reader.execute(query).all())

    def _insert_subscribers(self, records: list[Record], now: datetime) -> None:
        if not records:
            return
        bulk = BulkInsert(self.session, Subscriber.__table__, _SUBSCRIBER_COLUMNS, ["email"])
        when = bulk.convert("created_at", now)
        public_ids = new_public_ids(len(records))
        bulk.run(
            [
                (public_id, r.email, r.hash, r.name, json_text(r.attributes), "enabled", when, when)
                for public_id, r in zip(public_ids, records, strict=True)
            ]
        )

    def _join(self, emails: list[str], now: datetime) -> None:
        """Active subscriptions for these people, each with its import consent evidence (in SQL)."""
        if not emails:
            return
        people = among_strings(self.session, Subscriber.email, emails)
        joins = (
            dialect_insert(self.session, Subscription.__table__)
            .from_select(
                ["subscriber_id", "list_id", "status", "created_at", "subscribed_at", "updated_at"],
                select(
                    Subscriber.id, _value(self.list_id), _value("active"), *[_value(now, UTCDateTime())] * 3
                ).where(people),
            )
            .on_conflict_do_nothing(index_elements=["subscriber_id", "list_id"])
        )
        self.session.execute(joins)
        evidence = insert(ConsentEvidence).from_select(
            ["subscriber_id", "list_id", "action", "method", "source", "created_at"],
            select(
                Subscriber.id,
                _value(self.list_id),
                _value("subscribe"),
                _value("import"),
                _value(self.source[:255]),
                _value(now, UTCDateTime()),
            ).where(people),
        )
        self.session.execute(evidence)


def _value(value: Any, type_: Any = None) -> Any:
    return literal(value, type_) if type_ is not None else literal(value)


def _reason(pairs: list[tuple[str, bool]]) -> str:
    reason, is_global = worst(pairs) or pairs[0]
    return describe(reason, is_global)


def _merge(known: _Known, record: Record, now: datetime) -> dict[str, Any] | None:
    name = record.name or known.name
    attributes = {**known.attributes, **record.attributes}
    if name == known.name and attributes == known.attributes:
        return None
    return {"id": known.id, "name": name, "attributes": attributes, "updated_at": now}
