"""The mapped tables (SQLAlchemy 2.0 typed classes) sharing one DeclarativeBase and naming convention."""

from __future__ import annotations

import base64
import secrets
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SUBSCRIBER_STATUSES = ("enabled", "blocklisted")
LIST_VISIBILITIES = ("public", "private")
OPT_INS = ("single", "double")
SUBSCRIPTION_STATUSES = ("unconfirmed", "active", "unsubscribed")
CONSENT_ACTIONS = ("subscribe", "confirm", "unsubscribe")
SUPPRESSION_REASONS = ("unsubscribed", "hard_bounce", "spam_complaint", "manual", "erased")

EMAIL_LENGTH = 320
NAME_LENGTH = 200

Id = BigInteger().with_variant(Integer(), "sqlite")
"""Primary and foreign keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite."""

JSONData = JSON().with_variant(JSONB(), "postgresql")


PUBLIC_ID_RANDOM_BYTES = 12
"""96 random bits after a 12-hex-digit millisecond prefix: 28 characters, unguessable."""


def new_public_id() -> str:
    """A random, unguessable id for public URLs and tokens (never a primary key)."""
    return new_public_ids(1)[0]


def new_public_ids(count: int) -> list[str]:
    """`count` public ids: a time prefix (so index inserts cluster) and 96 random bits each."""
    prefix = f"{time.time_ns() // 1_000_000:012x}"
    text = base64.urlsafe_b64encode(secrets.token_bytes(PUBLIC_ID_RANDOM_BYTES * count)).decode("ascii")
    size = PUBLIC_ID_RANDOM_BYTES * 4 // 3
    return [prefix + text[start : start + size] for start in range(0, size * count, size)]


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use newsletter.clock.now()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """The one declarative base; later stages add their tables to the same metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Subscriber(Base):
    """A person, identified by a normalised (lower-case) email address."""

    __tablename__ = "subscribers"
    __table_args__ = (CheckConstraint(_in("status", SUBSCRIBER_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    email_hash: Mapped[str] = mapped_column(String(64))  # joins suppressions; unique via email
    name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="enabled")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MailingList(Base):
    """A list people subscribe to: public or private, single or double opt-in."""

    __tablename__ = "lists"
    __table_args__ = (
        CheckConstraint(_in("visibility", LIST_VISIBILITIES), name="visibility"),
        CheckConstraint(_in("opt_in", OPT_INS), name="opt_in"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(8), default="public")
    opt_in: Mapped[str] = mapped_column(String(8), default="single")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def double_opt_in(self) -> bool:
        """Whether new subscribers must confirm by email."""
        return self.opt_in == "double"


class Subscription(Base):
    """One person's membership of one list, with its status and when it changed."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint(_in("status", SUBSCRIPTION_STATUSES), name="status"),
        Index("ix_subscriptions_list_status_subscriber", "list_id", "status", "subscriber_id"),
        {"sqlite_with_rowid": False},  # one b-tree keyed by (subscriber_id, list_id)
    )

    subscriber_id: Mapped[int] = mapped_column(
        Id, ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    list_id: Mapped[int] = mapped_column(Id, ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    subscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsentEvidence(Base):
    """Append-only proof of consent given or withdrawn: when, how, from where, which text."""

    __tablename__ = "consent_evidence"
    __table_args__ = (CheckConstraint(_in("action", CONSENT_ACTIONS), name="action"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        Id, ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    list_id: Mapped[int | None] = mapped_column(Id, ForeignKey("lists.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(255), default="")
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Suppression(Base):
    """An address that must not be mailed (globally when list_id is None), by sha256 of it."""

    __tablename__ = "suppressions"
    __table_args__ = (
        CheckConstraint(_in("reason", SUPPRESSION_REASONS), name="reason"),
        Index("ix_suppressions_email_hash_list_id", "email_hash", "list_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    list_id: Mapped[int | None] = mapped_column(Id, ForeignKey("lists.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------- sending (schedule and deliver stages)


class SendStatus(StrEnum):
    """Where a send is; `schedule.states.transition` is the only way to move it (its table says how)."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"
    FAILED = "failed"


SEND_STATUSES = tuple(SendStatus)
DELIVERY_STATUSES = ("pending", "sending", "accepted", "failed", "unknown", "skipped")
"""A row waits `pending` (also while its batch is in flight), then is settled; "sending" is no longer
written (rows of the pre-batch design; migration 0005 turned any left into "unknown")."""
BATCH_STATES = ("pending", "claimed", "sending", "done")


class Send(Base):
    """One rendered issue (snapshot taken when scheduled) to one or more lists, or a test send."""

    __tablename__ = "sends"
    __table_args__ = (
        CheckConstraint(_in("status", SEND_STATUSES), name="status"),
        Index("ix_sends_status_scheduled_at", "status", "scheduled_at"),
    )
    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012 (no RETURNING of hide_from_archive, below)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    issue_slug: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(Text)
    preheader: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    publication: Mapped[dict[str, Any]] = mapped_column(JSONData)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    is_test: Mapped[bool] = mapped_column(default=False)
    test_recipients: Mapped[list[str]] = mapped_column(JSONData, default=list)
    transport: Mapped[str] = mapped_column(String(16))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    materialized: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Kept out of the public archive and feed even when every list it goes to is public (a server default
    # only, and deferred, so loading and inserting sends that do not touch it also work before revision 0008).
    hide_from_archive: Mapped[bool] = mapped_column(server_default=false(), deferred=True)


class SendList(Base):
    """Which lists a send goes to."""

    __tablename__ = "send_lists"

    send_id: Mapped[int] = mapped_column(Id, ForeignKey("sends.id", ondelete="CASCADE"), primary_key=True)
    list_id: Mapped[int] = mapped_column(Id, ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True)


class Delivery(Base):
    """One recipient of one send: unique per (send, address); sent as part of a `DeliveryBatch`, then marked.

    `status` is in no index, so marking a row (and event ingestion) updates it in place on PostgreSQL
    (a HOT update: the table has fillfactor 50, leaving room on each page). (send_id, domain) serves
    the report by mailbox provider and erasure's per-domain counts.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
        Index("uq_deliveries_send_id_email", "send_id", "email", unique=True),
        Index("ix_deliveries_send_id_domain", "send_id", "domain"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    send_id: Mapped[int] = mapped_column(Id, ForeignKey("sends.id", ondelete="CASCADE"))
    # No foreign key: a log (checking one per row was half the cost of starting a send on
    # PostgreSQL). Erasure sets it to NULL; a claim skips a row whose subscriber is gone.
    subscriber_id: Mapped[int | None] = mapped_column(Id, index=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    domain: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[str | None] = mapped_column(Text)
    # Set by event ingestion (events stage): the provider's last word and a bit per event kind seen.
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event_flags: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DeliveryBatch(Base):
    """A run of a send's consecutive delivery rows (ids `first_id`..`last_id`) claimed and sent together.

    A send's batches are cut once, when it starts, and never overlap: a worker claims one batch (one row
    locked FOR UPDATE SKIP LOCKED on PostgreSQL) instead of a thousand delivery rows. `state` is
    pending → sending (claimed by `holder`, committed before the request goes) → done; a batch with
    rows to retry goes back to pending until `not_before`. Only the batch's rows still `pending` are sent.
    On PostgreSQL a worker claims one batch ahead: `claimed` (held, rows read, nothing sent) becomes
    `sending` in the commit that records the previous batch's outcomes; a stopped worker's `claimed`
    batches go back to pending, never to unknown.
    """

    __tablename__ = "delivery_batches"
    __table_args__ = (
        CheckConstraint(_in("state", BATCH_STATES), name="state"),
        Index("ix_delivery_batches_send_id_state_id", "send_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    send_id: Mapped[int] = mapped_column(Id, ForeignKey("sends.id", ondelete="CASCADE"))
    first_id: Mapped[int] = mapped_column(Id)
    last_id: Mapped[int] = mapped_column(Id)
    size: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    holder: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkerLease(Base):
    """Who may claim deliveries of a send on SQLite (one leased worker at a time), until when."""

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------- events and reports (events stage)


class Event(Base):
    """One provider event (SendGrid webhook), stored once by sg_event_id, linked to its delivery if known.

    The address itself is not kept: `email_hash` (as in suppressions) and `domain` are. `detail` holds
    every other field SendGrid sent (unknown ones included); `suppression` is the reason this event
    suppressed the address with, if it did (the evidence behind a source="sendgrid-webhook" suppression);
    those events are indexed by `email_hash` (only those: a full index would slow ingestion).

    Events are a log: `send_id`/`delivery_id` have no foreign keys (checking two per row was a large share
    of ingestion's time on PostgreSQL). Ingestion sets them only to a delivery that exists and its send; the
    rows outlive a deleted send or delivery, keeping their ids.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_send_id_type", "send_id", "type"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    sg_event_id: Mapped[str] = mapped_column(String(128), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    send_id: Mapped[int | None] = mapped_column(Id)
    delivery_id: Mapped[int | None] = mapped_column(Id, index=True)
    email_hash: Mapped[str | None] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(255), default="")
    sg_message_id: Mapped[str | None] = mapped_column(String(255))
    bounce_type: Mapped[str | None] = mapped_column(String(16))
    classification: Mapped[str | None] = mapped_column(String(64))
    machine_open: Mapped[bool | None] = mapped_column()
    url: Mapped[str | None] = mapped_column(Text)
    suppression: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)


Index(
    "ix_events_email_hash_suppressing",
    Event.email_hash,
    sqlite_where=Event.suppression.is_not(None),
    postgresql_where=Event.suppression.is_not(None),
)


class SendCounter(Base):
    """A running figure of one send (name, key → value): report figures kept by event ingestion, and
    the send's delivery rows per status (name "status", key the status: `db.counters`).

    Reports read these few rows instead of counting millions of events; ingestion adds to them in the
    same transaction that stores the events, so they always agree with the events table. Likewise every
    write that makes delivery rows or changes their status moves the status counters in its transaction.
    """

    __tablename__ = "send_counters"

    send_id: Mapped[int] = mapped_column(Id, ForeignKey("sends.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(1000), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# ---------------------------------------------------------------- staff accounts (web shell)

STAFF_ROLES = ("editor", "publisher", "operations", "admin")


class StaffUser(Base):
    """A person who signs in to the staff web app: an argon2 password hash and one role."""

    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint(_in("role", STAFF_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # TOTP (RFC 6238): the base32 secret once confirmed; a new one waits in `totp_pending` until its first
    # code is typed; `totp_last_step` is the last time step accepted, so a code is never used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_pending: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class StaffSession(Base):
    """A signed-in browser: the cookie holds a random token, the table only its sha256.

    Deleting the row ends the session at once (logout, password change, deactivation).
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(Id, ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class StaffRecoveryCode(Base):
    """One single-use recovery code of an account's second factor (only its sha256 is kept)."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    staff_id: Mapped[int] = mapped_column(Id, ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffPolicy(Base):
    """Account rules an admin sets in the app (name → value), e.g. `require_totp` = "1"."""

    __tablename__ = "staff_policy"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(320), default="")


# ---------------------------------------------------------------- audit log (kernel: db.audit writes it)


class AuditEntry(Base):
    """One staff action: who (`actor`, `actor_kind`), when, what (`action`, `target`, `detail`), from where.

    Append-only: `db.audit.record` is the only writer, and database triggers refuse UPDATE and DELETE.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_actor_occurred_at", "actor", "occurred_at"),
        Index("ix_audit_log_address_action_occurred_at", "address", "action", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    actor_kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(255), default="")
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(EMAIL_LENGTH), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)


# ---------------------------------------------------------------- saved segments (audience stage)


class SavedSegment(Base):
    """A named segment: an expression in the segment language (docs/segments.md), optionally on one list.

    The expression is checked against `publication`'s declared attributes when saved and again each
    time it is used (a declaration may have changed); who matches is always counted live.
    """

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    expression: Mapped[str] = mapped_column(Text)
    publication: Mapped[str] = mapped_column(String(100))
    list_id: Mapped[int | None] = mapped_column(Id, ForeignKey("lists.id"))
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


Index(
    "ix_subscribers_attributes",
    Subscriber.attributes,
    postgresql_using="gin",
    postgresql_ops={"attributes": "jsonb_path_ops"},
).ddl_if(dialect="postgresql")
"""Segments' attribute equality (`attributes @> '{"role": "clinician"}'`) on PostgreSQL; none on SQLite."""
