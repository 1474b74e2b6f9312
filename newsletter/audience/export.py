"""Exporting a list's members as CSV, formula-safe, streamed in keyset batches."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.audience.csv_cells import escape_cell
from newsletter.audience.csvimport.source import ATTRIBUTE_PREFIX, EXPORT_ONLY_HEADERS, NAME_HEADERS
from newsletter.audience.people.lists import get_list
from newsletter.db.tables import Subscriber, Subscription

FIXED_COLUMNS = ("email", "name", "status", "subscribed_at")
BATCH = 2_000

_Row = tuple[int, str, str | None, dict[str, Any], str, datetime | None]


def export_list(session: Session, list_name: str, out: TextIO) -> int:
    """Write every member of a list (with their status on it) to `out`; returns how many."""
    mailing_list = get_list(session, list_name)
    keys = sorted({key for row in _members(session, mailing_list.id) for key in row[3]})
    reserved = {*FIXED_COLUMNS, *EXPORT_ONLY_HEADERS, *NAME_HEADERS, "e-mail", "email address"}
    extra = [f"{ATTRIBUTE_PREFIX}{key}" if key in reserved else key for key in keys]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*FIXED_COLUMNS, *extra])
    count = 0
    for _id, email, name, attributes, status, subscribed_at in _members(session, mailing_list.id):
        stamp = subscribed_at.isoformat() if subscribed_at else ""
        cells = [email, name or "", status, stamp, *(str(attributes.get(k, "")) for k in keys)]
        writer.writerow([escape_cell(cell) for cell in cells])
        count += 1
    return count


def _members(session: Session, list_id: int) -> Iterator[_Row]:
    after = 0
    while True:
        query = (
            select(
                Subscriber.id,
                Subscriber.email,
                Subscriber.name,
                Subscriber.attributes,
                Subscription.status,
                Subscription.subscribed_at,
            )
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(Subscription.list_id == list_id, Subscriber.id > after)
            .order_by(Subscriber.id)
            .limit(BATCH)
        )
        rows = list(session.execute(query))
        if not rows:
            return
        yield from rows
        after = rows[-1][0]
