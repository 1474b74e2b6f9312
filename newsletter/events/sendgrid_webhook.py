"""SendGrid's signed event webhook: check the ECDSA signature on the raw body, then parse events.

Refusals are `WebhookError(status)`: 403 for a missing, stale or wrong signature, 400 for a body that is not a
JSON array. Parsing keeps what SendGrid may add (unknown types and fields) and names events without an id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader

from newsletter import clock
from newsletter.errors import ConfigError, WebhookError
from newsletter.events.kinds import kind_of

SIGNATURE_HEADER: Final = EventWebhookHeader.SIGNATURE
TIMESTAMP_HEADER: Final = EventWebhookHeader.TIMESTAMP
MAX_CLOCK_SKEW: Final = timedelta(minutes=10)
"""A signed timestamp further than this from our clock (either way) is refused as stale."""
MAX_BODY_BYTES: Final = 5 * 1024 * 1024
"""Bodies larger than this are refused (413) before they are read in full."""

_COLUMNS: Final = frozenset(
    {"event", "sg_event_id", "sg_message_id", "timestamp", "email", "send_id", "delivery_id"}
    | {"type", "bounce_classification", "sg_machine_open", "url"}
)
_ID_LENGTH: Final = 128


@dataclass(slots=True)
class Event:
    """One event as SendGrid sent it: the fields we use, and every other field in `detail`."""

    sg_event_id: str
    type: str
    occurred_at: datetime
    email: str | None = None
    sg_message_id: str | None = None
    send_id: int | None = None
    delivery_id: int | None = None
    bounce_type: str | None = None
    classification: str | None = None
    machine_open: bool | None = None
    url: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    kind: str = ""
    """kinds.kind_of: the type, with bounces split into hard_bounce/blocked and machine opens apart."""

    def __post_init__(self) -> None:
        if not self.kind:
            self.kind = kind_of(self.type, self.bounce_type, self.machine_open)


class SignatureVerifier:
    """Checks SendGrid's signature and timestamp headers against one public key."""

    def __init__(self, public_key: str, *, max_skew: timedelta = MAX_CLOCK_SKEW) -> None:
        self._helper = EventWebhook()
        self._key = load_public_key(public_key)
        self._max_skew = max_skew

    def verify(self, body: bytes, signature: str | None, timestamp: str | None) -> None:
        """Return if `body` was signed by SendGrid recently; raise WebhookError(403) otherwise."""
        if not signature or not timestamp:
            raise WebhookError("missing SendGrid signature headers", status=403)
        try:
            signed_at = datetime.fromtimestamp(int(timestamp.strip()), UTC)
        except (ValueError, OverflowError, OSError):
            raise WebhookError("unreadable signature timestamp", status=403) from None
        if abs(clock.now() - signed_at) > self._max_skew:
            raise WebhookError("stale signature timestamp", status=403)
        try:
            text = body.decode("utf-8")
            valid = self._helper.verify_signature(text, signature, timestamp, self._key)
        except (UnicodeDecodeError, binascii.Error, ValueError):
            valid = False
        if not valid:
            raise WebhookError("signature does not match the body", status=403)


def load_public_key(public_key: str) -> ec.EllipticCurvePublicKey:
    """The P-256 key from its base64 DER text; ConfigError naming SENDGRID_WEBHOOK_PUBLIC_KEY if unusable."""
    text = "".join(public_key.split())
    try:
        key = EventWebhook().convert_public_key_to_ecdsa(text)
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigError("SENDGRID_WEBHOOK_PUBLIC_KEY: not a base64 DER public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ConfigError("SENDGRID_WEBHOOK_PUBLIC_KEY: not an ECDSA P-256 public key")
    return key


def parse_events(body: bytes, *, received_at: datetime | None = None) -> list[Event]:
    """The events of a webhook body (a JSON array); WebhookError(400) if it is not one."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise WebhookError("body is not JSON", status=400) from None
    if not isinstance(data, list):
        raise WebhookError("body is not a JSON array of events", status=400)
    when = received_at or clock.now()
    return [to_event(item, when) for item in data if isinstance(item, dict)]


def to_event(item: dict[str, Any], received_at: datetime) -> Event:
    """One event object → Event; missing or odd values become None (or `received_at` for the time)."""
    get = item.get
    event_type = _text(get("event"), 32) or "unknown"
    detail = dict(item)  # every field we do not keep in a column, in SendGrid's order
    for name in _COLUMNS:
        detail.pop(name, None)
    return Event(
        _text(get("sg_event_id"), _ID_LENGTH) or _content_id(item),
        event_type,
        _time(get("timestamp"), received_at),
        _text(get("email"), 320),
        _text(get("sg_message_id"), 255),
        _int(get("send_id")),
        _int(get("delivery_id")),
        _text(get("type"), 16) if event_type == "bounce" else None,
        _text(get("bounce_classification"), 64),
        _bool(get("sg_machine_open")) if event_type == "open" else None,
        _text(get("url"), 8192),
        detail,
    )


def _content_id(item: dict[str, Any]) -> str:
    digest = hashlib.sha256(orjson.dumps(item, option=orjson.OPT_SORT_KEYS)).digest()
    return "sha256:" + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if type(value) is not str:
        if value is None or isinstance(value, dict | list):
            return None
        value = str(value)
    text = value.strip()
    return text[:limit] if text else None


def _int(value: Any) -> int | None:
    if type(value) is str:
        value = value.strip()
        if not (value.isascii() and value.isdigit()):
            return None
        value = int(value)
    elif type(value) is not int:
        return None
    return value if 0 < value < 2**62 else None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | str):
        return str(value).strip().lower() in {"1", "true", "yes"}
    return None


def _time(value: Any, default: datetime) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (ValueError, OverflowError, OSError):
            return default
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return _time(int(value.strip()), default)
    return default
