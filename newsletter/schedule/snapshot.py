"""A send's frozen copy of the rendered issue and its publication, and turning it back into values."""

from __future__ import annotations

from typing import Any

from newsletter.content.schema import Publication
from newsletter.db.tables import Send
from newsletter.errors import ScheduleError
from newsletter.render import RenderedIssue, issue_digest
from newsletter.render.merge import MergeTemplate


def snapshot_fields(rendered: RenderedIssue, publication: Publication) -> dict[str, Any]:
    """The Send columns that freeze `rendered` and `publication` as they are now."""
    return {
        "issue_slug": rendered.slug,
        "subject": rendered.subject,
        "preheader": rendered.preheader,
        "html": rendered.html,
        "text": rendered.text,
        "sha256": rendered.sha256,
        "publication": publication.model_dump(mode="json", by_alias=True),
    }


def rendered_of(send: Send) -> RenderedIssue:
    """The snapshot as a RenderedIssue; refuses a snapshot whose sha256 no longer matches."""
    if issue_digest(send.subject, send.html, send.text) != send.sha256:
        raise ScheduleError(f"send {send.id}: the stored issue does not match its sha256; refusing to send")
    return RenderedIssue(
        slug=send.issue_slug,
        subject=send.subject,
        preheader=send.preheader,
        html=send.html,
        text=send.text,
        sha256=send.sha256,
        html_template=MergeTemplate.compile(send.html, escape_html=True),
        text_template=MergeTemplate.compile(send.text, escape_html=False),
    )


def publication_of(send: Send) -> Publication:
    """The publication as it was when the send was created."""
    return Publication.model_validate(send.publication)
