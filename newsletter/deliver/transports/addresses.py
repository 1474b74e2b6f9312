"""How a transport writes a recipient's address on the wire, and whether it can carry it at all.

The domain goes as IDNA (punycode: `bücher.de` → `xn--bcher-kva.de`), whatever form it is stored in; the
local part goes as it is. A non-ASCII local part (`müller@…`) has no ASCII form: it needs SMTPUTF8 on
SMTP, and SendGrid does not take it. A transport that cannot carry an address marks that recipient
failed with the reason before sending anything, so one address never touches its batch-mates.
"""

from __future__ import annotations

from typing import NamedTuple

from newsletter.audience.addresses import ascii_domain, has_non_ascii_local_part


class WireAddress(NamedTuple):
    """An address as the transport sends it, or (address "") why it cannot."""

    address: str
    refusal: str = ""
    utf8: bool = False
    """The local part is not ASCII (the message and its envelope need SMTPUTF8)."""


def wire_address(email: str, *, utf8_local_parts: bool, why_not: str) -> WireAddress:
    """`email` with its domain as IDNA; refused when its local part is not ASCII and `utf8_local_parts`
    is false (`why_not` then says what is missing), or when it has no IDNA form. Text without an `@`
    goes as it is, for the provider to refuse in its own words."""
    if email.isascii():  # nothing to convert, nothing to refuse (one C call: the usual case)
        return WireAddress(email)
    local, at, domain = email.rpartition("@")
    if not at:  # not an address at all: the provider says why (nothing here to convert)
        return WireAddress(email)
    try:
        wire_domain = domain if domain.isascii() else ascii_domain(domain)
    except UnicodeError as exc:
        return WireAddress("", f"not sent: the domain of {email} has no IDNA (punycode) form: {exc}")
    utf8 = has_non_ascii_local_part(email)
    if utf8 and not utf8_local_parts:
        return WireAddress("", f"not sent: {email} has a non-ASCII local part; {why_not}")
    return WireAddress(f"{local}@{wire_domain}", utf8=utf8)
