"""The public archive's data: sent sends to public lists only (never tests, private lists or sends hidden
from the archive), each issue once, and one issue's page.

The listing reads only the columns it shows, never the stored HTML. An issue's page is the newest sent
snapshot of it, merged with neutral values (no reader's name or address; links to public pages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.db.tables import MailingList, Send, SendList
from newsletter.errors import NotFound
from newsletter.render import merge
from newsletter.schedule.snapshot import publication_of, rendered_of

SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_SLUG = 200  # Send.issue_slug's length
_TO_LISTS = select(SendList.send_id).where(SendList.send_id == Send.id).exists()
_TO_A_PRIVATE_LIST = (
    select(SendList.send_id)
    .join(MailingList, MailingList.id == SendList.list_id)
    .where(SendList.send_id == Send.id, MailingList.visibility != "public")
    .exists()
)
ARCHIVED = (
    Send.status == "sent",
    Send.is_test.is_(False),
    Send.hide_from_archive.is_(False),
    _TO_LISTS,
    ~_TO_A_PRIVATE_LIST,
)
"""Public: sent (not a test), not hidden by its scheduler, and to public lists only."""


@dataclass(frozen=True)
class ArchivedIssue:
    """One sent issue in the archive."""

    slug: str
    subject: str
    preheader: str
    sent_at: datetime


def archived_issues(session: Session, limit: int = 200) -> list[ArchivedIssue]:
    """Issues sent to lists (not tests), newest first, each slug once (its newest send)."""
    query = (
        select(
            Send.issue_slug,
            Send.subject,
            Send.preheader,
            Send.finished_at,
            Send.scheduled_at,
            Send.created_at,
        )
        .where(*ARCHIVED)
        .order_by(Send.finished_at.desc().nulls_last(), Send.id.desc())
    )
    seen: dict[str, ArchivedIssue] = {}
    for slug, subject, preheader, finished, scheduled, created in session.execute(query):
        if slug not in seen:
            seen[slug] = ArchivedIssue(slug, subject, preheader, finished or scheduled or created)
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


def archived_html(session: Session, slug: str) -> str:
    """The newest sent snapshot of `slug` as HTML, merged with neutral values linking to its publication's
    site (`web_base_url`); NotFound otherwise."""
    if len(slug) > MAX_SLUG or not SLUG.fullmatch(slug):
        raise NotFound("there is no sent issue at this address")
    send = session.scalars(
        select(Send).where(Send.issue_slug == slug, *ARCHIVED).order_by(Send.id.desc()).limit(1)
    ).first()
    if send is None:
        raise NotFound("there is no sent issue at this address")
    publication = publication_of(send)  # a snapshot that no longer validates is refused here, not half shown
    html, _text = merge(rendered_of(send), neutral_values(publication.web_base_url, slug))
    return html
