"""Delivery batches may be `claimed`: held by a worker one batch ahead, nothing of it sent yet.

On PostgreSQL a worker claims the next batch while the current one is being built, so the database
works while the worker does; the claim becomes `sending` in the commit that records the previous
batch's outcomes. A stopped worker's `claimed` batches go back to pending (never to unknown).
Downgrading turns any `claimed` batch back to pending first.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_batches") as batch:
        batch.drop_constraint(op.f("ck_delivery_batches_state"), type_="check")
        batch.create_check_constraint(
            op.f("ck_delivery_batches_state"), "state IN ('pending', 'claimed', 'sending', 'done')"
        )


def downgrade() -> None:
    op.execute(
        "UPDATE delivery_batches SET state = 'pending', holder = NULL, attempts = attempts - 1 "
        "WHERE state = 'claimed'"
    )
    with op.batch_alter_table("delivery_batches") as batch:
        batch.drop_constraint(op.f("ck_delivery_batches_state"), type_="check")
        batch.create_check_constraint(
            op.f("ck_delivery_batches_state"), "state IN ('pending', 'sending', 'done')"
        )
