"""The one URL policy for editor content: which link schemes a field accepts and how each is checked.

Block URL fields and Markdown links share it, so a link is refused with the same words wherever it is
written: web pages and images are absolute `https://` URLs with a host; links a reader clicks may also be
`mailto:`, `tel:` (a number to call) or `sms:` (a number to text, optionally `?body=KEYWORD`).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.\-]*):")
_PHONE = re.compile(r"^\+?[0-9(][0-9().\-]*$")
_WRITTEN_PHONE = re.compile(r"^\+?[0-9(][0-9(). \-]*$")
_SMS = re.compile(r"^(?P<numbers>[^?]*)(?:\?(?P<query>.*))?$")
_SMS_QUERY = re.compile(r"^body=[^&]*$")

WEB = ("https",)
"""Images and pages fetched or opened as web pages."""
CLICK = ("https", "mailto", "tel", "sms")
"""Anything a reader taps: pages, an email address, a number to call or text."""


def phone_digits(number: str) -> int:
    """How many digits a phone number has."""
    return sum(ch.isdigit() for ch in number)


def phone_problem(number: str, *, written: bool = False) -> str | None:
    """Why `number` cannot be dialled or texted (None if it can): digits, `+`, `-`, `.`, `(`, `)`.

    `written=True` also allows spaces, as in a number written for readers: `(410) 555-0147`.
    """
    pattern = _WRITTEN_PHONE if written else _PHONE
    if not pattern.match(number) or phone_digits(number) < 3:
        return f"must be a phone number such as +14105550147 or 410-555-0147, got {number!r}"
    return None


def _expected(allowed: tuple[str, ...]) -> str:
    if allowed == WEB:
        return "an absolute https:// URL"
    others = ", ".join(f"{s}:" for s in allowed if s != "https")
    return f"an absolute https:// URL (or {others})"


def url_problem(url: str, allowed: tuple[str, ...] = CLICK) -> str | None:
    """Why `url` is refused where `allowed` schemes are accepted, in an editor's words (None if fine)."""
    value = url.strip()
    match = _SCHEME.match(value)
    scheme = match.group(1).lower() if match else ""
    if scheme == "javascript":
        return "javascript: URLs are not allowed"
    if scheme not in allowed:
        return f"must be {_expected(allowed)}, got {value!r}"
    rest = value[match.end() :] if match else value
    if scheme == "https" and not urlsplit(value).hostname:
        return f"must be an absolute https:// URL with a host, got {value!r}"
    if scheme == "tel" and phone_problem(rest):
        return f"tel: must be followed by a phone number such as tel:+14105550147, got {value!r}"
    if scheme == "sms":
        parts = _SMS.match(rest)
        numbers = parts.group("numbers").split(",") if parts else [""]
        query = parts.group("query") if parts else None
        if any(phone_problem(n) for n in numbers) or (query is not None and not _SMS_QUERY.match(query)):
            example = "sms:+14105550147?body=GUIDE"
            return f"sms: must be a phone number, optionally ?body=KEYWORD ({example}), got {value!r}"
    return None


def check_url(url: str, allowed: tuple[str, ...]) -> str:
    """`url` stripped, or ValueError with the reason (for pydantic validators)."""
    problem = url_problem(url, allowed)
    if problem:
        raise ValueError(problem)
    return url.strip()
