"""The one address normaliser: how an address is stored (email-validator, no DNS), and its hash.

Stored form: stripped, validated and lower-cased, the domain in its ASCII form (IDNA: `bücher.de` is
kept as `xn--bcher-kva.de`), the local part as given (no encoding exists for it). So the stored text
of every address has a plain ASCII domain, which every transport can carry; only a non-ASCII local
part needs SMTPUTF8 (`has_non_ascii_local_part`). Both spellings of a domain are one address.

The hash (how suppressions outlive an erasure) is taken over the address with its domain in Unicode
form, as it always was: it is the same for both spellings, so hashes kept before the ASCII form was
stored, including erased people's (whose address is gone), still match.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import idna
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT, EMAIL_MAX_LENGTH, LOCAL_PART_MAX_LENGTH

from newsletter.errors import AudienceError

ACE_PREFIX = "xn--"
"""How an ASCII (IDNA) label of a Unicode domain begins."""


class InvalidAddress(AudienceError):
    """An email address that email-validator refuses; `detail` says why."""

    def __init__(self, address: str, detail: str) -> None:
        super().__init__(f"{address!r} is not a valid email address: {detail}")
        self.detail = detail


def normalise_email(raw: str) -> str:
    """The stored form of `raw` (see the module); InvalidAddress says what is wrong.

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
        ascii_domain = _ascii_domain(domain.lower())
        if ascii_domain is not None:
            return f"{local}@{ascii_domain}".lower()
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(text, str(exc)) from None
    return f"{result.local_part}@{result.ascii_domain}".lower()


@lru_cache(maxsize=65_536)
def _ascii_domain(domain: str) -> str | None:
    """The stored form of a valid domain given in ASCII, else None (use the slow path, which says why)."""
    try:
        result = validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return None
    return str(result.ascii_domain).lower()


def email_hash(address: str) -> str:
    """The sha256 hex digest of a normalised address with its domain in Unicode form (either spelling)."""
    local, _, domain = address.rpartition("@")
    if ACE_PREFIX in domain:
        address = f"{local}@{unicode_domain(domain)}"
    return hashlib.sha256(address.encode("utf-8")).hexdigest()


def normalise_and_hash(raw: str) -> tuple[str, str]:
    """The normalised address and its hash."""
    email = normalise_email(raw)
    return email, email_hash(email)


def has_non_ascii_local_part(address: str) -> bool:
    """Whether a stored address needs SMTPUTF8 (or a provider that takes Unicode) to be mailed."""
    return not address.rpartition("@")[0].isascii()


def unicode_form(address: str) -> str:
    """The address with its domain in Unicode form (for people to read, and for the hash)."""
    local, at, domain = address.rpartition("@")
    return f"{local}{at}{unicode_domain(domain)}" if ACE_PREFIX in domain else address


def spellings(address: str) -> tuple[str, ...]:
    """The stored form and, if it differs, the Unicode form rows written before the ASCII form may hold."""
    other = unicode_form(address)
    return (address,) if other == address else (address, other)


@lru_cache(maxsize=4096)
def unicode_domain(domain: str) -> str:
    """An ASCII (IDNA) domain in Unicode form, lower-cased; the text unchanged if it is not valid IDNA."""
    try:
        return str(idna.decode(domain)).lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        return domain


@lru_cache(maxsize=4096)
def ascii_domain(domain: str) -> str:
    """A domain in ASCII (IDNA 2008 with UTS #46 mapping, as addresses are stored); UnicodeError when it has
    no ASCII form."""
    try:
        return str(idna.encode(domain, uts46=True).decode("ascii"))
    except (idna.IDNAError, ValueError) as exc:
        raise UnicodeError(str(exc)) from None
