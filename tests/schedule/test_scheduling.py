"""`schedule_issue`: the one way the CLI and the web schedule an issue file (render, freeze, wake-up)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import FrozenClock
from deliver_run.helpers import ISSUES, add_readers
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from newsletter.db.audit import Actor, entries
from newsletter.errors import ScheduleError
from newsletter.schedule.scheduling import local_time, schedule_issue, time_zone
from newsletter.schedule.sends import summary
from schedule.conftest import Jobs

ISSUE = ISSUES / "2026-11-20-muscle-loss-culprit.yaml"


def test_an_issue_is_scheduled_at_a_local_time_with_its_wakeup(
    engine: Engine, session_factory: sessionmaker[Session], frozen_clock: FrozenClock, jobs: Jobs
) -> None:
    with session_factory() as session:
        add_readers(session, "daily-brief", 3)
    scheduled = schedule_issue(
        session_factory, engine, ISSUE, list_names=["daily-brief", "daily-brief"], transport="outbox",
        at="2026-11-20 07:30", zone="America/New_York", actor=Actor("editor@example.org"),
    )  # fmt: skip
    assert (scheduled.slug, scheduled.lists, scheduled.recipients) == (ISSUE.stem, ("daily-brief",), 3)
    assert scheduled.at.isoformat() == "2026-11-20T07:30:00-05:00"
    assert jobs() == {f"send-{scheduled.send_id}": datetime(2026, 11, 20, 12, 30, tzinfo=UTC).timestamp()}
    with session_factory() as session:
        row = summary(session, scheduled.send_id)
    assert (row.send.status, row.send.issue_slug, row.lists) == ("scheduled", ISSUE.stem, ("daily-brief",))
    assert row.send.created_by == "editor@example.org"
    with session_factory() as session:
        [entry] = entries(session, actions=["send.schedule"])
    assert (entry.actor, entry.target) == ("editor@example.org", f"send {scheduled.send_id}")
    assert entry.detail["lists"] == ["daily-brief"]


def test_without_a_time_the_issue_is_due_now_in_the_publications_zone(
    engine: Engine, session_factory: sessionmaker[Session], frozen_clock: FrozenClock, jobs: Jobs
) -> None:
    with session_factory() as session:
        add_readers(session, "daily-brief", 1)
    scheduled = schedule_issue(
        session_factory,
        engine,
        ISSUE,
        list_names=["daily-brief"],
        transport="outbox",
        actor=Actor("ed@x.org"),
    )
    assert scheduled.at == frozen_clock.now()
    assert scheduled.at.utcoffset() is not None


@pytest.mark.parametrize(
    ("text", "zone", "message"),
    [
        ("2026-12-01 07:00", "Mars/Olympus", "unknown time zone 'Mars/Olympus' (an IANA name"),
        ("2026-12-01 07:00", "../../etc/passwd", "unknown time zone '../../etc/passwd'"),
        ("tomorrow at seven", "UTC", "cannot read the time 'tomorrow at seven'; write it like"),
    ],
)
def test_a_wrong_zone_or_time_is_a_schedule_error_naming_it(text: str, zone: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        local_time(text, zone)
    assert str(caught.value).startswith(message)


def test_a_time_with_its_own_offset_keeps_it() -> None:
    assert local_time("2026-12-01T07:00+01:00", "UTC").isoformat() == "2026-12-01T07:00:00+01:00"
    assert time_zone(" Europe/Paris ").key == "Europe/Paris"
