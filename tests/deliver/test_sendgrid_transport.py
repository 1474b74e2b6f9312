"""SendGrid transport against the recording stand-in: payload shape, retries, and honest outcomes."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Any

import pytest
from support import samples
from support.sendgrid_recorder import (
    SendGridRecorder,
    accept,
    bad_request,
    drop,
    rate_limited,
    server_error,
    stall,
)
from support.sleeps import Sleeps
from support.smtp_server import free_port

from newsletter.deliver.transports.base import Envelope, subject_template
from newsletter.deliver.transports.sendgrid import SendGridTransport
from newsletter.errors import ProviderRefused
from newsletter.render import merge


def transport(url: str, sleeps: Sleeps, **options: Any) -> SendGridTransport:
    return SendGridTransport("SG.test", host=url, timeout=5.0, sleep=sleeps, **options)


def substituted(document: str, substitutions: dict[str, str]) -> str:
    """What SendGrid does with legacy substitutions: replace each key by its value."""
    for key, value in substitutions.items():
        document = document.replace(key, value)
    return document


def test_one_request_per_thousand_recipients_in_order(
    sendgrid_recorder: SendGridRecorder, sleeps: Sleeps
) -> None:
    batch = samples.batch(2001)
    results = transport(sendgrid_recorder.url, sleeps).send_batch(batch)

    sizes = [len(body["personalizations"]) for body in sendgrid_recorder.accepted]
    assert sizes == [1000, 1000, 1]
    assert sendgrid_recorder.accepted_recipients == [e.email for e in batch.envelopes]
    assert [r.delivery_id for r in results] == [e.delivery_id for e in batch.envelopes]
    assert {r.outcome for r in results} == {"accepted"}
    assert [results[0].provider_message_id, results[1000].provider_message_id] == ["msg-1", "msg-2"]


def test_the_librarys_debug_log_names_the_body_size_not_the_recipients(
    sendgrid_recorder: SendGridRecorder, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    batch = samples.batch(3)
    with caplog.at_level(logging.DEBUG, logger="python_http_client"):
        transport(sendgrid_recorder.url, sleeps).send_batch(batch)

    payload_lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("PAYLOAD:")]
    assert len(payload_lines) == 1
    assert payload_lines[0].endswith(" bytes>")  # the size, not 3 addresses and their signed links
    assert not any(e.email in r.getMessage() for r in caplog.records for e in batch.envelopes)
    assert sendgrid_recorder.accepted_recipients == [e.email for e in batch.envelopes]


def test_each_recipient_reads_their_own_values_escaped_in_html_raw_in_text(
    sendgrid_recorder: SendGridRecorder, sleeps: Sleeps
) -> None:
    batch = samples.batch(2)
    transport(sendgrid_recorder.url, sleeps).send_batch(batch)

    (body,) = sendgrid_recorder.accepted
    text, html = (part["value"] for part in body["content"])
    assert [part["type"] for part in body["content"]] == ["text/plain", "text/html"]
    for envelope, person in zip(batch.envelopes, body["personalizations"], strict=True):
        subs = person["substitutions"]
        expected_html, expected_text = merge(batch.rendered, envelope.values)
        assert substituted(html, subs) == expected_html
        assert substituted(text, subs) == expected_text
        assert substituted(body["subject"], subs) == subject_template(batch.rendered).render(envelope.values)
    first = substituted(html, body["personalizations"][0]["substitutions"])
    assert "Hello Ann &lt;1&gt; &amp; Co," in first
    assert 'href="https://northwind-health.example/u/tok1?list=daily&amp;x=1"' in first
    assert "Hello Ann <1> & Co," in substituted(text, body["personalizations"][0]["substitutions"])


def plain_values(n: int) -> dict[str, str]:
    """Values that HTML escaping leaves as they are (the usual case: signed links, plain names)."""
    base = "https://northwind-health.example"
    return {
        "first_name": f"Ann{n}",
        "name": f"Ann{n} Lee",
        "email": samples.address(n),
        "unsubscribe_url": f"{base}/u/tok{n}.sig",
        "manage_url": f"{base}/m/tok{n}.sig",
        "view_url": f"{base}/v/2026-11-20",
    }


def test_when_no_html_value_needs_escaping_each_value_is_carried_once_per_recipient(
    sendgrid_recorder: SendGridRecorder, sleeps: Sleeps
) -> None:
    batch = samples.batch([Envelope(n, samples.address(n), plain_values(n)) for n in (1, 2)])
    transport(sendgrid_recorder.url, sleeps).send_batch(batch)

    (body,) = sendgrid_recorder.accepted
    text, html = (part["value"] for part in body["content"])
    for envelope, person in zip(batch.envelopes, body["personalizations"], strict=True):
        subs = person["substitutions"]
        assert sorted(subs.values()) == sorted(set(subs.values()))  # no value twice
        assert all(key.startswith("-m") for key in subs)
        expected_html, expected_text = merge(batch.rendered, envelope.values)
        assert substituted(html, subs) == expected_html
        assert substituted(text, subs) == expected_text
        assert substituted(body["subject"], subs) == subject_template(batch.rendered).render(envelope.values)


def test_one_recipient_whose_value_needs_escaping_gives_the_request_per_part_keys(
    sendgrid_recorder: SendGridRecorder, sleeps: Sleeps
) -> None:
    envelopes = [Envelope(1, samples.address(1), plain_values(1)), *samples.envelopes(1, start=2)]
    batch = samples.batch(envelopes)
    transport(sendgrid_recorder.url, sleeps).send_batch(batch)

    (body,) = sendgrid_recorder.accepted
    html = body["content"][1]["value"]
    for envelope, person in zip(batch.envelopes, body["personalizations"], strict=True):
        assert not any(key.startswith("-m") for key in person["substitutions"])
        assert substituted(html, person["substitutions"]) == merge(batch.rendered, envelope.values)[0]


def test_fallback_used_when_a_value_is_missing(sendgrid_recorder: SendGridRecorder, sleeps: Sleeps) -> None:
    values = {**samples.values(1), "first_name": ""}
    batch = samples.batch([Envelope(1, "reader1@example.org", values)])
    transport(sendgrid_recorder.url, sleeps).send_batch(batch)

    (body,) = sendgrid_recorder.accepted
    subs = body["personalizations"][0]["substitutions"]
    assert substituted(body["subject"], subs) == "Friend, a short walk after dinner"


def test_envelope_ids_unsubscribe_headers_and_message_settings(
    sendgrid_recorder: SendGridRecorder, sleeps: Sleeps
) -> None:
    batch = samples.batch(2, categories=["daily-brief", "issue-2026-11-20"])
    transport(sendgrid_recorder.url, sleeps).send_batch(batch)

    (body,) = sendgrid_recorder.accepted
    person = body["personalizations"][1]
    assert person["to"] == [{"email": "reader2@example.org"}]
    assert person["custom_args"] == {"send_id": "7", "delivery_id": "2"}
    assert person["headers"] == {
        "List-Unsubscribe": "<https://northwind-health.example/u/tok2?list=daily&x=1>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert body["from"] == {"email": "brief@northwind-health.example", "name": "Daily Wellness Brief"}
    assert body["reply_to"] == {"email": "readers@northwind-health.example"}
    assert body["asm"] == {"group_id": 4242}
    assert body["categories"] == ["daily-brief", "issue-2026-11-20"]
    assert not {"send_at", "batch_id"} & body.keys()  # we schedule; SendGrid sends at once
    assert "mail_settings" not in body


def test_without_asm_or_categories_those_keys_are_left_out(
    sendgrid_recorder: SendGridRecorder, sleeps: Sleeps
) -> None:
    plain = samples.publication(sendgrid={}, reply_to=None)
    transport(sendgrid_recorder.url, sleeps).send_batch(samples.batch(1, publication=plain))

    (body,) = sendgrid_recorder.accepted
    assert not {"asm", "categories", "reply_to", "send_at", "batch_id"} & body.keys()


def test_test_sends_are_marked_and_sandbox_only_when_asked(
    sendgrid_recorder: SendGridRecorder, sleeps: Sleeps
) -> None:
    transport(sendgrid_recorder.url, sleeps, sandbox=True).send_batch(samples.batch(1, is_test=True))

    (body,) = sendgrid_recorder.accepted
    assert body["mail_settings"] == {"sandbox_mode": {"enable": True}}
    assert body["personalizations"][0]["custom_args"]["test"] == "1"


def test_recipient_without_unsubscribe_link_is_failed_and_not_sent(
    sendgrid_recorder: SendGridRecorder, sleeps: Sleeps
) -> None:
    envs = samples.envelopes(3)
    envs[1] = Envelope(2, "reader2@example.org", {"first_name": "Bo"})
    results = transport(sendgrid_recorder.url, sleeps).send_batch(samples.batch(envs))

    assert [r.outcome for r in results] == ["accepted", "failed", "accepted"]
    assert "unsubscribe_url" in results[1].detail
    assert sendgrid_recorder.accepted_recipients == ["reader1@example.org", "reader3@example.org"]


def test_rate_limit_waits_until_reset_then_sends_once(
    sendgrid_recorder: SendGridRecorder, sleeps: Sleeps
) -> None:
    sendgrid_recorder.script(rate_limited(reset_in=5), accept())
    batch = samples.batch(3)
    results = transport(sendgrid_recorder.url, sleeps).send_batch(batch)

    assert [r.outcome for r in results] == ["accepted"] * 3
    assert [r.status for r in sendgrid_recorder.requests] == [429, 202]
    assert sendgrid_recorder.accepted_recipients == [e.email for e in batch.envelopes]
    assert len(sleeps) == 1
    assert 4.0 <= sleeps[0] <= 6.0


def test_rate_limit_wait_is_capped(sendgrid_recorder: SendGridRecorder, sleeps: Sleeps) -> None:
    sendgrid_recorder.script(rate_limited(reset_in=3600), accept())
    results = transport(sendgrid_recorder.url, sleeps, max_rate_limit_wait=60).send_batch(samples.batch(1))

    assert results[0].outcome == "accepted"
    assert sleeps == [60]


def test_server_error_backs_off_then_sends_once(sendgrid_recorder: SendGridRecorder, sleeps: Sleeps) -> None:
    sendgrid_recorder.script(server_error(500), server_error(503), accept())
    results = transport(sendgrid_recorder.url, sleeps).send_batch(samples.batch(2))

    assert [r.outcome for r in results] == ["accepted", "accepted"]
    assert [r.status for r in sendgrid_recorder.requests] == [500, 503, 202]
    assert len(sendgrid_recorder.accepted) == 1
    assert 0.5 <= sleeps[0] <= 1.0
    assert 1.0 <= sleeps[1] <= 2.0


def test_server_errors_give_up_after_bounded_attempts_as_retry(
    sendgrid_recorder: SendGridRecorder, sleeps: Sleeps
) -> None:
    sendgrid_recorder.script(*[server_error(502, "bad gateway")] * 3)
    results = transport(sendgrid_recorder.url, sleeps, max_attempts=3).send_batch(samples.batch(2))

    assert {r.outcome for r in results} == {"retry"}
    assert "HTTP 502: bad gateway" in results[0].detail
    assert "3 attempts" in results[0].detail
    assert len(sendgrid_recorder.requests) == 3
    assert len(sleeps) == 2
    assert sendgrid_recorder.accepted == []


def test_bad_request_fails_with_sendgrids_message_and_is_not_retried(
    sendgrid_recorder: SendGridRecorder, sleeps: Sleeps
) -> None:
    sendgrid_recorder.script(
        bad_request("The from email does not contain a valid address.", field="from.email")
    )
    results = transport(sendgrid_recorder.url, sleeps).send_batch(samples.batch(2))

    assert {r.outcome for r in results} == {"failed"}
    assert results[0].detail == "HTTP 400: from.email: The from email does not contain a valid address."
    assert len(sendgrid_recorder.requests) == 1
    assert sleeps == []


def test_rejected_api_key_refuses_the_whole_batch_without_retrying(sleeps: Sleeps) -> None:
    with SendGridRecorder(api_key="SG.right") as recorder:
        transport = SendGridTransport("SG.wrong", host=recorder.url, sleep=sleeps)
        with pytest.raises(
            ProviderRefused, match="refused the API key or its permissions: HTTP 401"
        ) as caught:
            transport.send_batch(samples.batch(2))

    assert caught.value.results == []
    assert len(recorder.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize("reply", [stall(10.0), drop()], ids=["timeout", "dropped"])
def test_timeout_or_dropped_connection_is_unknown_and_never_resent(
    sendgrid_recorder: SendGridRecorder, sleeps: Sleeps, reply: Any
) -> None:
    sendgrid_recorder.script(reply)
    batch = samples.batch(3)
    results = SendGridTransport("SG.test", host=sendgrid_recorder.url, timeout=0.5, sleep=sleeps).send_batch(
        batch
    )

    assert {r.outcome for r in results} == {"unknown"}
    assert results[0].detail.startswith("outcome unknown")
    assert len(sendgrid_recorder.requests) == 1
    assert sleeps == []


def test_unreachable_server_is_retry_after_bounded_attempts(sleeps: Sleeps) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    results = SendGridTransport("SG.test", host=url, max_attempts=2, sleep=sleeps).send_batch(
        samples.batch(2)
    )

    assert {r.outcome for r in results} == {"retry"}
    assert "ConnectionRefusedError" in results[0].detail
    assert len(sleeps) == 1


def test_requests_do_not_inherit_headers_from_earlier_calls(
    sendgrid_recorder: SendGridRecorder, sleeps: Sleeps
) -> None:
    sg = transport(sendgrid_recorder.url, sleeps)
    sg.send_batch(samples.batch(1))
    sg.send_message(_one_message())
    sg.send_batch(samples.batch(1))

    sends = sendgrid_recorder.requests
    assert [r.headers["Authorization"] for r in sends] == ["Bearer SG.test"] * 3
    assert all(isinstance(r.body, dict) for r in sends)  # JSON objects, not a JSON-encoded string
    assert [len(r.body["personalizations"]) for r in sends] == [1, 1, 1]


def _one_message() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "brief@example.org", "a@example.org", "Hello"
    message.set_content("One plain-text message.\n")
    return message
