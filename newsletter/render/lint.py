"""Warnings about rendered output that a valid issue can still trip (Gmail's clipping size)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.errors import ContentProblem

if TYPE_CHECKING:
    from newsletter.render import RenderedIssue

GMAIL_CLIP_BYTES = 102 * 1024
"""Gmail hides everything after this many bytes of HTML behind "[Message clipped]"."""


def lint_rendered(rendered: RenderedIssue, path: Path | str) -> list[ContentProblem]:
    """Warnings for a rendered issue, located at line 1, column 1 of its issue file."""
    size = len(rendered.html.encode("utf-8"))
    if size <= GMAIL_CLIP_BYTES:
        return []
    message = (
        f"the HTML is {size / 1024:.1f} KB; Gmail clips messages over "
        f"{GMAIL_CLIP_BYTES // 1024} KB (hiding the footer and unsubscribe link): shorten the issue"
    )
    return [ContentProblem(str(path), 1, 1, "html", message, "size", "warning")]
