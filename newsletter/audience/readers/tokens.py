"""Signed confirm, unsubscribe and manage links: one salt per purpose, public ids (and a delivery id)."""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum
from typing import Any, NamedTuple

import orjson
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import int_to_bytes, want_bytes
from itsdangerous.signer import HMACAlgorithm

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
        self._links: _LinkMinter | None = None
        self._serializers = {
            purpose: URLSafeTimedSerializer(
                secret_key, salt=f"newsletter.{purpose.value}", signer=_ClockSigner
            )
            for purpose in Purpose
        }

    def confirm_token(self, subscriber_id: str, list_id: str) -> str:
        """A token confirming one subscription (double opt-in); expires after 7 days."""
        return self._dumps(Purpose.CONFIRM, {"s": subscriber_id, "l": [list_id]})

    def unsubscribe_token(
        self, subscriber_id: str, list_ids: Sequence[str] = (), delivery_id: int | None = None
    ) -> str:
        """A token unsubscribing from `list_ids` (every list when empty), naming the delivery it is mailed
        in (if any) so the send's report can count it; never expires."""
        payload: dict[str, Any] = {"s": subscriber_id, "l": list(list_ids)}
        if delivery_id is not None:
            payload["d"] = delivery_id
        return self._dumps(Purpose.UNSUBSCRIBE, payload)

    def manage_token(self, subscriber_id: str) -> str:
        """A token opening one person's preferences page; valid for a year."""
        return self._dumps(Purpose.MANAGE, {"s": subscriber_id, "l": []})

    def link_tokens(
        self,
        subscriber_ids: Sequence[str],
        list_ids: Sequence[str],
        delivery_ids: Sequence[int | None] | None = None,
    ) -> list[tuple[str, str]]:
        """(unsubscribe_token(s, list_ids, d), manage_token(s)) for each of `subscriber_ids`, made in bulk.

        `delivery_ids`, when given, holds each subscriber's delivery id (same order and length).

        The same tokens the one-at-a-time methods make (same serializer format, salt, key and
        signature, one timestamp for the batch), without their per-token costs: the key is derived
        once and each signature copies two pre-keyed hash states (HMAC's inner and outer).
        """
        if self._links is None:
            self._links = _LinkMinter.checked(self)
        if delivery_ids is not None and len(delivery_ids) != len(subscriber_ids):
            raise ValueError("one delivery id (or None) per subscriber is expected")
        return self._links.pairs(subscriber_ids, list_ids, delivery_ids)

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

    def _dumps(self, purpose: Purpose, payload: dict[str, Any]) -> str:
        return str(self._serializers[purpose].dumps(payload))

    def _loads(self, purpose: Purpose, token: str) -> UnsubscribeLink:
        limit = MAX_AGE[purpose]
        try:
            payload = self._serializers[purpose].loads(
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

    def _why_refused(self, purpose: Purpose, token: str) -> str:
        for other, serializer in self._serializers.items():
            if other is not purpose:
                try:
                    serializer.loads(token)
                except BadSignature:
                    continue
                return f"this is {_a(other)}, not {_a(purpose)}"
        return f"this {_LINK_NAMES[purpose]} is damaged or was not made by this newsletter"


class _Minter:
    """Makes timed tokens of one serializer as its `dumps` would (HMAC signers only), key derived once."""

    def __init__(self, serializer: URLSafeTimedSerializer) -> None:
        signer = serializer.make_signer(serializer.salt)
        if not isinstance(signer, TimestampSigner) or not isinstance(signer.algorithm, HMACAlgorithm):
            raise TypeError("a timed, HMAC-signed serializer was expected")
        self._signer = signer
        # HMAC (RFC 2104) with its two keyed hash states made once: copying a hashlib state is about
        # half the cost of copying an hmac object (OpenSSL 3), and a third of hmac.digest's one-shot.
        digest = signer.algorithm.digest_method
        key = signer.derive_key()
        block = digest().block_size
        key = (digest(key).digest() if len(key) > block else key).ljust(block, b"\0")
        self._inner = digest(key.translate(_PAD_INNER))
        self._outer = digest(key.translate(_PAD_OUTER))
        self._sep = want_bytes(signer.sep)

    def stamp(self) -> bytes:
        """The separator and timestamp part, for tokens made now."""
        return self._sep + _b64(int_to_bytes(self._signer.get_timestamp()))

    def token(self, payload: bytes, stamp: bytes) -> str:
        """A signed token carrying the compact JSON `payload`, stamped with `stamp`."""
        value = _b64(payload) + stamp
        inner = self._inner.copy()
        inner.update(value)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return (value + self._sep + _b64(outer.digest())).decode("ascii")


class _LinkMinter:
    """Unsubscribe and manage tokens in bulk; `checked` falls back to TokenSigner if they ever differ."""

    def __init__(self, signer: TokenSigner) -> None:
        self._signer = signer
        self._unsubscribe = _Minter(signer._serializers[Purpose.UNSUBSCRIBE])
        self._manage = _Minter(signer._serializers[Purpose.MANAGE])

    @classmethod
    def checked(cls, signer: TokenSigner) -> _LinkMinter:
        """A minter whose probe tokens `signer` reads back; else one that asks `signer` token by token."""
        try:
            minter = cls(signer)
            probe = UnsubscribeLink("probe-subscriber", ("probe-list",), 7)
            (pair, (plain, manage)) = minter.pairs([probe.subscriber_id] * 2, probe.list_ids, [7, None])
            unsubscribe_ok = signer.read_unsubscribe_link(pair[0]) == probe
            plain_ok = signer.read_unsubscribe_link(plain) == probe._replace(delivery_id=None)
            if unsubscribe_ok and plain_ok and signer.read_manage(manage) == "probe-subscriber":
                return minter
        except (TypeError, AttributeError, InvalidToken):
            pass
        return _SlowLinkMinter(signer)

    def pairs(
        self,
        subscriber_ids: Sequence[str],
        list_ids: Sequence[str],
        delivery_ids: Sequence[int | None] | None = None,
    ) -> list[tuple[str, str]]:
        """(unsubscribe, manage) tokens per subscriber, all stamped now."""
        stamp = self._unsubscribe.stamp()
        lists = b',"l":' + orjson.dumps(list(list_ids))
        unsubscribe, manage = self._unsubscribe.token, self._manage.token
        ends = [b"}"] * len(subscriber_ids) if delivery_ids is None else [_end(d) for d in delivery_ids]
        out = []
        for subscriber, end in zip(subscriber_ids, ends, strict=True):
            quoted = orjson.dumps(subscriber)
            out.append(
                (
                    unsubscribe(b'{"s":' + quoted + lists + end, stamp),
                    manage(b'{"s":' + quoted + b',"l":[]}', stamp),
                )
            )
        return out


class _SlowLinkMinter(_LinkMinter):
    def __init__(self, signer: TokenSigner) -> None:
        self._signer = signer

    def pairs(
        self,
        subscriber_ids: Sequence[str],
        list_ids: Sequence[str],
        delivery_ids: Sequence[int | None] | None = None,
    ) -> list[tuple[str, str]]:
        deliveries = [None] * len(subscriber_ids) if delivery_ids is None else delivery_ids
        return [
            (self._signer.unsubscribe_token(s, list_ids, d), self._signer.manage_token(s))
            for s, d in zip(subscriber_ids, deliveries, strict=True)
        ]


_URL_SAFE = bytes.maketrans(b"+/", b"-_")
_PAD_INNER = bytes(n ^ 0x36 for n in range(256))
_PAD_OUTER = bytes(n ^ 0x5C for n in range(256))


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
