"""The Jinja2 environment over templates/emails: autoescape everywhere, StrictUndefined, email filters."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from newsletter.content.health import LEVELS
from newsletter.content.markdown import markdown_to_html, markdown_to_inline_html
from newsletter.errors import RenderError
from newsletter.render import links

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_CSS_VALUE = re.compile(r"^[A-Za-z0-9 ,.'\"#%()-]{1,200}$")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def long_date(value: date) -> str:
    """A date as readers expect it in the header, e.g. `Friday, November 20, 2026`."""
    return f"{_DAYS[value.weekday()]}, {_MONTHS[value.month - 1]} {value.day}, {value.year}"


def css_value(value: str) -> Markup:
    """A brand value (font stack, colour) checked safe to place inside a <style> sheet."""
    if not _CSS_VALUE.match(value) or "</" in value:
        raise RenderError(f"brand value {value!r} cannot be used in CSS")
    return Markup(value)  # noqa: S704 - checked against a strict character allowlist above


def mix(color: str, other: str, amount: float) -> Markup:
    """`color` moved `amount` (0..1) of the way towards `other`; both `#rrggbb`."""
    if not (_HEX.match(color) and _HEX.match(other)):
        raise RenderError(f"cannot mix colours {color!r} and {other!r}")
    a = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(other[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = (round(x + (y - x) * amount) for x, y in zip(a, b, strict=True))
    return Markup("#" + "".join(f"{c:02x}" for c in mixed))  # noqa: S704 - digits only


def quoted(text: str) -> str:
    """`text` in curly double quotes, unless the editor already quoted it."""
    return text if text[:1] in "\"“‘'" else f"“{text}”"


def _markdown(source: str) -> Markup:
    return Markup(markdown_to_html(source))  # noqa: S704 - sanitised by nh3


def _markdown_inline(source: str, links: bool = True) -> Markup:
    return Markup(markdown_to_inline_html(source, links=links))  # noqa: S704 - sanitised by nh3


def _bytecode_cache(cache_dir: Path | None) -> FileSystemBytecodeCache | None:
    """Compiled templates kept on disk between runs (keyed by each template's source), if writable."""
    if cache_dir is None:
        return None
    directory = cache_dir / "jinja"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only install compiles in memory, as before
    return FileSystemBytecodeCache(str(directory))


@lru_cache(maxsize=8)
def environment(templates_dir: Path, cache_dir: Path | None = None) -> Environment:
    """The shared environment for one templates directory (built once, then cached).

    With `cache_dir`, compiled templates are kept in `cache_dir/jinja` so a new process skips
    compiling them; a changed template has a new source checksum and is compiled again.
    """
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        bytecode_cache=_bytecode_cache(cache_dir),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.globals.update(
        action_href=links.action_href,
        action_hint=links.action_hint,
        share_links=links.share_links,
        evidence=links.evidence,
        evidence_levels=LEVELS,
    )
    env.filters.update(
        dial=links.dial,
        markdown=_markdown,
        markdown_inline=_markdown_inline,
        long_date=long_date,
        css=css_value,
        mix=mix,
        quoted=quoted,
    )
    return env
