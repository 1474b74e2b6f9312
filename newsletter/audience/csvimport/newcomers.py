"""People new to the database, written on PostgreSQL: COPY, then one statement adds them, joins and evidence.

An import chunk's new people are copied into a temporary table (psycopg's COPY, formatted in C),
and one statement inserts them into `subscribers`, their memberships (plain INSERT: nobody else
can see these rows yet, so no conflict is possible) and their consent evidence.

Foreign-key checks were about half of the database's time per person (two per membership, two per
evidence row; each is a row lookup and lock). For these rows they prove nothing: every
`subscriber_id` comes from the RETURNING of the same statement (rows no other transaction can see,
so none can delete them) and the list row is locked FOR KEY SHARE for the transaction first. So,
when the database role may set `session_replication_role` (superuser, or PostgreSQL 15's
`GRANT SET ON PARAMETER session_replication_role`), that one statement runs with it set to
`replica`, which skips the foreign-key triggers; the constraints stay, and every other write
(existing people joining the list, later changes) is checked as usual. Without the privilege the
statement runs checked, only slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from newsletter.audience.csvimport.staging import Record
from newsletter.db.bulk import json_text
from newsletter.db.tables import new_public_ids
from newsletter.db.triggers import foreign_keys_proven, may_skip_triggers
from newsletter.errors import NotFound

_TEMP = "import_newcomers"
_CREATE = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {_TEMP} "
    "(public_id text, email text, email_hash text, name text, attributes text) ON COMMIT DELETE ROWS"
)
_ADD = f"""
WITH new AS (
    INSERT INTO subscribers (public_id, email, email_hash, name, attributes, status, created_at, updated_at)
    SELECT public_id, email, email_hash, name, attributes::jsonb, 'enabled', %(now)s, %(now)s FROM {_TEMP}
    ON CONFLICT (email) DO NOTHING
    RETURNING id, email
), joined AS (
    INSERT INTO subscriptions (subscriber_id, list_id, status, created_at, subscribed_at, updated_at)
    SELECT id, %(list_id)s, 'active', %(now)s, %(now)s, %(now)s FROM new
), evidence AS (
    INSERT INTO consent_evidence (subscriber_id, list_id, action, method, source, created_at)
    SELECT id, %(list_id)s, 'subscribe', 'import', %(source)s, %(now)s FROM new
)
SELECT email FROM {_TEMP} WHERE email NOT IN (SELECT email FROM new)
"""  # noqa: S608 (the table name is ours)


class Newcomers:
    """Adds people new to the database to one list, a chunk at a time, inside the caller's transaction."""

    def __init__(
        self, session: Session, list_id: int, source: str, *, trust_fresh_keys: bool | None = None
    ) -> None:
        self.session = session
        self.list_id = list_id
        self.source = source[:255]
        if trust_fresh_keys is None:
            with self._cursor() as cursor:
                trust_fresh_keys = may_skip_triggers(cursor)
        self.trust_fresh_keys = trust_fresh_keys

    def add(self, records: Sequence[Record], now: datetime) -> list[str]:
        """Insert these people, join them with evidence; return addresses someone else added meanwhile."""
        if not records:
            return []
        with self._cursor() as cursor:
            cursor.execute(_CREATE)  # per chunk: each commit may hand the session another pooled connection
            with cursor.copy(f"COPY {_TEMP} FROM STDIN") as copy:
                for public_id, record in zip(new_public_ids(len(records)), records, strict=True):
                    copy.write_row(
                        (public_id, record.email, record.hash, record.name, json_text(record.attributes))
                    )
            if self.trust_fresh_keys:
                self._lock_list(cursor)
            with foreign_keys_proven(self.session, allowed=self.trust_fresh_keys):
                cursor.execute(_ADD, {"now": now, "list_id": self.list_id, "source": self.source})
                late = [email for (email,) in cursor.fetchall()]
            cursor.execute(f"DELETE FROM {_TEMP}")  # noqa: S608 (our table name)
        return late

    def _lock_list(self, cursor: Any) -> None:
        cursor.execute("SELECT id FROM lists WHERE id = %s FOR KEY SHARE", (self.list_id,))
        if cursor.fetchone() is None:
            raise NotFound("the list was deleted while the file was being imported")

    def _cursor(self) -> Any:
        return self.session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
