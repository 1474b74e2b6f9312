"""Merge values of a sample recipient, for previews, `newsletter render` and test sends."""

from __future__ import annotations

from newsletter.content.schema import Publication

SAMPLE_EMAIL = "reader@example.org"


def sample_values(publication: Publication, slug: str, *, email: str = SAMPLE_EMAIL) -> dict[str, str]:
    """Merge values for a made-up reader; the links point at the publication's pages, not real tokens."""
    base = publication.web_base_url.rstrip("/")
    return {
        "first_name": "Alex",
        "last_name": "Reader",
        "name": "Alex Reader",
        "email": email,
        "unsubscribe_url": f"{base}/unsubscribe/sample",
        "manage_url": f"{base}/preferences/sample",
        "view_url": f"{base}/archive/{slug}",
    }
