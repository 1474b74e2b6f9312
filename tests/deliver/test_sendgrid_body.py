"""The SendGrid body the transport sends (bytes from pre-serialised pieces) says what the payload says."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from support import samples

from newsletter.deliver.transports.base import Envelope
from newsletter.deliver.transports.sendgrid_payload import build_body, build_payload


def plain(n: int) -> Envelope:
    base = "https://northwind-health.example"
    values = {
        "first_name": f'Ann{n} "the" \\ Ünïcode',
        "unsubscribe_url": f"{base}/u/tok{n}.sig",
        "manage_url": f"{base}/m/tok{n}.sig",
        "view_url": f"{base}/v/2026-11-20",
    }
    return Envelope(n, samples.address(n), values)


@pytest.mark.parametrize(
    "envelopes",
    [[plain(1), plain(2)], samples.envelopes(3), [plain(1), *samples.envelopes(1, start=2)]],
    ids=["compact-keys", "per-part-keys", "one-value-needs-escaping"],
)
@pytest.mark.parametrize("is_test", [False, True])
def test_the_body_bytes_are_the_payload(envelopes: list[Envelope], is_test: bool) -> None:
    batch = samples.batch(
        envelopes,
        is_test=is_test,
        categories=["daily-brief"],
        send_at=datetime(2026, 11, 20, 11, 0, tzinfo=UTC),
        sendgrid_batch_id="B42",
    )

    assert orjson.loads(build_body(batch, envelopes, sandbox=True)) == build_payload(
        batch, envelopes, sandbox=True
    )
