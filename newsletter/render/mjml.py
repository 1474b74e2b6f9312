"""The one MJML → HTML call (mjml-python), with its failures turned into RenderError."""

from __future__ import annotations

from mjml import mjml2html

from newsletter.errors import RenderError


def mjml_to_html(source: str) -> str:
    """Compile an MJML document to HTML; no web fonts are added (the layout names its own)."""
    try:
        return str(mjml2html(source, fonts={}))
    except ValueError as exc:
        raise RenderError(f"MJML could not be compiled: {exc}") from exc
