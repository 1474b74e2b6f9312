"""Contract tests: the SendGrid transport's requests against SendGrid's own OpenAPI spec, served by Prism."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import samples

from newsletter.content.load import load_issue
from newsletter.deliver.transports.base import Envelope, OutgoingBatch, chunked
from newsletter.deliver.transports.sendgrid import SendGridTransport
from newsletter.render import render_issue

pytestmark = pytest.mark.prism

E_ALERT = Path(__file__).resolve().parents[2] / "issues" / "2026-11-20-muscle-loss-culprit.yaml"


def no_wait(seconds: float) -> None:
    """Prism never rate-limits; a retry would be a bug, so waiting is pointless."""


def test_a_2500_recipient_send_is_accepted_by_the_schema(prism_url: str) -> None:
    loaded = load_issue(E_ALERT)
    rendered = render_issue(loaded.issue, loaded.publication, slug=loaded.slug)
    transport = SendGridTransport("SG.test", host=prism_url, sleep=no_wait)
    envelopes = samples.envelopes(2500)

    sizes, outcomes, details = [], set(), set()
    for part in chunked(envelopes, transport.max_batch_size):
        batch = OutgoingBatch(
            send_id=1,
            rendered=rendered,
            publication=loaded.publication,
            envelopes=part,
            categories=["issue-2026-11-20"],
        )
        results = transport.send_batch(batch)
        sizes.append(len(results))
        outcomes |= {r.outcome for r in results}
        details |= {r.detail for r in results}

    assert sizes == [1000, 1000, 500]
    assert outcomes == {"accepted"}, details
    assert details == {"HTTP 202"}


def test_a_request_the_schema_refuses_is_failed_with_prisms_violations(prism_url: str) -> None:
    transport = SendGridTransport("SG.test", host=prism_url, sleep=no_wait)
    bad = Envelope(1, "not-an-address", samples.values(1))
    (result,) = transport.send_batch(samples.batch([bad]))

    assert result.outcome == "failed"
    assert "sl-violations" in result.detail
    assert "personalizations.0.to.0.email" in result.detail
