"""Signed tokens for confirm, unsubscribe and manage links: one salt per purpose, public ids only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum
from typing import Any

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


class _ClockSigner(TimestampSigner):
    """Timestamps from newsletter.clock, so tests can move time."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


class TokenSigner:
    """Makes and reads the tokens in public URLs; they carry public ids, never primary keys."""

    def __init__(self, secret_key: str) -> None:
        self._serializers = {
            purpose: URLSafeTimedSerializer(
                secret_key, salt=f"newsletter.{purpose.value}", signer=_ClockSigner
            )
            for purpose in Purpose
        }

    def confirm_token(self, subscriber_id: str, list_id: str) -> str:
        """A token confirming one subscription (double opt-in); expires after 7 days."""
        return self._dumps(Purpose.CONFIRM, {"s": subscriber_id, "l": [list_id]})

    def unsubscribe_token(self, subscriber_id: str, list_ids: Sequence[str] = ()) -> str:
        """A token unsubscribing from `list_ids` (every list when empty); never expires."""
        return self._dumps(Purpose.UNSUBSCRIBE, {"s": subscriber_id, "l": list(list_ids)})

    def manage_token(self, subscriber_id: str) -> str:
        """A token opening one person's preferences page; valid for a year."""
        return self._dumps(Purpose.MANAGE, {"s": subscriber_id, "l": []})

    def read_confirm(self, token: str) -> tuple[str, str]:
        """The subscriber and list public ids in a confirm token."""
        subscriber_id, list_ids = self._loads(Purpose.CONFIRM, token)
        if len(list_ids) != 1:
            raise InvalidToken("this confirmation link is damaged")
        return subscriber_id, list_ids[0]

    def read_unsubscribe(self, token: str) -> tuple[str, tuple[str, ...]]:
        """The subscriber public id and list public ids (empty: every list) in an unsubscribe token."""
        return self._loads(Purpose.UNSUBSCRIBE, token)

    def read_manage(self, token: str) -> str:
        """The subscriber public id in a manage token."""
        return self._loads(Purpose.MANAGE, token)[0]

    def _dumps(self, purpose: Purpose, payload: dict[str, Any]) -> str:
        return str(self._serializers[purpose].dumps(payload))

    def _loads(self, purpose: Purpose, token: str) -> tuple[str, tuple[str, ...]]:
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


def _a(purpose: Purpose) -> str:
    name = _LINK_NAMES[purpose]
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _payload(purpose: Purpose, payload: Any) -> tuple[str, tuple[str, ...]]:
    subscriber = payload.get("s") if isinstance(payload, dict) else None
    lists = payload.get("l") if isinstance(payload, dict) else None
    if (
        not isinstance(subscriber, str)
        or not isinstance(lists, list)
        or not all(isinstance(item, str) for item in lists)
    ):
        raise InvalidToken(f"this {_LINK_NAMES[purpose]} is damaged")
    return subscriber, tuple(lists)
