"""Sends: rendered-issue snapshots, their lists, one delivery row per recipient, worker leases.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = sa.DateTime(timezone=True)
SEND_STATUSES = ("draft", "scheduled", "sending", "paused", "sent", "cancelled", "failed")
DELIVERY_STATUSES = ("pending", "sending", "accepted", "failed", "unknown", "skipped")


def _check(table: str, column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    allowed = ", ".join(repr(v) for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{column}"))


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    name = op.f(f"fk_{table}_{column}_{target}")
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=name, ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "sends",
        sa.Column("id", ID, nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("issue_slug", sa.String(200), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("preheader", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("publication", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("is_test", sa.Boolean(), nullable=False),
        sa.Column("test_recipients", JSON, nullable=False),
        sa.Column("transport", sa.String(16), nullable=False),
        sa.Column("scheduled_at", WHEN, nullable=True),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("materialized", sa.Boolean(), nullable=False),
        sa.Column("sendgrid_batch_id", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sends")),
        sa.UniqueConstraint("public_id", name=op.f("uq_sends_public_id")),
        _check("sends", "status", SEND_STATUSES),
    )
    op.create_index("ix_sends_status_scheduled_at", "sends", ["status", "scheduled_at"])
    op.create_table(
        "send_lists",
        sa.Column("send_id", ID, nullable=False),
        sa.Column("list_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("send_id", "list_id", name=op.f("pk_send_lists")),
        _fk("send_lists", "send_id", "sends", "CASCADE"),
        _fk("send_lists", "list_id", "lists", "CASCADE"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("send_id", ID, nullable=False),
        sa.Column("subscriber_id", ID, nullable=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", WHEN, nullable=True),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_at", WHEN, nullable=True),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("provider_message_id", sa.String(255), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        _fk("deliveries", "send_id", "sends", "CASCADE"),
        _fk("deliveries", "subscriber_id", "subscribers", "SET NULL"),
        _check("deliveries", "status", DELIVERY_STATUSES),
    )
    op.create_index("uq_deliveries_send_id_email", "deliveries", ["send_id", "email"], unique=True)
    op.create_index("ix_deliveries_send_id_status_id", "deliveries", ["send_id", "status", "id"])
    op.create_index(op.f("ix_deliveries_subscriber_id"), "deliveries", ["subscriber_id"])
    op.create_table(
        "worker_leases",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("holder", sa.String(100), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_leases")),
    )


def downgrade() -> None:
    op.drop_table("worker_leases")
    op.drop_table("deliveries")
    op.drop_table("send_lists")
    op.drop_index("ix_sends_status_scheduled_at", table_name="sends")
    op.drop_table("sends")
