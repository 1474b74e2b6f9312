"""Writing a batch's outcomes to its delivery rows: one UPDATE per distinct outcome, not one per row.

A SendGrid request answers for up to 1000 recipients at once (same status, detail and message id), so
its rows are marked with `UPDATE ... WHERE id IN (...)`; rows whose values are their own (an outbox
file path, an SMTP reply) go in one executemany.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newsletter.audience.bulk import among
from newsletter.db.tables import Delivery
from newsletter.deliver.transport import DeliveryResult, chunked

Values = tuple[str, str | None, datetime | None, datetime | None, str | None]
"""(status, detail, not_before, sent_at, provider_message_id) of a marked row."""


def mark_results(
    session: Session,
    results: Sequence[DeliveryResult],
    *,
    now: datetime,
    max_attempts: int,
    retry_base_seconds: float,
) -> Counter[str]:
    """Mark each result's row (retry: pending again after a back-off, or failed after `max_attempts`)."""
    retrying = [r.delivery_id for r in results if r.outcome == "retry"]
    attempts: dict[int, int] = {}
    for chunk in chunked(retrying, 1000):
        query = select(Delivery.id, Delivery.attempts).where(among(session, Delivery.id, chunk))
        rows = session.execute(query)
        attempts.update((row[0], row[1]) for row in rows)
    # A request's verdict is shared by its rows: group by it first, work out the row values once per group.
    verdicts: dict[tuple[str, str, str | None], tuple[DeliveryResult, list[int]]] = {}
    groups: defaultdict[Values, list[int]] = defaultdict(list)
    for result in results:
        if result.outcome == "retry":
            values = _values(
                result, attempts.get(result.delivery_id, 1), now, max_attempts, retry_base_seconds
            )
            groups[values].append(result.delivery_id)
        else:
            key = (result.outcome, result.detail, result.provider_message_id)
            verdicts.setdefault(key, (result, []))[1].append(result.delivery_id)
    for verdict, ids in verdicts.values():
        groups[_values(verdict, 1, now, max_attempts, retry_base_seconds)].extend(ids)
    outcomes: Counter[str] = Counter()
    for values, ids in groups.items():
        outcomes["retry" if values[0] == "pending" else values[0]] += len(ids)
    singles = [_row(ids[0], values) for values, ids in groups.items() if len(ids) == 1]
    if singles:
        session.execute(update(Delivery), singles)
    for values, ids in groups.items():
        if len(ids) > 1:
            for chunk in chunked(ids, 1000):
                session.execute(
                    update(Delivery)
                    .where(among(session, Delivery.id, chunk))
                    .values(_row(None, values))
                    .execution_options(synchronize_session=False)
                )
    return outcomes


def _values(
    result: DeliveryResult, attempts: int, now: datetime, max_attempts: int, retry_base_seconds: float
) -> Values:
    detail = result.detail or None
    if result.outcome == "retry" and attempts >= max_attempts:
        return ("failed", f"gave up after {max_attempts} attempts: {result.detail}", None, None, None)
    if result.outcome == "retry":
        delay = retry_base_seconds * 2 ** (attempts - 1)
        return ("pending", detail, now + timedelta(seconds=delay), None, None)
    sent_at = now if result.outcome == "accepted" else None
    return (result.outcome, detail, None, sent_at, result.provider_message_id)


def _row(delivery_id: int | None, values: Values) -> dict[str, Any]:
    status, detail, not_before, sent_at, message_id = values
    row: dict[str, Any] = {} if delivery_id is None else {"id": delivery_id}
    row.update(
        status=status,
        detail=detail,
        claimed_by=None,
        not_before=not_before,
        sent_at=sent_at,
        provider_message_id=message_id,
    )
    return row
