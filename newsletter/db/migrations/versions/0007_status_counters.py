"""Delivery-status counters: each send's rows per status kept in `send_counters` (name "status").

Listing sends counted their delivery rows by status with a GROUP BY over `deliveries`; with `status`
in no index (0005) that read every row of every listed send. From here on every write that makes
delivery rows or changes their status adds to these counters in its own transaction; this revision
counts the rows already there, once. Run it with the workers stopped (as every migration): a worker
of the previous version would change statuses without moving the counters.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO send_counters (send_id, name, key, value) "
        "SELECT send_id, 'status', status, count(*) FROM deliveries GROUP BY send_id, status"
    )


def downgrade() -> None:
    op.execute("DELETE FROM send_counters WHERE name = 'status'")
