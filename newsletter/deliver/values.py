"""Each recipient's merge values: name parts, address and signed unsubscribe / manage / view links.

Signing two links per recipient is most of the per-recipient cost of a send, so `_Minter` signs them
the way `TokenSigner` does (same serializer, salt, key and signature) with the fixed costs taken once
per send: the signer and its derived key built once, JSON by orjson, never a zlib attempt (a short
payload never shrinks; the reader accepts both forms). It proves itself on start-up by having the
`TokenSigner` read a token it made; if that ever fails, LinkMaker uses the `TokenSigner` itself.
"""

from __future__ import annotations

import binascii
import hmac
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import int_to_bytes, want_bytes
from itsdangerous.signer import HMACAlgorithm

from newsletter.audience.tokens import Purpose, TokenSigner
from newsletter.content.schema import Publication
from newsletter.errors import InvalidToken
from newsletter.render.sample import sample_values

_PROBE_ID = "probe-subscriber"


class _Minter:
    """Makes tokens of one purpose in the format the serializer's `loads` reads (HMAC signers only)."""

    def __init__(self, serializer: URLSafeTimedSerializer) -> None:
        signer = serializer.make_signer(serializer.salt)
        if not isinstance(signer, TimestampSigner) or not isinstance(signer.algorithm, HMACAlgorithm):
            raise TypeError("a timed, HMAC-signed serializer was expected")
        self._signer = signer
        self._mac = hmac.new(signer.derive_key(), digestmod=signer.algorithm.digest_method)
        self._sep = want_bytes(signer.sep)

    def stamp(self) -> bytes:
        """The separator and timestamp part, for tokens made now."""
        return self._sep + _b64(int_to_bytes(self._signer.get_timestamp()))

    def token(self, payload: dict[str, Any], stamp: bytes) -> str:
        """A signed token carrying `payload`, stamped with `stamp`."""
        value = _b64(orjson.dumps(payload)) + stamp
        mac = self._mac.copy()
        mac.update(value)
        return (value + self._sep + _b64(mac.digest())).decode("ascii")


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def _b64(data: bytes) -> bytes:
    """URL-safe base64 without padding, as itsdangerous writes it."""
    return binascii.b2a_base64(data, newline=False).translate(_URL_SAFE).rstrip(b"=")


Tokens = Callable[[str, list[str]], tuple[str, str]]
"""tokens(subscriber_public_id, list_public_ids) -> (unsubscribe token, manage token)."""


def _link_tokens(signer: TokenSigner) -> Tokens:
    """The fast minters once `signer` has read tokens they made; otherwise `signer` itself."""

    def slow(subscriber: str, lists: list[str]) -> tuple[str, str]:
        return signer.unsubscribe_token(subscriber, lists), signer.manage_token(subscriber)

    serializers: dict[Purpose, URLSafeTimedSerializer] | None = getattr(signer, "_serializers", None)
    try:
        assert serializers is not None
        unsubscribe, manage = _Minter(serializers[Purpose.UNSUBSCRIBE]), _Minter(serializers[Purpose.MANAGE])

        def fast(subscriber: str, lists: list[str]) -> tuple[str, str]:
            stamp = unsubscribe.stamp()
            return (
                unsubscribe.token({"s": subscriber, "l": lists}, stamp),
                manage.token({"s": subscriber, "l": []}, stamp),
            )

        unsubscribe_probe, manage_probe = fast(_PROBE_ID, ["probe-list"])
        if signer.read_unsubscribe(unsubscribe_probe) != (_PROBE_ID, ("probe-list",)):
            return slow
        if signer.read_manage(manage_probe) != _PROBE_ID:
            return slow
    except (AssertionError, KeyError, AttributeError, TypeError, InvalidToken):
        return slow
    return fast


class LinkMaker:
    """Builds the per-recipient links of one send (public URLs carry signed tokens, never row ids)."""

    def __init__(
        self, signer: TokenSigner, publication: Publication, slug: str, list_ids: Sequence[str]
    ) -> None:
        self._publication = publication
        self._slug = slug
        self._list_ids = list(list_ids)
        self._tokens = _link_tokens(signer)
        base = publication.web_base_url.rstrip("/")
        self._unsubscribe_base = f"{base}/unsubscribe/"
        self._manage_base = f"{base}/preferences/"
        self._view_url = f"{base}/archive/{slug}"

    def values(
        self, *, email: str, public_id: str | None, name: str | None, attributes: dict[str, Any]
    ) -> dict[str, str]:
        """Merge values for one recipient; a test recipient (no subscriber) gets the sample links."""
        if public_id is None:
            return sample_values(self._publication, self._slug, email=email)
        first, last = _name_parts(name, attributes)
        unsubscribe, manage = self._tokens(public_id, self._list_ids)
        return {
            "first_name": first,
            "last_name": last,
            "name": (name or "").strip(),
            "email": email,
            "unsubscribe_url": self._unsubscribe_base + unsubscribe,
            "manage_url": self._manage_base + manage,
            "view_url": self._view_url,
        }


def _name_parts(name: str | None, attributes: dict[str, Any]) -> tuple[str, str]:
    first = str(attributes.get("first_name") or "").strip()
    last = str(attributes.get("last_name") or "").strip()
    if first or last:
        return first, last
    words = (name or "").split()
    return (words[0], " ".join(words[1:])) if words else ("", "")
