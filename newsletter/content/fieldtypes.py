"""The field types and the base of every content model: URLs, Markdown, phone numbers, text direction.

`described(...)` gives a field its description and examples, which `newsletter schema` writes into the
JSON Schema editors' tools read.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from newsletter.content.urls import CLICK, WEB, check_url, phone_problem

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_HTTPS_PATTERN = r"^\s*[hH][tT][tT][pP][sS]://[^/\s]"
_LINK_PATTERN = r"^\s*([hH][tT][tT][pP][sS]://[^/\s]|[mM][aA][iI][lL][tT][oO]:|[tT][eE][lL]:|[sS][mM][sS]:)"


class MarkdownText:
    """Marks a field as editor Markdown: checked by content/markdown_rules.py, rendered safely."""


MARKDOWN = MarkdownText()

HttpsUrl = Annotated[
    str, AfterValidator(lambda v: check_url(v, WEB)), Field(json_schema_extra={"pattern": _HTTPS_PATTERN})
]
"""An absolute https:// URL (images, web pages)."""
LinkUrl = Annotated[
    str, AfterValidator(lambda v: check_url(v, CLICK)), Field(json_schema_extra={"pattern": _LINK_PATTERN})
]
"""A link a reader taps: https://, mailto:, tel: or sms:."""
Markdown = Annotated[str, MARKDOWN]
"""Markdown source; checked at load time and rendered through the safe renderer, never as raw HTML."""
NonEmpty = Annotated[str, Field(min_length=1)]
Direction = Literal["ltr", "rtl"]


def _phone(value: str) -> str:
    problem = phone_problem(value.strip(), written=True)
    if problem:
        raise ValueError(problem)
    return value.strip()


Phone = Annotated[str, AfterValidator(_phone)]
"""A number to call or text: digits with optional +, -, ., ( and )."""


def described(description: str, *examples: Any, **extra: Any) -> Any:
    """Field metadata: what the field is, with examples, for the JSON Schema."""
    return Field(description=description, examples=list(examples) or None, **extra)


class Model(BaseModel):
    """Base for content models: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)
