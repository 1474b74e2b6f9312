"""Delivery batches: workers claim a batch row instead of each delivery row; deliveries updated in place.

The claim columns leave `deliveries` (claimed_by, claimed_at, not_before: they live on the batch now),
and so do the two indexes holding `status` ((send_id, domain) replaces one), so marking a row no
longer rewrites every index; on PostgreSQL the table keeps half of each new page free for those
in-place (HOT) updates. `deliveries.subscriber_id` loses its foreign key (a per-row check that was
half the cost of starting a send on PostgreSQL): the sending log keeps the id, erasure clears it. Rows a
worker of the old design left `sending` were in flight when it stopped: they become `unknown`, as
that worker would have recorded them on restart. Sends already started are cut into batches by the
next worker that runs them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)
UNKNOWN_AFTER_CRASH = "the worker stopped while this request was in flight; outcome unknown until reconciled"


def upgrade() -> None:
    op.create_table(
        "delivery_batches",
        sa.Column("id", ID, nullable=False),
        sa.Column("send_id", ID, nullable=False),
        sa.Column("first_id", ID, nullable=False),
        sa.Column("last_id", ID, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(100), nullable=True),
        sa.Column("claimed_at", WHEN, nullable=True),
        sa.Column("not_before", WHEN, nullable=True),
        sa.CheckConstraint("state IN ('pending', 'sending', 'done')", name=op.f("ck_delivery_batches_state")),
        sa.ForeignKeyConstraint(
            ["send_id"],
            ["sends.id"],
            name=op.f("fk_delivery_batches_send_id_sends"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_batches")),
    )
    op.create_index("ix_delivery_batches_send_id_state_id", "delivery_batches", ["send_id", "state", "id"])
    deliveries = sa.table("deliveries", sa.column("status", sa.String), sa.column("detail", sa.Text))
    op.execute(
        deliveries.update()
        .where(deliveries.c.status == "sending")
        .values(status="unknown", detail=UNKNOWN_AFTER_CRASH)
    )
    op.drop_index("ix_deliveries_send_id_status_id", table_name="deliveries")
    op.drop_index("ix_deliveries_send_id_domain_status", table_name="deliveries")
    op.create_index("ix_deliveries_send_id_domain", "deliveries", ["send_id", "domain"])
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("fk_deliveries_subscriber_id_subscribers", type_="foreignkey")
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
        batch.drop_column("not_before")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE deliveries SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE deliveries RESET (fillfactor)")
    op.execute(  # ids of people deleted since: the foreign key coming back would refuse them
        "UPDATE deliveries SET subscriber_id = NULL "
        "WHERE subscriber_id IS NOT NULL AND subscriber_id NOT IN (SELECT id FROM subscribers)"
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("not_before", WHEN, nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("claimed_at", WHEN, nullable=True))
        batch.create_foreign_key(
            "fk_deliveries_subscriber_id_subscribers",
            "subscribers",
            ["subscriber_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.drop_index("ix_deliveries_send_id_domain", table_name="deliveries")
    op.create_index("ix_deliveries_send_id_domain_status", "deliveries", ["send_id", "domain", "status"])
    op.create_index("ix_deliveries_send_id_status_id", "deliveries", ["send_id", "status", "id"])
    op.drop_index("ix_delivery_batches_send_id_state_id", table_name="delivery_batches")
    op.drop_table("delivery_batches")
