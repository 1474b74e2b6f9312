"""Audience: subscribers, lists, subscriptions, consent evidence and suppressions.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = sa.DateTime(timezone=True)


def _check(table: str, name: str, column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    allowed = ", ".join(repr(v) for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{name}"))


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", ID, nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribers")),
        sa.UniqueConstraint("public_id", name=op.f("uq_subscribers_public_id")),
        sa.UniqueConstraint("email", name=op.f("uq_subscribers_email")),
        _check("subscribers", "status", "status", ("enabled", "blocklisted")),
    )
    op.create_table(
        "lists",
        sa.Column("id", ID, nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(8), nullable=False),
        sa.Column("opt_in", sa.String(8), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lists")),
        sa.UniqueConstraint("public_id", name=op.f("uq_lists_public_id")),
        sa.UniqueConstraint("name", name=op.f("uq_lists_name")),
        _check("lists", "visibility", "visibility", ("public", "private")),
        _check("lists", "opt_in", "opt_in", ("single", "double")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("subscriber_id", ID, nullable=False),
        sa.Column("list_id", ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("subscribed_at", WHEN, nullable=True),
        sa.Column("unsubscribed_at", WHEN, nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("subscriber_id", "list_id", name=op.f("pk_subscriptions")),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_subscriptions_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["lists.id"], name=op.f("fk_subscriptions_list_id_lists"), ondelete="CASCADE"
        ),
        _check("subscriptions", "status", "status", ("unconfirmed", "active", "unsubscribed")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_subscriptions_list_status_subscriber",
        "subscriptions",
        ["list_id", "status", "subscriber_id"],
    )
    _consent_and_suppressions()


def _consent_and_suppressions() -> None:
    op.create_table(
        "consent_evidence",
        sa.Column("id", ID, nullable=False),
        sa.Column("subscriber_id", ID, nullable=False),
        sa.Column("list_id", ID, nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("consent_text", sa.Text(), nullable=True),
        sa.Column("consent_version", sa.String(64), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_evidence")),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_consent_evidence_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["lists.id"],
            name=op.f("fk_consent_evidence_list_id_lists"),
            ondelete="SET NULL",
        ),
        _check("consent_evidence", "action", "action", ("subscribe", "confirm", "unsubscribe")),
    )
    op.create_index(op.f("ix_consent_evidence_subscriber_id"), "consent_evidence", ["subscriber_id"])
    op.create_table(
        "suppressions",
        sa.Column("id", ID, nullable=False),
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("list_id", ID, nullable=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
        sa.ForeignKeyConstraint(
            ["list_id"], ["lists.id"], name=op.f("fk_suppressions_list_id_lists"), ondelete="CASCADE"
        ),
        _check(
            "suppressions",
            "reason",
            "reason",
            ("unsubscribed", "hard_bounce", "spam_complaint", "manual", "erased"),
        ),
    )
    op.create_index("ix_suppressions_email_hash_list_id", "suppressions", ["email_hash", "list_id"])


def downgrade() -> None:
    op.drop_table("suppressions")
    op.drop_table("consent_evidence")
    op.drop_table("subscriptions")
    op.drop_table("lists")
    op.drop_table("subscribers")
