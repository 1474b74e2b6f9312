"""Addresses stored with their domain in ASCII (IDNA): `user@bücher.de` becomes `user@xn--bcher-kva.de`.

Rewrites the address text in `subscribers`, `suppressions` and `deliveries`. Hashes do not change:
they are taken over the Unicode form of the domain (the form every hash so far was taken over), so
suppressions of erased people, which keep no address, still match. `deliveries.domain` and the
per-domain report counters keep the label they were counted under.

Two subscribers whose addresses become the same (one stored each way) are one person and are merged
into one row: the one already in ASCII form, else the older. Its name and attributes win, the other
fills gaps; memberships are joined per list, the most restrictive status winning (unsubscribed over
unconfirmed over active; consent withdrawn under either spelling stands); consent evidence and
deliveries move to it; its status is blocklisted if either was. Each merge is logged. A delivery
whose new address is already held by another delivery of its send is left as it is (and logged).
The downgrade writes domains back in Unicode form; merges are not undone. Run it with the workers
stopped (as every migration): a send's pending rows are rewritten too.

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import idna
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
STRICTNESS = {"active": 0, "unconfirmed": 1, "unsubscribed": 2}
_BATCH = 1000


def upgrade() -> None:
    connection = op.get_bind()
    _merge_or_rename_subscribers(connection)
    _rewrite(connection, "suppressions", _to_ascii)
    _rewrite(connection, "deliveries", _to_ascii, unique_within="send_id")


def downgrade() -> None:
    connection = op.get_bind()
    _rewrite(connection, "subscribers", _to_unicode, where_ascii=True)
    _rewrite(connection, "suppressions", _to_unicode, where_ascii=True)
    _rewrite(connection, "deliveries", _to_unicode, where_ascii=True, unique_within="send_id")


def _to_ascii(address: str) -> str:
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii').lower()}"
    except (idna.IDNAError, UnicodeError):
        return address  # not a domain IDNA can carry: left for a person to look at


def _to_unicode(address: str) -> str:
    local, at, domain = address.rpartition("@")
    if not at or "xn--" not in domain:
        return address
    try:
        return f"{local}@{idna.decode(domain).lower()}"
    except (idna.IDNAError, UnicodeError):
        return address


def _candidates(connection: Any, table: str, *, where_ascii: bool, extra: str = "") -> Iterator[Any]:
    """Rows whose address may change: non-ASCII text (upgrade), or an `xn--` label (downgrade)."""
    if where_ascii:
        condition = "email LIKE '%@%xn--%'"
    elif connection.dialect.name == "postgresql":
        condition = "octet_length(email) <> char_length(email)"
    else:
        condition = "length(CAST(email AS BLOB)) <> length(email)"
    query = sa.text(
        f"SELECT id, email{extra} FROM {table} WHERE email IS NOT NULL AND {condition} ORDER BY id"  # noqa: S608
    )
    yield from connection.execute(query).all()


def _rewrite(
    connection: Any,
    table: str,
    convert: Any,
    *,
    where_ascii: bool = False,
    unique_within: str | None = None,
) -> None:
    """Rewrite each candidate row's address; with `unique_within`, skip rows whose new address is taken."""
    extra = f", {unique_within}" if unique_within else ""
    changes = []
    for row in _candidates(connection, table, where_ascii=where_ascii, extra=extra):
        new = convert(row.email)
        if new == row.email:
            continue
        if unique_within is not None:
            taken = connection.execute(
                sa.text(f"SELECT 1 FROM {table} WHERE {unique_within} = :scope AND email = :email"),  # noqa: S608
                {"scope": getattr(row, unique_within), "email": new},
            ).first()
            if taken is not None:
                log.warning(
                    "%s row %s keeps %r: its %s already has %r", table, row.id, row.email, unique_within, new
                )
                continue
        changes.append({"row_id": row.id, "email": new})
    update = sa.text(f"UPDATE {table} SET email = :email WHERE id = :row_id")  # noqa: S608
    for start in range(0, len(changes), _BATCH):
        connection.execute(update, changes[start : start + _BATCH])


def _merge_or_rename_subscribers(connection: Any) -> None:
    for row in _candidates(connection, "subscribers", where_ascii=False):
        new = _to_ascii(row.email)
        if new == row.email:
            continue
        other = connection.execute(sa.text("SELECT id FROM subscribers WHERE email = :e"), {"e": new}).first()
        if other is None:
            connection.execute(
                sa.text("UPDATE subscribers SET email = :e WHERE id = :i"), {"e": new, "i": row.id}
            )
            continue
        keeper, merged = other.id, row.id  # the row already in ASCII form is kept
        _merge(connection, keeper, merged)
        log.warning(
            "subscriber %s (%r) merged into subscriber %s (%r): one address", merged, row.email, keeper, new
        )


def _merge(connection: Any, keeper: int, merged: int) -> None:
    """Move everything of subscriber `merged` to `keeper`, then delete `merged`."""
    people = sa.table(
        "subscribers",
        sa.column("id"),
        sa.column("name"),
        sa.column("attributes", sa.JSON().with_variant(JSONB(), "postgresql")),
        sa.column("status"),
        sa.column("created_at"),
    )
    rows = {r.id: r for r in connection.execute(sa.select(people).where(people.c.id.in_([keeper, merged])))}
    kept, gone = rows[keeper], rows[merged]
    connection.execute(
        people.update()
        .where(people.c.id == keeper)
        .values(
            name=kept.name or gone.name,
            attributes={**(gone.attributes or {}), **(kept.attributes or {})},
            status="blocklisted" if "blocklisted" in (kept.status, gone.status) else kept.status,
            created_at=min(kept.created_at, gone.created_at),
        )
    )
    _join_memberships(connection, keeper, merged)
    for statement in (
        "UPDATE consent_evidence SET subscriber_id = :k WHERE subscriber_id = :m",
        "UPDATE deliveries SET subscriber_id = :k WHERE subscriber_id = :m",
        "DELETE FROM subscriptions WHERE subscriber_id = :m",
        "DELETE FROM subscribers WHERE id = :m",
    ):
        connection.execute(sa.text(statement), {"k": keeper, "m": merged})


def _join_memberships(connection: Any, keeper: int, merged: int) -> None:
    """The merged person's memberships become the keeper's; per list, the more restrictive one stands."""
    columns = "subscriber_id, list_id, status, subscribed_at, unsubscribed_at, updated_at"
    rows = connection.execute(
        sa.text(f"SELECT {columns} FROM subscriptions WHERE subscriber_id IN (:k, :m)"),  # noqa: S608
        {"k": keeper, "m": merged},
    ).all()
    held = {row.list_id: row for row in rows if row.subscriber_id == keeper}
    for row in rows:
        if row.subscriber_id != merged:
            continue
        mine = held.get(row.list_id)
        if mine is None:
            connection.execute(
                sa.text(
                    "UPDATE subscriptions SET subscriber_id = :k WHERE subscriber_id = :m AND list_id = :l"
                ),
                {"k": keeper, "m": merged, "l": row.list_id},
            )
        elif STRICTNESS[row.status] > STRICTNESS[mine.status]:
            connection.execute(
                sa.text(
                    "UPDATE subscriptions SET status = :s, subscribed_at = :sa, unsubscribed_at = :ua, "
                    "updated_at = :up WHERE subscriber_id = :k AND list_id = :l"
                ),
                {
                    "s": row.status,
                    "sa": row.subscribed_at,
                    "ua": row.unsubscribed_at,
                    "up": row.updated_at,
                    "k": keeper,
                    "l": row.list_id,
                },
            )
