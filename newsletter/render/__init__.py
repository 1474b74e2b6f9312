"""Issue + Publication → RenderedIssue (HTML and text, rendered once) and the per-recipient merge.

Pipeline: Jinja2 (autoescape, StrictUndefined; editor text only ever a variable) → MJML →
mjml-python → premailer → HTML, with merge tags shielded from the compiler and the inliner;
the text part is written from the same blocks by text.py.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.errors import RenderError
from newsletter.render.merge import MergeTemplate, Token

if TYPE_CHECKING:
    from newsletter.content.schema import Issue, Publication

__all__ = ["MergeTemplate", "RenderedIssue", "Token", "issue_digest", "merge", "render_issue"]


@dataclass(frozen=True)
class RenderedIssue:
    """One issue rendered once: subject, preheader, HTML and text with merge tokens still in place."""

    slug: str
    subject: str
    preheader: str
    html: str
    text: str
    sha256: str
    html_template: MergeTemplate
    text_template: MergeTemplate


def issue_digest(subject: str, html: str, text: str) -> str:
    """The sha256 (hex) that identifies a rendered issue: over subject, HTML and text."""
    return hashlib.sha256("\0".join((subject, html, text)).encode("utf-8")).hexdigest()


DIR_SETTINGS = ("NEWSLETTER_TEMPLATES_DIR", "NEWSLETTER_CACHE_DIR", "NEWSLETTER_CONFIG_FILE")
"""The settings that can move the templates or the cache (the file may set either)."""
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIRS = (_PROJECT_ROOT / "templates" / "emails", _PROJECT_ROOT / "var" / "cache")
"""Settings' defaults for `templates_dir` and `cache_dir` (a test keeps them equal)."""


@lru_cache(maxsize=1)
def _default_dirs() -> tuple[Path, Path | None]:
    """The templates and cache folders: the defaults unless a setting may move them.

    Reading the settings loads pydantic-settings (~0.1 s of a command's start); a render only needs
    these two folders, so the settings are read only when one of DIR_SETTINGS is set.
    """
    if not any(os.environ.get(name) for name in DIR_SETTINGS):
        return DEFAULT_DIRS
    from newsletter.config import load_settings

    settings = load_settings()
    return settings.templates_dir, settings.cache_dir


def render_issue(
    issue: Issue, publication: Publication, *, slug: str, templates_dir: Path | None = None
) -> RenderedIssue:
    """Render an issue's HTML and text parts (templates from settings unless `templates_dir`).

    The compiler (Jinja2, mjml-python, premailer) is imported here, on the first render, so that
    modules needing only RenderedIssue or the merge stay light to import.
    """
    from jinja2 import TemplateError

    from newsletter.content.markdown import shared_parses, shield_merge_tags
    from newsletter.render.environment import environment
    from newsletter.render.inline import inline_css
    from newsletter.render.mjml import mjml_to_html
    from newsletter.render.text import render_text

    cache_dir: Path | None = None
    if templates_dir is None:
        templates_dir, cache_dir = _default_dirs()
    env = environment(templates_dir, cache_dir)
    context = {
        "issue": issue,
        "publication": publication,
        "brand": publication.brand,
        "colors": publication.brand.colors,
        "preheader": issue.preheader or "",
        "slug": slug,
        "archive_url": publication.archive_url(slug),
    }
    try:
        with shared_parses():
            source = env.get_template("layout.mjml.j2").render(context)
            text = render_text(issue, publication, env, context)
        css = env.get_template("styles/inline.css.j2").render(context)
    except TemplateError as exc:
        raise RenderError(f"email template {getattr(exc, 'name', None) or ''}: {exc}") from exc
    shield = shield_merge_tags(source)
    html = shield.restore(inline_css(mjml_to_html(shield.text), css, cache_dir))
    digest = issue_digest(issue.subject, html, text)
    return RenderedIssue(
        slug=slug,
        subject=issue.subject,
        preheader=issue.preheader or "",
        html=html,
        text=text,
        sha256=digest,
        html_template=MergeTemplate.compile(html, escape_html=True),
        text_template=MergeTemplate.compile(text, escape_html=False),
    )


def merge(rendered: RenderedIssue, values: Mapping[str, str]) -> tuple[str, str]:
    """One recipient's (html, text): values HTML-escaped in the HTML, raw in the text."""
    return rendered.html_template.render(values), rendered.text_template.render(values)
