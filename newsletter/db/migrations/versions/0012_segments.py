"""Saved segments, and on PostgreSQL a GIN index on subscribers' attributes for segment conditions.

`segments` holds named expressions of the segment language (docs/segments.md), each optionally on one
list. The index (jsonb_path_ops: only containment, smaller than the default operator class) answers
`attributes @> '{"role": "clinician"}'`, which is how a segment's attribute equality is written on
PostgreSQL. SQLite has no such index: its segments read the JSON of each row.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTCDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", Id, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("publication", sa.String(100), nullable=False),
        sa.Column(
            "list_id", Id, sa.ForeignKey("lists.id", name=op.f("fk_segments_list_id_lists")), nullable=True
        ),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_subscribers_attributes",
            "subscribers",
            ["attributes"],
            postgresql_using="gin",
            postgresql_ops={"attributes": "jsonb_path_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_subscribers_attributes", table_name="subscribers")
    op.drop_table("segments")
