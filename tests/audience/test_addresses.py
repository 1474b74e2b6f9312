"""Address normalising gives exactly email-validator's verdict, lower-cased; hashes are stable."""

from __future__ import annotations

import random
import string

import pytest
from email_validator import EmailNotValidError, validate_email

from newsletter.audience.addresses import InvalidAddress, email_hash, normalise_email

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
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


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
