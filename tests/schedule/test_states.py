"""The send state machine: which moves are allowed, what a refused move says, what each move stamps."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import product

import pytest
from conftest import FrozenClock
from deliver_run.helpers import add_readers, schedule
from sqlalchemy.orm import Session, sessionmaker
from support import samples

from newsletter.db.tables import SEND_STATUSES, Send
from newsletter.errors import NotFound, ScheduleError
from newsletter.schedule import sends
from newsletter.schedule.states import ALLOWED, transition

ALLOWED_MOVES = {
    ("draft", "scheduled"),
    ("draft", "cancelled"),
    ("scheduled", "sending"),
    ("scheduled", "paused"),
    ("scheduled", "cancelled"),
    ("sending", "paused"),
    ("sending", "sent"),
    ("sending", "cancelled"),
    ("sending", "failed"),
    ("paused", "scheduled"),
    ("paused", "cancelled"),
    ("failed", "scheduled"),
    ("failed", "sending"),
    ("sent", "sending"),
}


def a_send(status: str) -> Send:
    return Send(id=7, status=status, started_at=None, finished_at=None, error=None)


def test_the_table_is_the_documented_state_machine() -> None:
    assert {(a, b) for a, targets in ALLOWED.items() for b in targets} == ALLOWED_MOVES
    assert set(ALLOWED) == set(SEND_STATUSES)
    assert ALLOWED["cancelled"] == frozenset()  # the end
    assert ALLOWED["sent"] == {"sending"}  # only when reconciliation requeues rows


VERBS = {
    "paused": "pause",
    "scheduled": "schedule",
    "cancelled": "cancel",
    "sending": "start",
    "sent": "finish",
}


@pytest.mark.parametrize(("start", "target"), sorted(set(product(SEND_STATUSES, repeat=2)) - ALLOWED_MOVES))
def test_a_refused_move_names_the_send_its_state_and_the_action(start: str, target: str) -> None:
    send = a_send(start)
    with pytest.raises(ScheduleError) as refused:
        transition(send, target)
    verb = VERBS.get(target, f"move to {target}")
    assert str(refused.value) == f"send 7 is {start}; cannot {verb} it"
    assert send.status == start


@pytest.mark.parametrize(("start", "target"), sorted(ALLOWED_MOVES))
def test_an_allowed_move_happens(start: str, target: str, frozen_clock: FrozenClock) -> None:
    send = a_send(start)
    transition(send, target)
    assert send.status == target
    assert send.updated_at == frozen_clock.now()


def test_moves_stamp_start_finish_and_the_error(frozen_clock: FrozenClock) -> None:
    send = a_send("scheduled")
    started = frozen_clock.now()
    transition(send, "sending")
    frozen_clock.advance(minutes=5)
    transition(send, "paused")
    transition(send, "scheduled")
    transition(send, "sending")
    assert send.started_at == started  # the first start counts
    transition(send, "failed", error="the stored issue does not match its sha256")
    assert (send.finished_at, send.error) == (
        frozen_clock.now(),
        "the stored issue does not match its sha256",
    )


def test_resume_refusal_speaks_of_resuming(session_factory: sessionmaker[Session], session: Session) -> None:
    add_readers(session, "daily-brief", 1)
    send_id = schedule(session_factory)
    with session_factory.begin() as db:
        assert sends.pause(db, send_id).status == "paused"
    with session_factory.begin() as db, pytest.raises(ScheduleError, match="is paused; cannot pause it"):
        sends.pause(db, send_id)
    with session_factory.begin() as db:
        assert sends.resume(db, send_id).status == "scheduled"
    with session_factory.begin() as db, pytest.raises(ScheduleError) as refused:
        sends.resume(db, send_id)
    assert str(refused.value) == f"send {send_id} is scheduled; cannot resume it"
    with session_factory.begin() as db:
        assert sends.cancel(db, send_id).status == "cancelled"
    with session_factory.begin() as db, pytest.raises(ScheduleError) as refused:
        sends.resume(db, send_id)
    assert str(refused.value) == f"send {send_id} is cancelled; cannot resume it"


def test_an_unknown_send_is_not_found_by_id_or_public_id(session: Session) -> None:
    with pytest.raises(NotFound, match=r"^no send '99' \(see `newsletter sends`\)$"):
        sends.get_send(session, 99)
    with pytest.raises(NotFound, match="no send 'nope'"):
        sends.get_send(session, "nope")


def test_a_send_needs_a_list_and_an_aware_time(session: Session) -> None:
    add_readers(session, "daily-brief", 1)
    with pytest.raises(ScheduleError, match=r"at least one list \(--list NAME\)"):
        sends.create_send(
            session, samples.rendered(), samples.publication(), list_names=[], transport="outbox"
        )
    with pytest.raises(ScheduleError, match="time zone"):
        sends.create_send(
            session,
            samples.rendered(),
            samples.publication(),
            list_names=["daily-brief"],
            transport="outbox",
            at=datetime(2026, 12, 1, 7, 0),  # naive: the mistake under test
        )
    with pytest.raises(NotFound, match="no-such-list"):
        sends.create_send(
            session,
            samples.rendered(),
            samples.publication(),
            list_names=["no-such-list"],
            transport="outbox",
        )


def test_due_sends_are_the_scheduled_ones_whose_time_came_and_the_interrupted(
    session: Session, session_factory: sessionmaker[Session], frozen_clock: FrozenClock
) -> None:
    add_readers(session, "daily-brief", 1)
    now = frozen_clock.now()

    def at(when: datetime, status: str) -> int:
        with session_factory.begin() as db:
            send = sends.create_send(
                db,
                samples.rendered(),
                samples.publication(),
                list_names=["daily-brief"],
                transport="outbox",
                at=when,
            )
            send.status = status
            return send.id

    due_later = at(now - timedelta(minutes=1), "scheduled")
    due_first = at(now - timedelta(hours=1), "scheduled")
    interrupted = at(now - timedelta(days=1), "sending")
    not_yet = at(now + timedelta(minutes=1), "scheduled")
    for status in ("paused", "sent", "cancelled", "failed"):
        at(now - timedelta(hours=2), status)

    assert sends.due_sends(session) == [interrupted, due_first, due_later]
    assert sends.due_sends(session, now + timedelta(minutes=1))[-1] == not_yet
