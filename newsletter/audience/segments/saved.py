"""Saved segments: a name, a description, an expression, optionally a list; counted live, never stored.

An expression is checked against its publication's declared attributes when saved, and again whenever
it is counted or used (the declarations may have changed since): `summaries` reports such a segment
with its problem instead of a count. Names are unique regardless of case, like list names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.people.lists import get_list
from newsletter.audience.segments.members import Member, count_matching, resolve_lists, sample_matching
from newsletter.content.schema import Publication
from newsletter.content.segments.check import check_segment
from newsletter.content.segments.checked import Segment
from newsletter.content.segments.parse import Where
from newsletter.db.tables import MailingList, SavedSegment
from newsletter.errors import AudienceError, ContentError, NotFound

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
"""A segment name: letters, digits, `-`, `_` and `.`, up to 100 characters (it is typed on command lines)."""

PublicationFor = Callable[[str], Publication]
"""Loads a publication by name (the shell knows where publication files are)."""


@dataclass(frozen=True)
class SegmentSummary:
    """One saved segment with its live count, or the problem that keeps it from being counted."""

    name: str
    description: str
    expression: str
    list_name: str | None
    publication: str
    created_by: str
    created_at: datetime
    count: int | None
    problem: str | None


@dataclass(frozen=True)
class SegmentDetail:
    """A saved segment's summary and a sample of its readers."""

    summary: SegmentSummary
    sample: list[Member]


def create_segment(
    session: Session,
    name: str,
    expression: str,
    publication: Publication,
    *,
    publication_name: str,
    list_name: str | None = None,
    description: str = "",
    created_by: str = "",
) -> SavedSegment:
    """Check and save a segment; SegmentError (located) for a bad expression, AudienceError for a bad name."""
    name = name.strip()
    if not NAME.match(name):
        raise AudienceError(
            f"a segment name is 1 to 100 letters, digits, '-', '_' or '.', starting with a letter or digit; "
            f"got {name!r}"
        )
    clash = session.scalar(select(SavedSegment.name).where(func.lower(SavedSegment.name) == name.lower()))
    if clash is not None:
        raise AudienceError(f"a segment named {clash!r} already exists")
    segment = check_segment(expression, publication.attributes)
    resolve_lists(session, segment)
    mailing_list = get_list(session, list_name) if list_name is not None else None
    now = clock.now()
    saved = SavedSegment(
        name=name,
        description=description.strip(),
        expression=expression.strip(),
        publication=publication_name,
        list_id=None if mailing_list is None else mailing_list.id,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(saved)
    session.commit()
    return saved


def get_segment(session: Session, name: str) -> SavedSegment:
    """The saved segment called `name` (any case); NotFound names those that exist."""
    found = session.scalar(select(SavedSegment).where(func.lower(SavedSegment.name) == name.strip().lower()))
    if found is None:
        names = ", ".join(session.scalars(select(SavedSegment.name).order_by(SavedSegment.name)))
        known = f"; segments: {names}" if names else "; there are no segments yet"
        raise NotFound(f"no segment named {name!r}{known}")
    return found


def delete_segment(session: Session, name: str) -> str:
    """Delete a saved segment (sends already started keep their recipients); returns its name."""
    saved = get_segment(session, name)
    session.delete(saved)
    session.commit()
    return saved.name


def checked(saved: SavedSegment, publication: Publication) -> Segment:
    """The saved expression checked against the publication as it is now (errors name the segment)."""
    return check_segment(saved.expression, publication.attributes, where=Where(f"segment {saved.name}"))


def summaries(session: Session, publication_for: PublicationFor) -> list[SegmentSummary]:
    """Every saved segment by name, each with its live count (or its problem)."""
    rows = session.scalars(select(SavedSegment).order_by(func.lower(SavedSegment.name)))
    return [summary(session, saved, publication_for) for saved in rows]


def summary(session: Session, saved: SavedSegment, publication_for: PublicationFor) -> SegmentSummary:
    """One saved segment with its live count of mailable readers."""
    count: int | None = None
    problem: str | None = None
    try:
        publication = publication_for(saved.publication)
        segment = checked(saved, publication)
        count = count_matching(session, segment, _lists(saved), zone=ZoneInfo(publication.timezone))
    except ContentError as exc:
        problem = str(exc)
    return SegmentSummary(
        name=saved.name,
        description=saved.description,
        expression=saved.expression,
        list_name=_list_name(session, saved),
        publication=saved.publication,
        created_by=saved.created_by,
        created_at=saved.created_at,
        count=count,
        problem=problem,
    )


def describe_segment(
    session: Session, name: str, publication_for: PublicationFor, *, sample_size: int = 10
) -> SegmentDetail:
    """A saved segment's count and the first `sample_size` of its readers (a bad one raises its problem)."""
    saved = get_segment(session, name)
    publication = publication_for(saved.publication)
    segment = checked(saved, publication)
    zone = ZoneInfo(publication.timezone)
    sample = sample_matching(session, segment, _lists(saved), limit=sample_size, zone=zone)
    return SegmentDetail(summary(session, saved, publication_for), sample)


def _lists(saved: SavedSegment) -> list[int] | None:
    return None if saved.list_id is None else [saved.list_id]


def _list_name(session: Session, saved: SavedSegment) -> str | None:
    if saved.list_id is None:
        return None
    return session.scalar(select(MailingList.name).where(MailingList.id == saved.list_id))
