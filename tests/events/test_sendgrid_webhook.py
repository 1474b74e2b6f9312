"""Signature checks and parsing of SendGrid's event webhook, without a database."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from conftest import FrozenClock
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from events.helpers import WebhookKey, body_of, event
from newsletter.errors import ConfigError, WebhookError
from newsletter.events.sendgrid_webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureVerifier,
    load_public_key,
    parse_events,
)

BODY = body_of([event("delivered", (7, 3, "ann@example.org"))])


def _verify(verifier: SignatureVerifier, body: bytes, headers: dict[str, str]) -> None:
    verifier.verify(body, headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER))


def test_a_body_signed_with_the_key_passes(webhook_key: WebhookKey, frozen_clock: FrozenClock) -> None:
    _verify(SignatureVerifier(webhook_key.public_b64), BODY, webhook_key.headers(BODY))


def test_the_key_may_be_pasted_with_line_breaks(webhook_key: WebhookKey, frozen_clock: FrozenClock) -> None:
    wrapped = "\n".join(webhook_key.public_b64[i : i + 64] for i in range(0, len(webhook_key.public_b64), 64))
    _verify(SignatureVerifier(f" {wrapped}\n"), BODY, webhook_key.headers(BODY))


@pytest.mark.parametrize("position", [0, 40, -2])
def test_a_one_byte_change_is_refused(
    webhook_key: WebhookKey, frozen_clock: FrozenClock, position: int
) -> None:
    headers = webhook_key.headers(BODY)
    changed = bytearray(BODY)
    changed[position] ^= 0x01
    with pytest.raises(WebhookError, match="signature does not match") as refused:
        _verify(SignatureVerifier(webhook_key.public_b64), bytes(changed), headers)
    assert refused.value.status == 403


def test_a_body_that_is_not_utf8_is_refused(webhook_key: WebhookKey, frozen_clock: FrozenClock) -> None:
    body = BODY + b"\xff"
    with pytest.raises(WebhookError) as refused:
        _verify(SignatureVerifier(webhook_key.public_b64), body, webhook_key.headers(body))
    assert refused.value.status == 403


def test_another_key_is_refused(webhook_key: WebhookKey, frozen_clock: FrozenClock) -> None:
    other = WebhookKey()
    with pytest.raises(WebhookError) as refused:
        _verify(SignatureVerifier(webhook_key.public_b64), BODY, other.headers(BODY))
    assert refused.value.status == 403


@pytest.mark.parametrize("minutes", [-11, 11, -600])
def test_timestamps_more_than_ten_minutes_away_are_stale(
    webhook_key: WebhookKey, frozen_clock: FrozenClock, minutes: int
) -> None:
    headers = webhook_key.headers(BODY, at=frozen_clock.now() + timedelta(minutes=minutes))
    with pytest.raises(WebhookError, match="stale") as refused:
        _verify(SignatureVerifier(webhook_key.public_b64), BODY, headers)
    assert refused.value.status == 403


def test_nine_minutes_of_clock_skew_is_accepted(webhook_key: WebhookKey, frozen_clock: FrozenClock) -> None:
    headers = webhook_key.headers(BODY, at=frozen_clock.now() - timedelta(minutes=9))
    _verify(SignatureVerifier(webhook_key.public_b64), BODY, headers)


def test_a_signature_of_another_timestamp_is_refused(
    webhook_key: WebhookKey, frozen_clock: FrozenClock
) -> None:
    headers = webhook_key.headers(BODY)
    headers[TIMESTAMP_HEADER] = str(int(headers[TIMESTAMP_HEADER]) + 1)
    with pytest.raises(WebhookError, match="signature does not match"):
        _verify(SignatureVerifier(webhook_key.public_b64), BODY, headers)


@pytest.mark.parametrize(
    ("signature", "timestamp", "message"),
    [
        (None, "1790000000", "missing"),
        ("c2ln", None, "missing"),
        ("not base64 at all!", "now", "unreadable"),
        ("%%%", "{now}", "signature does not match"),
        (base64.b64encode(b"short").decode(), "{now}", "signature does not match"),
    ],
)
def test_missing_or_garbled_headers_are_refused(
    webhook_key: WebhookKey,
    frozen_clock: FrozenClock,
    signature: str | None,
    timestamp: str | None,
    message: str,
) -> None:
    if timestamp is not None:
        timestamp = timestamp.format(now=int(frozen_clock.now().timestamp()))
    with pytest.raises(WebhookError, match=message) as refused:
        SignatureVerifier(webhook_key.public_b64).verify(BODY, signature, timestamp)
    assert refused.value.status == 403


def _b64_der(public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> str:
    return base64.b64encode(public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).decode()


@pytest.mark.parametrize(
    "key",
    [
        "not-a-key",
        base64.b64encode(b"\x30\x03garbage").decode(),
        _b64_der(ec.generate_private_key(ec.SECP384R1()).public_key()),
        _b64_der(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()),
    ],
)
def test_an_unusable_public_key_is_a_config_error_naming_the_variable(key: str) -> None:
    with pytest.raises(ConfigError, match="SENDGRID_WEBHOOK_PUBLIC_KEY"):
        load_public_key(key)


NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def test_parsing_keeps_known_fields_and_every_other_field() -> None:
    raw = event(
        "bounce",
        (7, 3, "Ann@Example.org"),
        type="blocked",
        bounce_classification="Reputation",
        reason="550 blocked",
        brand_new={"nested": [1, 2]},
        timestamp=1_795_000_000,
    )
    [parsed] = parse_events(body_of([raw]), received_at=NOW)
    assert (parsed.type, parsed.bounce_type, parsed.classification) == ("bounce", "blocked", "Reputation")
    assert (parsed.send_id, parsed.delivery_id, parsed.email) == (3, 7, "Ann@Example.org")
    assert parsed.occurred_at == datetime.fromtimestamp(1_795_000_000, UTC)
    assert parsed.detail["brand_new"] == {"nested": [1, 2]}
    assert parsed.detail["reason"] == "550 blocked"
    assert "email" not in parsed.detail
    assert "send_id" not in parsed.detail


def test_machine_opens_are_flagged() -> None:
    events = parse_events(
        body_of([event("open", sg_machine_open=True), event("open", sg_machine_open=False), event("open")]),
        received_at=NOW,
    )
    assert [e.machine_open for e in events] == [True, False, None]


def test_odd_values_do_not_fail_the_batch() -> None:
    raw = [
        {"event": "delivered", "sg_event_id": "a", "timestamp": "soon", "delivery_id": "x", "send_id": True},
        {"event": None, "sg_event_id": "b", "timestamp": 10**18, "delivery_id": -4, "email": ["a"]},
        "not an object",
        17,
        {"event": "click", "sg_event_id": "c", "timestamp": "1795000000", "delivery_id": "12", "url": None},
        {
            "event": "open",
            "sg_event_id": "d",
            "timestamp": "١٧٩٥٠٠٠٠٠٠",
            "delivery_id": "²",
            "send_id": " 7 ",
        },
    ]
    a, b, c, d = parse_events(body_of(raw), received_at=NOW)
    assert (a.occurred_at, a.delivery_id, a.send_id) == (NOW, None, None)
    assert (b.type, b.occurred_at, b.delivery_id, b.email) == ("unknown", NOW, None, None)
    assert (c.delivery_id, c.url, c.occurred_at.year) == (12, None, 2026)
    assert (d.occurred_at, d.delivery_id, d.send_id) == (NOW, None, 7)


def test_an_event_without_id_gets_the_same_id_each_time_it_is_sent() -> None:
    raw = {"event": "open", "email": "ann@example.org", "timestamp": 1_795_000_000}
    first = parse_events(body_of([raw]), received_at=NOW)[0].sg_event_id
    again = parse_events(body_of([dict(reversed(list(raw.items())))]), received_at=NOW)[0].sg_event_id
    other = parse_events(body_of([{**raw, "timestamp": 1_795_000_001}]), received_at=NOW)[0].sg_event_id
    assert first == again != other


@pytest.mark.parametrize("body", [b"", b"[{]", b'{"event": "open"}', b'"events"', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_array_is_refused_with_400(body: bytes) -> None:
    with pytest.raises(WebhookError) as refused:
        parse_events(body, received_at=NOW)
    assert refused.value.status == 400
