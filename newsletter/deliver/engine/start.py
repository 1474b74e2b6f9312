"""Starting (or taking up again) a send: due → `sending`, the lease (SQLite), stale claims recovered,
delivery rows materialised and cut into batches, all in one transaction under the send's lock."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.db.counters import Deltas, add_counters
from newsletter.db.session import is_postgres
from newsletter.db.tables import Send, SendStatus
from newsletter.deliver.engine.claims import acquire_lease, plan_batches, recover_stale
from newsletter.deliver.engine.leased import lease_name
from newsletter.deliver.engine.materialize import materialize
from newsletter.deliver.transports.base import Transport
from newsletter.errors import ConfigError
from newsletter.schedule.sends import send_list_ids
from newsletter.schedule.states import transition


def start_send(
    session: Session,
    send_id: int,
    me: str,
    transport_for: Callable[[str], Transport],
    *,
    batch_size: int,
    lease_seconds: float,
    stale_after_seconds: float,
) -> tuple[Transport | None, str]:
    """(the send's transport, "") when this worker may work on the send now, committed; (None, "") when
    it may not (not due, another worker's lease); (None, why) when the send failed because its transport
    cannot be built here."""
    shared = is_postgres(session)
    send = session.get_one(Send, send_id, with_for_update=shared)
    if send.status == "scheduled" and send.scheduled_at is not None and send.scheduled_at <= clock.now():
        transition(send, SendStatus.SENDING)
    if send.status != "sending":
        session.rollback()
        return None, ""
    try:
        transport = transport_for(send.transport)
    except ConfigError as exc:
        error = f"send {send_id} was scheduled for transport {send.transport!r}, unavailable here: {exc}"
        transition(send, SendStatus.FAILED, error=error)
        session.commit()
        return None, error
    if not shared and not acquire_lease(session, lease_name(send_id), me, lease_seconds):
        session.rollback()
        return None, ""
    deltas: Deltas = Counter()
    recover_stale(
        session,
        send_id,
        me,
        stale_before=clock.now() - timedelta(seconds=stale_after_seconds),
        resend=transport.idempotent,
        exclusive=not shared,
        deltas=deltas,
    )
    made = None
    if not send.materialized:
        made = materialize(session, send, send_list_ids=send_list_ids(session, send), deltas=deltas)
    plan_batches(session, send_id, min(batch_size, transport.max_batch_size), made=made)
    add_counters(session, deltas)
    session.commit()
    return transport, ""
