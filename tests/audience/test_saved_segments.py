"""Saved segments: names, checks when saved and when used, live counts, samples, deletion."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from audience.segment_data import NOW, Reader, load
from newsletter.audience.people.subscribers import add_subscriber
from newsletter.audience.segments import saved
from newsletter.content.load import load_publication
from newsletter.content.schema import Publication
from newsletter.db.tables import Subscriber
from newsletter.errors import AudienceError, NotFound, SegmentError

ROOT = Path(__file__).resolve().parents[2]
E_ALERT = load_publication(ROOT / "publications/e-alert.yaml")[0]


def publication_for(name: str) -> Publication:
    assert name == "e-alert"
    return E_ALERT


def reader(n: int, lists: tuple[str, ...] = ("e-alert",), **attributes: object) -> Reader:
    since = NOW - timedelta(days=30)
    return Reader(
        id=n,
        email=f"r{n}@example.org",
        name=f"Reader {n}",
        status="enabled",
        created_at=since,
        attributes=dict(attributes),
        subscriptions=dict.fromkeys(lists, ("active", since)),
    )


def create(session: Session, name: str, expression: str, **options: str) -> None:
    saved.create_segment(session, name, expression, E_ALERT, publication_name="e-alert", **options)


@pytest.fixture
def readers(session: Session) -> dict[str, int]:
    return load(
        session,
        [
            reader(1, role="clinician", state="NY"),
            reader(2, role="clinician", state="CA"),
            reader(3, ("weekly",), role="clinician", state="NJ"),
            reader(4, role="patient"),
        ],
    )


def test_a_saved_segment_is_counted_live_on_its_list_or_on_any(
    session: Session, readers: dict[str, int]
) -> None:
    create(session, "clinicians", 'role = "clinician"', description="  Everyone in practice  ")
    create(session, "ny-nj-e-alert", 'role = "clinician" and state in ("NY", "NJ")', list_name="E-Alert")
    rows = saved.summaries(session, publication_for)
    assert [(r.name, r.list_name, r.count, r.problem) for r in rows] == [
        ("clinicians", None, 3, None),
        ("ny-nj-e-alert", "e-alert", 1, None),  # reader 3 is on weekly only
    ]
    assert rows[0].description == "Everyone in practice"
    add_subscriber(session, "r5@example.org", "e-alert")  # a new reader: both counts move, nothing is stored
    newcomer = update(Subscriber).where(Subscriber.email == "r5@example.org")
    session.execute(newcomer.values(attributes={"role": "clinician", "state": "NJ"}))
    session.commit()
    assert [r.count for r in saved.summaries(session, publication_for)] == [4, 2]


def test_names_are_checked_and_unique_regardless_of_case(session: Session, readers: dict[str, int]) -> None:
    create(session, "Clinicians", 'role = "clinician"')
    with pytest.raises(AudienceError, match="a segment named 'Clinicians' already exists"):
        create(session, "clinicians", "exists(role)")
    with pytest.raises(AudienceError, match="a segment name is 1 to 100 letters"):
        create(session, "two words", "exists(role)")
    with pytest.raises(AudienceError, match="a segment name is 1 to 100 letters"):
        create(session, "x" * 101, "exists(role)")


def test_nothing_is_saved_for_a_bad_expression_or_list(session: Session, readers: dict[str, int]) -> None:
    with pytest.raises(
        SegmentError, match=r"^segment:1:1: unknown attribute 'rol' \(did you mean 'role'\?\)$"
    ):
        create(session, "bad", 'rol = "clinician"')
    with pytest.raises(SegmentError, match=r"^segment:1:9: no list named 'nope'; lists: e-alert, weekly$"):
        create(session, "bad", 'in_list("nope")')
    with pytest.raises(NotFound, match="no list named 'nope'"):
        create(session, "bad", "exists(role)", list_name="nope")
    assert saved.summaries(session, publication_for) == []


def test_a_segment_the_declarations_no_longer_allow_shows_its_problem(
    session: Session, readers: dict[str, int]
) -> None:
    create(session, "by-state", 'state = "NY"')
    without_state = E_ALERT.model_copy(
        update={"attributes": {k: v for k, v in E_ALERT.attributes.items() if k != "state"}}
    )
    [row] = saved.summaries(session, lambda name: without_state)
    assert row.count is None
    assert row.problem == "segment by-state:1:1: unknown attribute 'state' (did you mean 'status'?)"
    with pytest.raises(SegmentError, match="segment by-state:1:1: unknown attribute 'state'"):
        saved.describe_segment(session, "by-state", lambda name: without_state)


def test_show_gives_the_count_and_a_sample_in_subscriber_order(
    session: Session, readers: dict[str, int]
) -> None:
    create(session, "clinicians", 'role = "clinician"')
    detail = saved.describe_segment(session, "CLINICIANS", publication_for, sample_size=2)
    assert detail.summary.count == 3
    assert [(m.email, m.attributes["state"]) for m in detail.sample] == [
        ("r1@example.org", "NY"),
        ("r2@example.org", "CA"),
    ]


def test_delete_removes_only_that_segment(session: Session, readers: dict[str, int]) -> None:
    create(session, "a", "exists(role)")
    create(session, "b", "missing(role)")
    assert saved.delete_segment(session, "A") == "a"
    assert [r.name for r in saved.summaries(session, publication_for)] == ["b"]
    with pytest.raises(NotFound, match="no segment named 'a'; segments: b"):
        saved.delete_segment(session, "a")
