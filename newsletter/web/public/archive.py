"""The archive's Atom feed; its data (sent issues, one issue's page) is in newsletter.schedule.archive."""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape

from newsletter.schedule.archive import ArchivedIssue


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
