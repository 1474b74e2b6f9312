"""Events: provider events stored once, per-send report counters, delivery outcome columns.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    name = op.f(f"fk_{table}_{column}_{target}")
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=name, ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", ID, nullable=False),
        sa.Column("sg_event_id", sa.String(128), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("occurred_at", WHEN, nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("send_id", ID, nullable=True),
        sa.Column("delivery_id", ID, nullable=True),
        sa.Column("email_hash", sa.String(64), nullable=True),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("sg_message_id", sa.String(255), nullable=True),
        sa.Column("bounce_type", sa.String(16), nullable=True),
        sa.Column("classification", sa.String(64), nullable=True),
        sa.Column("machine_open", sa.Boolean(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("suppression", sa.String(16), nullable=True),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("sg_event_id", name=op.f("uq_events_sg_event_id")),
    )
    op.create_index("ix_events_send_id_type", "events", ["send_id", "type"])
    op.create_index(op.f("ix_events_delivery_id"), "events", ["delivery_id"])
    op.create_index(
        "ix_events_email_hash_suppressing",
        "events",
        ["email_hash"],
        sqlite_where=sa.text("suppression IS NOT NULL"),
        postgresql_where=sa.text("suppression IS NOT NULL"),
    )
    op.create_table(
        "send_counters",
        sa.Column("send_id", ID, nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("key", sa.String(1000), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("send_id", "name", "key", name=op.f("pk_send_counters")),
        _fk("send_counters", "send_id", "sends", "CASCADE"),
    )
    op.add_column("deliveries", sa.Column("outcome", sa.String(16), nullable=True))
    op.add_column("deliveries", sa.Column("outcome_at", WHEN, nullable=True))
    op.add_column(
        "deliveries", sa.Column("event_flags", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )
    op.create_index("ix_deliveries_send_id_domain_status", "deliveries", ["send_id", "domain", "status"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_send_id_domain_status", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("event_flags")
        batch.drop_column("outcome_at")
        batch.drop_column("outcome")
    op.drop_table("send_counters")
    op.drop_table("events")
