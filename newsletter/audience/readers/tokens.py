"""Signed confirm, unsubscribe and manage links: one key per purpose, public ids (and a delivery id).

Tokens are `2<payload>.<stamp>.<signature>`: the payload compact JSON and the stamp the Unix time, both
URL-safe base64, and the signature a keyed BLAKE2b (16 bytes) of what precedes it under the purpose's
key — one C call per token, which matters at two links per recipient of a send. The leading `2` is the
format's version. Links mailed before it (version 1: itsdangerous's `URLSafeTimedSerializer`, HMAC-SHA1,
whose payload always begins `eyJ`) are still read by itsdangerous, so they keep working.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum
from typing import Any, NamedTuple

import orjson
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from newsletter import clock
from newsletter.errors import InvalidToken


class Purpose(StrEnum):
    """What a token lets its holder do; a token works for its own purpose only."""

    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    MANAGE = "manage"


MAX_AGE: dict[Purpose, timedelta | None] = {
    Purpose.CONFIRM: timedelta(days=7),
    Purpose.UNSUBSCRIBE: None,  # the law wants unsubscribe links to keep working
    Purpose.MANAGE: timedelta(days=365),
}

_LINK_NAMES = {
    Purpose.CONFIRM: "confirmation link",
    Purpose.UNSUBSCRIBE: "unsubscribe link",
    Purpose.MANAGE: "preferences link",
}

VERSION = b"2"
"""The first character of tokens made now (version 1 tokens begin with `e`: base64 of `{"`)."""

SIGNATURE_BYTES = 16


class UnsubscribeLink(NamedTuple):
    """What an unsubscribe token says: who, which lists (empty: every list), and which delivery it came in.

    `delivery_id` is None for tokens made before deliveries were named in them, and for links not sent
    in a delivery (e.g. a confirmation page); it is signed with the rest, so it cannot be forged.
    """

    subscriber_id: str
    list_ids: tuple[str, ...]
    delivery_id: int | None


class _ClockSigner(TimestampSigner):
    """Timestamps from newsletter.clock, so tests can move time."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


class TokenSigner:
    """Makes and reads the tokens in public URLs; they carry public ids (and an unsubscribe token the row id
    of the delivery it was mailed in: signed, readable, it reveals nothing but a number)."""

    def __init__(self, secret_key: str) -> None:
        secret = hashlib.blake2b(secret_key.encode("utf-8"), digest_size=64).digest()
        self._keys = {
            purpose: hashlib.blake2b(
                f"newsletter.{purpose.value}".encode(), key=secret, digest_size=32
            ).digest()
            for purpose in Purpose
        }
        self._legacy = {
            purpose: URLSafeTimedSerializer(
                secret_key, salt=f"newsletter.{purpose.value}", signer=_ClockSigner
            )
            for purpose in Purpose
        }

    def confirm_token(self, subscriber_id: str, list_id: str) -> str:
        """A token confirming one subscription (double opt-in); expires after 7 days."""
        return self._dumps(Purpose.CONFIRM, {"s": subscriber_id, "l": [list_id]})

    def manage_token(self, subscriber_id: str) -> str:
        """A token opening one person's preferences page; valid for a year."""
        return self._dumps(Purpose.MANAGE, {"s": subscriber_id, "l": []})

    def link_tokens(
        self,
        subscriber_ids: Sequence[str],
        list_ids: Sequence[str],
        delivery_ids: Sequence[int | None] | None = None,
    ) -> list[tuple[str, str]]:
        """(unsubscribe token, manage token) for each of `subscriber_ids`, made in bulk (one timestamp for
        all). The unsubscribe token leaves `list_ids` (every list when empty), never expires, and names the
        subscriber's delivery when `delivery_ids` holds one (same order and length) so the send's report
        can count it."""
        if delivery_ids is not None and len(delivery_ids) != len(subscriber_ids):
            raise ValueError("one delivery id (or None) per subscriber is expected")
        stamp = b"." + _b64(_int_bytes(self._now()))
        lists = b',"l":' + orjson.dumps(list(list_ids))
        unsubscribe_key, manage_key = self._keys[Purpose.UNSUBSCRIBE], self._keys[Purpose.MANAGE]
        ends = [b"}"] * len(subscriber_ids) if delivery_ids is None else [_end(d) for d in delivery_ids]
        out = []
        for subscriber, end in zip(subscriber_ids, ends, strict=True):
            quoted = orjson.dumps(subscriber)
            out.append(
                (
                    _token(unsubscribe_key, b'{"s":' + quoted + lists + end, stamp),
                    _token(manage_key, b'{"s":' + quoted + b',"l":[]}', stamp),
                )
            )
        return out

    def read_confirm(self, token: str) -> tuple[str, str]:
        """The subscriber and list public ids in a confirm token."""
        subscriber_id, list_ids, _ = self._loads(Purpose.CONFIRM, token)
        if len(list_ids) != 1:
            raise InvalidToken("this confirmation link is damaged")
        return subscriber_id, list_ids[0]

    def read_unsubscribe(self, token: str) -> tuple[str, tuple[str, ...]]:
        """The subscriber public id and list public ids (empty: every list) in an unsubscribe token."""
        subscriber_id, list_ids, _ = self._loads(Purpose.UNSUBSCRIBE, token)
        return subscriber_id, list_ids

    def read_unsubscribe_link(self, token: str) -> UnsubscribeLink:
        """Everything in an unsubscribe token, the delivery it was mailed in included (None if absent)."""
        return self._loads(Purpose.UNSUBSCRIBE, token)

    def read_manage(self, token: str) -> str:
        """The subscriber public id in a manage token."""
        return self._loads(Purpose.MANAGE, token)[0]

    def _now(self) -> int:
        return int(clock.now().timestamp())

    def _dumps(self, purpose: Purpose, payload: dict[str, Any]) -> str:
        stamp = b"." + _b64(_int_bytes(self._now()))
        return _token(self._keys[purpose], orjson.dumps(payload), stamp)

    def _loads(self, purpose: Purpose, token: str) -> UnsubscribeLink:
        limit = MAX_AGE[purpose]
        try:
            if token.startswith("2"):
                payload, stamped = self._verified(purpose, token)
                if limit is not None and self._now() - stamped > limit.total_seconds():
                    raise SignatureExpired("expired")
            else:
                payload = self._legacy[purpose].loads(
                    token, max_age=None if limit is None else int(limit.total_seconds())
                )
        except SignatureExpired:
            days = limit.days if limit else 0
            raise InvalidToken(
                f"this {_LINK_NAMES[purpose]} has expired (links are valid for {days} days); "
                "ask for a new one"
            ) from None
        except BadSignature:
            raise InvalidToken(self._why_refused(purpose, token)) from None
        return _payload(purpose, payload)

    def _verified(self, purpose: Purpose, token: str) -> tuple[Any, int]:
        """The payload and timestamp of a version-2 token signed for `purpose`; BadSignature otherwise."""
        signed, dot, signature = token.encode("ascii", "replace").rpartition(b".")
        try:
            expected = hashlib.blake2b(signed, key=self._keys[purpose], digest_size=SIGNATURE_BYTES).digest()
            if not dot or not hmac.compare_digest(_unb64(signature), expected):
                raise BadSignature("signature does not match")
            payload, _, stamp = signed[1:].partition(b".")
            return orjson.loads(_unb64(payload)), int.from_bytes(_unb64(stamp), "big")
        except (binascii.Error, ValueError, orjson.JSONDecodeError):
            raise BadSignature("malformed token") from None

    def _why_refused(self, purpose: Purpose, token: str) -> str:
        for other in Purpose:
            if other is not purpose:
                try:
                    if token.startswith("2"):
                        self._verified(other, token)
                    else:
                        self._legacy[other].loads(token)
                except BadSignature:
                    continue
                return f"this is {_a(other)}, not {_a(purpose)}"
        return f"this {_LINK_NAMES[purpose]} is damaged or was not made by this newsletter"


