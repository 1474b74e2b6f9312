"""Shared fixtures for render tests: the sample issues, a renderer, and a hostile-input issue."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.browser import require_tool, tool_on_path

from newsletter.content.load import LoadedIssue, load_issue
from newsletter.content.schema import Issue, Publication
from newsletter.render import RenderedIssue, render_issue

ROOT = Path(__file__).resolve().parents[2]
ISSUES = ROOT / "issues"
E_ALERT = ISSUES / "2026-11-20-muscle-loss-culprit.yaml"
DIGEST = ISSUES / "2026-12-04-muscle-balance-research.yaml"
SAMPLES = (E_ALERT, DIGEST)

HOSTILE = '<script>alert(1)</script> <img src=x onerror=alert(2)> {{ 7*7 }} {% include "layout.mjml.j2" %}'
"""What an attacker (or a careless paste) might put in any editor field."""

VALUES = {
    "first_name": "Ann",
    "email": "ann@example.com",
    "unsubscribe_url": "https://e-alert.example.org/u/tok123",
    "manage_url": "https://e-alert.example.org/m/tok123",
    "view_url": "https://e-alert.example.org/v/2026-11-20",
}
"""One recipient's merge values."""

Render = Callable[..., RenderedIssue]

__all__ = ["require_tool", "tool_on_path"]


@pytest.fixture(scope="session")
def e_alert() -> LoadedIssue:
    """The daily e-Alert sample."""
    return load_issue(E_ALERT)


@pytest.fixture(scope="session")
def digest() -> LoadedIssue:
    """The research digest sample."""
    return load_issue(DIGEST)


@pytest.fixture(scope="session")
def publication(e_alert: LoadedIssue) -> Publication:
    """The sample publication."""
    return e_alert.publication


@pytest.fixture(scope="session")
def rendered_e_alert(e_alert: LoadedIssue) -> RenderedIssue:
    """The e-Alert sample rendered once for the session."""
    return render_issue(e_alert.issue, e_alert.publication, slug=e_alert.slug)


@pytest.fixture(scope="session")
def rendered_digest(digest: LoadedIssue) -> RenderedIssue:
    """The digest sample rendered once for the session."""
    return render_issue(digest.issue, digest.publication, slug=digest.slug)


@pytest.fixture
def render(publication: Publication) -> Render:
    """render(issue_fields..., publication=None) renders a small valid issue with overrides."""

    def _render(publication_: Publication | None = None, **fields: Any) -> RenderedIssue:
        data: dict[str, Any] = {
            "subject": "A short walk after dinner",
            "date": "2026-11-20",
            "blocks": [{"type": "text", "body": "Walking helps."}],
            "signoff": {"closing": "Yours,", "name": "Dana Whitfield"},
        }
        data.update(fields)
        issue = Issue.model_validate(data)
        return render_issue(issue, publication_ or publication, slug="test")

    return _render


def hostile_issue_data(text: str = HOSTILE) -> dict[str, Any]:
    """An issue using every block type, with `text` in every text field (URLs stay valid)."""
    url = "https://e-alert.example.org/x"
    return {
        "subject": text,
        "preheader": text,
        "date": "2026-11-20",
        "blocks": [
            {"type": "headline", "text": text},
            {"type": "text", "body": text},
            {"type": "heading", "text": text},
            {
                "type": "tips",
                "title": text,
                "intro": text,
                "items": [{"lead": text, "text": text}],
            },
            {
                "type": "study",
                "title": text,
                "journal": text,
                "study_type": text,
                "population": text,
                "why_it_matters": text,
                "summary": text,
                "url": url,
            },
            {"type": "quote", "text": text, "by": text, "role": text},
            {"type": "faq", "title": text, "toc": True, "items": [{"q": text, "a": text}]},
            {"type": "image", "src": url + ".png", "alt": text, "link": url, "caption": text},
            {"type": "button", "text": text, "url": url, "intro": text},
            {"type": "divider"},
        ],
        "signoff": {"closing": text, "name": text, "title": text, "note": text},
        "ps": [{"text": text}, {"text": text, "url": url}],
        "promo": {
            "headline": text,
            "text": text,
            "image": {"type": "image", "src": url + ".png", "alt": text},
            "button": {"text": text, "url": url},
        },
    }


def hostile_publication(publication: Publication, text: str = HOSTILE) -> Publication:
    """The sample publication with `text` in every free-text field."""
    data = publication.model_dump(by_alias=True)
    data.update(name=text, organization=text, postal_address=text, disclaimer=text)
    data["legal"] = [{"title": text, "body": text}]
    data["brand"]["logo"]["alt"] = text
    return Publication.model_validate(data)
