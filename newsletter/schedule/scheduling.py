"""Scheduling an issue, once for every shell (CLI, web, later the API): read and render the issue file,
freeze it in a send to lists at a local time, and store the worker's wake-up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from newsletter import clock
from newsletter.content.load import load_issue
from newsletter.db.audit import Action, Actor, record
from newsletter.errors import ScheduleError
from newsletter.render import render_issue
from newsletter.schedule import times
from newsletter.schedule.sends import create_send, recipient_count
from newsletter.schedule.wakeups import add_wakeup


@dataclass(frozen=True)
class ScheduledIssue:
    """What scheduling made: the send, the issue, its lists, whom they reach now, and when (in `zone`)."""

    send_id: int
    public_id: str
    slug: str
    lists: tuple[str, ...]
    recipients: int
    at: datetime


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; ScheduleError naming it when there is no such zone."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {name!r} (an IANA name such as Europe/Paris)") from None


def local_time(text: str, zone: str) -> datetime:
    """`2026-12-01 07:00` in time zone `zone` (unless the text carries its own offset) → aware datetime;
    ScheduleError for a time a daylight-saving change skips or repeats there."""
    tz = time_zone(zone)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ScheduleError(f"cannot read the time {text!r}; write it like 2026-12-01 07:00") from None
    return when if when.utcoffset() is not None else times.local_time(when, tz.key)


def schedule_issue(
    sessions: sessionmaker[Session],
    engine: Engine,
    path: Path,
    *,
    list_names: Sequence[str],
    transport: str,
    actor: Actor,
    at: str | None = None,
    zone: str | None = None,
    hide_from_archive: bool = False,
) -> ScheduledIssue:
    """Schedule the issue file at `path` for `list_names` at local time `at` (now when None) in `zone`
    (the publication's when None), recorded in the audit log as `actor`'s; the send is committed, then its
    wake-up stored."""
    loaded = load_issue(path)
    tz = time_zone(zone or loaded.publication.timezone)
    when = local_time(at, tz.key) if at else None
    rendered = render_issue(loaded.issue, loaded.publication, slug=loaded.slug)
    with sessions.begin() as session:
        recipients = recipient_count(session, list_names) if list_names else 0
        send = create_send(
            session, rendered, loaded.publication, list_names=list_names, at=when,
            transport=transport, created_by=actor.name, hide_from_archive=hide_from_archive,
        )  # fmt: skip
        session.flush()
        details = {
            "issue": loaded.slug, "lists": list(dict.fromkeys(list_names)),
            "at": send.scheduled_at.isoformat() if send.scheduled_at else None,
            "hide_from_archive": hide_from_archive,
        }  # fmt: skip
        record(session, actor, Action.SEND_SCHEDULE, f"send {send.id}", details)
        scheduled = ScheduledIssue(
            send_id=send.id,
            public_id=send.public_id,
            slug=loaded.slug,
            lists=tuple(dict.fromkeys(list_names)),
            recipients=recipients,
            at=(send.scheduled_at or clock.now()).astimezone(tz),
        )
    add_wakeup(engine, send)  # after the commit: the job store writes on its own connection
    return scheduled
