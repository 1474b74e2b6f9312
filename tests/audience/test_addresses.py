"""Address normalising gives exactly email-validator's verdict, stored lower-cased with an ASCII domain;
hashes are stable and the same for both spellings of a domain."""

from __future__ import annotations

import hashlib
import random
import string

import pytest
from email_validator import EmailNotValidError, validate_email

from newsletter.audience.addresses import (
    InvalidAddress,
    email_hash,
    has_non_ascii_local_part,
    normalise_and_hash,
    normalise_email,
    spellings,
    unicode_form,
)

TRICKY = [
    "Jane.Doe@Example.COM",
    "  spaced@example.org  ",
    "plus+tag@example.co.uk",
    "o'brien@example.ie",
    "=cmd@example.com",
    "-dash@example.com",
    "a@b.c",
    "a@localhost",
    "a@example",
    "a@example.test",
    "a@example.invalid",
    "a@-example.com",
    "a@example-.com",
    "a@exa_mple.com",
    "a@[127.0.0.1]",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    '"quoted"@example.com',
    '"a b"@example.com',
    "Jane <jane@example.com>",
    "jane@exämple.com",
    "jané@example.com",
    "jane@xn--exmple-cua.com",
    "jane@EXAMPLE.com.",
    "two@@example.com",
    "no-at-sign",
    "@example.com",
    "jane@",
    "x" * 64 + "@example.com",
    "x" * 65 + "@example.com",
    "a@" + "b" * 63 + ".com",
    "a@" + "b" * 64 + ".com",
    "a@" + ".".join(["c" * 60] * 4) + ".com",
    "postmaster@example.com",
    "POSTMASTER@Example.com",
    "a@123.com",
    "a@example.123",
    "a\tb@example.com",
]


def _reference(raw: str) -> str | None:
    """email-validator's verdict, as stored: its local part and its ASCII domain, lower-cased."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    return f"{result.local_part}@{result.ascii_domain}".lower()


def _ours(raw: str) -> str | None:
    try:
        return normalise_email(raw)
    except InvalidAddress:
        return None


@pytest.mark.parametrize("raw", TRICKY)
def test_normalise_agrees_with_email_validator(raw: str) -> None:
    assert _ours(raw) == _reference(raw)


def test_normalise_agrees_on_random_addresses() -> None:
    rng = random.Random(20261120)
    alphabet = string.ascii_letters + string.digits + ".-_+=@!#'\"<> " + "éß"
    for _ in range(3000):
        local = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        domain = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        raw = f"{local}@{domain}" if rng.random() < 0.8 else local + domain
        assert _ours(raw) == _reference(raw), raw


def test_mixed_case_and_spaces_normalise_to_one_address() -> None:
    assert normalise_email("  Jane.Doe@Example.COM ") == "jane.doe@example.com"
    assert email_hash("jane.doe@example.com") == email_hash(normalise_email("JANE.DOE@example.com"))


def test_invalid_address_names_the_address_and_the_reason() -> None:
    with pytest.raises(InvalidAddress, match=r"'no-at-sign' is not a valid email address: .*@-sign"):
        normalise_email("no-at-sign")


def test_unicode_domains_are_stored_in_ascii_and_local_parts_as_given() -> None:
    """The importer turned `user@xn--bcher-kva.de` into `user@bücher.de`, which SendGrid refuses."""
    assert normalise_email("user@xn--bcher-kva.de") == "user@xn--bcher-kva.de"
    assert normalise_email("User@BÜCHER.de") == "user@xn--bcher-kva.de"
    assert normalise_email("Müller@Example.org") == "müller@example.org"
    assert normalise_email("jürgen@bücher.de") == "jürgen@xn--bcher-kva.de"
    assert normalise_email("x@faß.de") == "x@xn--fa-hia.de"
    assert normalise_email("x@XN--FA-HIA.de") == "x@xn--fa-hia.de"
    assert all(normalise_email(raw).rpartition("@")[2].isascii() for raw in TRICKY if _ours(raw))


def test_both_spellings_of_a_domain_have_the_hash_kept_before() -> None:
    """Hashes are over the Unicode form, as before: suppressions of erased people (no address) still match."""
    kept_before = hashlib.sha256("user@bücher.de".encode()).hexdigest()
    assert normalise_and_hash("user@bücher.de") == ("user@xn--bcher-kva.de", kept_before)
    assert normalise_and_hash("user@xn--bcher-kva.de")[1] == kept_before
    assert email_hash("user@bücher.de") == kept_before
    assert email_hash("a@example.com") == hashlib.sha256(b"a@example.com").hexdigest()


def test_what_the_rest_of_the_code_may_ask() -> None:
    assert has_non_ascii_local_part("müller@example.org")
    assert not has_non_ascii_local_part("user@xn--bcher-kva.de")
    assert unicode_form("user@xn--bcher-kva.de") == "user@bücher.de"
    assert unicode_form("a@example.com") == "a@example.com"
    assert unicode_form("a@xn--not-valid-idna.com") == "a@xn--not-valid-idna.com"
    assert spellings("user@xn--bcher-kva.de") == ("user@xn--bcher-kva.de", "user@bücher.de")
    assert spellings("a@example.com") == ("a@example.com",)