def _token(key: bytes, payload: bytes, stamp: bytes) -> str:
    """`2<payload>.<stamp>.<signature>`, the signature one keyed BLAKE2b of everything before it."""
    signed = VERSION + _b64(payload) + stamp
    signature = hashlib.blake2b(signed, key=key, digest_size=SIGNATURE_BYTES).digest()
    return (signed + b"." + _b64(signature)).decode("ascii")


def _int_bytes(number: int) -> bytes:
    """Big-endian, no leading zero bytes (as itsdangerous writes its timestamps)."""
    return number.to_bytes((number.bit_length() + 7) // 8 or 1, "big")


def _unb64(data: bytes) -> bytes:
    """The inverse of `_b64`."""
    return binascii.a2b_base64(data.translate(_URL_SAFE_BACK) + b"=" * (-len(data) % 4))


_URL_SAFE = bytes.maketrans(b"+/", b"-_")
_URL_SAFE_BACK = bytes.maketrans(b"-_", b"+/")


def _end(delivery_id: int | None) -> bytes:
    """The end of an unsubscribe payload: `,"d":<id>}` as orjson writes it, or just `}` without one."""
    if delivery_id is None:
        return b"}"
    if type(delivery_id) is not int:
        raise TypeError("a delivery id is an int")
    return b',"d":' + str(delivery_id).encode() + b"}"


def _b64(data: bytes) -> bytes:
    """URL-safe base64 without padding, as itsdangerous writes it."""
    return binascii.b2a_base64(data, newline=False).translate(_URL_SAFE).rstrip(b"=")


def _a(purpose: Purpose) -> str:
    name = _LINK_NAMES[purpose]
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _payload(purpose: Purpose, payload: Any) -> UnsubscribeLink:
    subscriber = payload.get("s") if isinstance(payload, dict) else None
    lists = payload.get("l") if isinstance(payload, dict) else None
    delivery = payload.get("d") if isinstance(payload, dict) else None
    if (
        not isinstance(subscriber, str)
        or not isinstance(lists, list)
        or not all(isinstance(item, str) for item in lists)
        or (delivery is not None and (type(delivery) is not int or purpose is not Purpose.UNSUBSCRIBE))
    ):
        raise InvalidToken(f"this {_LINK_NAMES[purpose]} is damaged")
    return UnsubscribeLink(subscriber, tuple(lists), delivery)
