"""The public archive: sent issues (never tests), each shown with neutral merge values, and an Atom feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.db.tables import Send
from newsletter.errors import NotFound
from newsletter.render import merge
from newsletter.schedule.snapshot import publication_of, rendered_of


@dataclass(frozen=True)
class ArchivedIssue:
    """One sent issue in the archive."""

    slug: str
    subject: str
    preheader: str
    sent_at: datetime


def archived_issues(session: Session, limit: int = 200) -> list[ArchivedIssue]:
    """Issues sent to lists (not tests), newest first, each slug once."""
    query = (
        select(Send)
        .where(Send.status == "sent", Send.is_test.is_(False))
        .order_by(Send.finished_at.desc(), Send.id.desc())
    )
    seen: dict[str, ArchivedIssue] = {}
    for send in session.scalars(query):
        if send.issue_slug not in seen:
            when = send.finished_at or send.scheduled_at or send.created_at
            seen[send.issue_slug] = ArchivedIssue(send.issue_slug, send.subject, send.preheader, when)
        if len(seen) >= limit:
            break
    return list(seen.values())


def neutral_values(base_url: str, slug: str) -> dict[str, str]:
    """Merge values for a reader we do not know: name tags fall back, links go to public pages."""
    base = base_url.rstrip("/")
    return {
        "first_name": "",
        "last_name": "",
        "name": "",
        "email": "",
        "unsubscribe_url": f"{base}/unsubscribe/",
        "manage_url": f"{base}/subscribe",
        "view_url": f"{base}/archive/{slug}",
    }


def archived_html(session: Session, slug: str, base_url: str) -> str:
    """The newest sent snapshot of `slug` as HTML, merged with neutral values; NotFound otherwise."""
    send = session.scalars(
        select(Send)
        .where(Send.issue_slug == slug, Send.status == "sent", Send.is_test.is_(False))
        .order_by(Send.id.desc())
        .limit(1)
    ).first()
    if send is None:
        raise NotFound("there is no sent issue at this address")
    publication_of(send)  # a snapshot that no longer validates is refused here, not half shown
    html, _text = merge(rendered_of(send), neutral_values(base_url, slug))
    return html


def atom_feed(issues: list[ArchivedIssue], *, title: str, base_url: str, updated: datetime) -> str:
    """An Atom 1.0 feed of the archive."""
    base = base_url.rstrip("/")
    entries = "".join(
        f"<entry><title>{escape(i.subject)}</title>"
        f'<link rel="alternate" type="text/html" href="{escape(base)}/archive/{escape(i.slug)}"/>'
        f"<id>{escape(base)}/archive/{escape(i.slug)}</id>"
        f"<updated>{i.sent_at.isoformat()}</updated>"
        f"<summary>{escape(i.preheader or i.subject)}</summary></entry>"
        for i in issues
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom"><title>{escape(title)}</title>'
        f'<link rel="self" href="{escape(base)}/archive/feed.atom"/>'
        f'<link rel="alternate" type="text/html" href="{escape(base)}/archive/"/>'
        f"<id>{escape(base)}/archive/</id><updated>{updated.isoformat()}</updated>{entries}</feed>\n"
    )
