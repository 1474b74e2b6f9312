"""Segments in SQL on SQLite and PostgreSQL: values bound, never spliced; windows, days and lists exact."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from audience.segment_data import NOW, Reader, load
from newsletter.audience.segments.members import count_matching, matching_subscribers, segment_condition
from newsletter.content.load import load_publication
from newsletter.content.segments.check import check_segment
from newsletter.db.tables import Subscriber
from newsletter.errors import SegmentError

ROOT = Path(__file__).resolve().parents[2]
ATTRIBUTES = load_publication(ROOT / "publications/e-alert.yaml")[0].attributes
NEW_YORK = ZoneInfo("America/New_York")
HOSTILE = [
    "x'; DROP TABLE subscribers; --",
    "NY') OR 1=1 --",
    '"; DELETE FROM subscribers; --',
    "/* comment */ NY",
    "\\'; SELECT pg_sleep(5); --",
]


def reader(n: int, **attributes: object) -> Reader:
    return Reader(
        id=n,
        email=f"r{n}@example.org",
        name=f"Reader {n}",
        status="enabled",
        created_at=NOW - timedelta(days=400),
        attributes=dict(attributes),
        subscriptions={"e-alert": ("active", NOW - timedelta(days=300))},
        consent=[("e-alert", "subscribe", "import")],
    )


def selected(session: Session, expression: str, list_ids: list[int] | None = None) -> list[int]:
    segment = check_segment(expression, ATTRIBUTES)
    query = matching_subscribers(session, segment, list_ids, zone=NEW_YORK, now=NOW)
    return sorted(row.id for row in session.execute(query))


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_hostile_text_is_a_bound_value_that_matches_itself_and_runs_nothing(
    session: Session, engine: Engine
) -> None:
    load(session, [reader(n + 1, specialty=text, state=text) for n, text in enumerate(HOSTILE)] + [reader(9)])
    for n, text in enumerate(HOSTILE, start=1):
        for expression in (
            f"specialty = {quoted(text)}",
            f"state in ({quoted(text)}, {quoted('NY')})",
            f"specialty != {quoted(text)} and exists(specialty)",
        ):
            segment = check_segment(expression, ATTRIBUTES)
            condition = segment_condition(session, segment, now=NOW)
            sql = str(select(Subscriber.id).where(condition).compile(engine))
            assert text not in sql, sql
            assert "DROP" not in sql, sql
            assert "DELETE" not in sql, sql
            expected = [n] if "!=" not in expression else [m for m in range(1, 6) if m != n]
            assert selected(session, expression) == expected, expression
    assert "subscribers" in inspect(engine).get_table_names()
    assert session.scalar(select(func.count()).select_from(Subscriber)) == 6


def test_a_hostile_list_name_is_an_unknown_list_located_in_the_expression(session: Session) -> None:
    load(session, [reader(1)])
    with pytest.raises(SegmentError) as caught:
        selected(session, 'exists(role) or in_list("e-alert\'; DROP TABLE lists; --")')
    assert str(caught.value) == (
        'segment:1:25: no list named "e-alert\'; DROP TABLE lists; --"; lists: e-alert, weekly'
    )
    assert selected(session, 'in_list("E-Alert")') == [1]  # list names ignore case


def test_hostile_consent_sources_are_bound_too(session: Session) -> None:
    load(session, [reader(1)])
    assert selected(session, "consent_source(\"import-source' OR '1'='1\")") == []
    assert selected(session, 'consent_source("import-source")') == [1]
    assert selected(session, 'consented_via("import") and not consented_via("form")') == [1]


def test_machine_opens_do_not_count_and_windows_include_their_first_moment(session: Session) -> None:
    people = [reader(n) for n in range(1, 6)]
    people[0].deliveries = [("accepted", NOW - timedelta(days=100))]
    people[0].events = [("open", NOW - timedelta(days=90), None)]  # exactly 90 days ago: inside
    people[1].deliveries = [("accepted", NOW - timedelta(days=100))]
    people[1].events = [("open", NOW - timedelta(days=90, seconds=1), False)]  # just outside
    people[2].deliveries = [("accepted", NOW - timedelta(days=10))]
    people[2].events = [("open", NOW - timedelta(days=9), True)]  # a machine open (Apple privacy)
    people[3].deliveries = [("accepted", NOW - timedelta(days=10))]
    people[3].events = [("click", NOW - timedelta(days=9), None)]
    people[4].deliveries = [("failed", NOW - timedelta(days=3))]
    load(session, people)
    assert selected(session, "opened_within(90d)") == [1]
    assert selected(session, "not opened_within(90d)") == [2, 3, 4, 5]
    assert selected(session, "clicked_within(2w)") == [4]
    assert selected(session, "mailed_within(30d)") == [3, 4]  # a failed delivery was not mailed
    assert selected(session, "mailed_within(30d) and not opened_within(30d)") == [3, 4]


def test_days_are_days_in_the_publication_time_zone(session: Session) -> None:
    early = reader(1)
    early.created_at = datetime(2026, 3, 1, 4, 30, tzinfo=ZoneInfo("UTC"))  # 23:30 on Feb 28 in New York
    late = reader(2)
    late.created_at = datetime(2026, 3, 1, 5, 30, tzinfo=ZoneInfo("UTC"))  # 00:30 on Mar 1 in New York
    load(session, [early, late])
    assert selected(session, "created < 2026-03-01") == [1]
    assert selected(session, "created = 2026-03-01") == [2]
    assert selected(session, "created <= 2026-02-28") == [1]
    assert selected(session, "created > 2026-02-28") == [2]
    assert selected(session, "created != 2026-03-01") == [1]


def test_subscription_dates_look_at_the_lists_in_scope(session: Session) -> None:
    both = reader(1)
    both.subscriptions = {
        "e-alert": ("active", datetime(2026, 5, 1, tzinfo=NEW_YORK)),
        "weekly": ("active", datetime(2025, 5, 1, tzinfo=NEW_YORK)),
    }
    gone = reader(2)
    gone.subscriptions = {
        "e-alert": ("active", datetime(2026, 5, 1, tzinfo=NEW_YORK)),
        "weekly": ("unsubscribed", datetime(2025, 5, 1, tzinfo=NEW_YORK)),
    }
    list_ids = load(session, [both, gone])
    assert selected(session, "subscribed_before(2026-01-01)") == [1]  # any list; unsubscribed does not count
    assert selected(session, "subscribed_before(2026-01-01)", [list_ids["e-alert"]]) == []
    assert selected(session, "subscribed_after(2026-04-30)", [list_ids["e-alert"]]) == [1, 2]
    assert selected(session, "subscribed_after(2026-05-01)", [list_ids["e-alert"]]) == []


def test_the_count_is_live(session: Session) -> None:
    load(session, [reader(1, role="clinician"), reader(2, role="patient")])
    segment = check_segment('role = "clinician"', ATTRIBUTES)
    assert count_matching(session, segment, None, now=NOW) == 1
    session.execute(Subscriber.__table__.update().values(attributes={"role": "clinician"}))
    session.commit()
    assert count_matching(session, segment, None, now=NOW) == 2
