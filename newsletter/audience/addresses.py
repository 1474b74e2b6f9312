"""Email address normalising (email-validator, no DNS) and the sha256 hash suppressions are keyed by."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT, EMAIL_MAX_LENGTH, LOCAL_PART_MAX_LENGTH

from newsletter.errors import AudienceError


class InvalidAddress(AudienceError):
    """An email address that email-validator refuses; `detail` says why."""

    def __init__(self, address: str, detail: str) -> None:
        super().__init__(f"{address!r} is not a valid email address: {detail}")
        self.detail = detail


def normalise_email(raw: str) -> str:
    """The stripped, validated, lower-cased form of `raw`; InvalidAddress says what is wrong.

    Plain ASCII addresses take a fast path that gives exactly email-validator's answer: the
    local part is checked with email-validator's own dot-atom rule and the domain's verdict is
    cached per (lower-cased) domain. Anything else (quotes, Unicode, errors) goes through `validate_email`.
    """
    text = raw.strip()
    local, at, domain = text.rpartition("@")
    if (
        at
        and text.isascii()
        and len(local) <= LOCAL_PART_MAX_LENGTH
        and len(text) <= EMAIL_MAX_LENGTH
        and DOT_ATOM_TEXT.match(local)
    ):
        ascii_domain = _plain_domain(domain.lower())
        if ascii_domain is not None:
            return f"{local}@{ascii_domain}".lower()
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(text, str(exc)) from None
    return result.normalized.lower()


@lru_cache(maxsize=65_536)
def _plain_domain(domain: str) -> str | None:
    """The normalised domain if it is valid and plain ASCII (no IDNA), else None (use the slow path)."""
    try:
        result = validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return None
    if result.domain != result.ascii_domain:
        return None
    return str(result.domain)


def email_hash(normalised: str) -> str:
    """The sha256 hex digest of a normalised address: how suppressions outlive an erasure."""
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def normalise_and_hash(raw: str) -> tuple[str, str]:
    """The normalised address and its hash."""
    email = normalise_email(raw)
    return email, email_hash(email)
