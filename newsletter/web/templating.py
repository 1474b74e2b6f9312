"""The staff pages' Jinja2 environment (web/templates, never the email templates): autoescape, strict."""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.2%}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["percent"] = _percent
    env.globals["static_url"] = static_url
    return env


def static_url(name: str) -> str:
    """The path of a static file: relative to the site, never built from the request's Host header."""
    return f"/static/{name}"


templates = Jinja2Templates(env=_environment())
