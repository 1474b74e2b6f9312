"""Sends lose `sendgrid_batch_id`: SendGrid's scheduled sends (send_at, batch ids) are not how we schedule.

The worker sends when a send is due (APScheduler only wakes it; the database records what was sent), so
nothing ever handed a send to SendGrid ahead of time and the column stayed empty. On SQLite the table is
recreated in batch mode (foreign keys unenforced during the migration, checked before it commits).
Downgrading adds the empty column back.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sends") as batch:
        batch.drop_column("sendgrid_batch_id")


def downgrade() -> None:
    with op.batch_alter_table("sends") as batch:
        batch.add_column(sa.Column("sendgrid_batch_id", sa.String(64), nullable=True))
