"""SMTP transport against a real aiosmtpd server: one message per recipient, replies mapped to outcomes."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from support import samples
from support.fixtures import SMTP_LOGIN
from support.smtp_server import SmtpServer, TlsFiles, free_port

from newsletter.deliver.transports.base import Envelope
from newsletter.deliver.transports.smtp import SmtpOptions, SmtpTransport
from newsletter.errors import ConfigError


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def test_each_recipient_gets_one_message_with_their_own_values(smtp_server: SmtpServer) -> None:
    batch = samples.batch(3)
    results = SmtpTransport.from_url(smtp_server.url()).send_batch(batch)

    assert [r.outcome for r in results] == ["accepted"] * 3
    assert len(smtp_server.received) == 3
    for envelope, result in zip(batch.envelopes, results, strict=True):
        (message,) = smtp_server.messages_to(envelope.email)
        url = envelope.values["unsubscribe_url"]
        n = envelope.delivery_id
        assert message["To"] == envelope.email
        assert message["Subject"] == f"Ann <{n}> & Co, a short walk after dinner"
        assert message["List-Unsubscribe"] == f"<{url}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["X-Newsletter-Send"] == "7"
        assert message["X-Newsletter-Delivery"] == str(n)
        assert message["Message-ID"] == result.provider_message_id
        assert f"Hello Ann <{n}> & Co," in body(message, "plain")
        assert f"Unsubscribe: {url}" in body(message, "plain")
        assert f"Hello Ann &lt;{n}&gt; &amp; Co," in body(message, "html")
        assert f'href="{url.replace("&", "&amp;")}"' in body(message, "html")
    assert {r.mail_from for r in smtp_server.received} == {"brief@northwind-health.example"}
    assert len({r.peer for r in smtp_server.received}) == 1  # one connection for the whole batch


def test_permanent_refusal_fails_only_that_recipient(smtp_server: SmtpServer) -> None:
    smtp_server.reject("reader2@example.org", "550 5.1.1 No such user here")
    results = SmtpTransport.from_url(smtp_server.url()).send_batch(samples.batch(3))

    assert [r.outcome for r in results] == ["accepted", "failed", "accepted"]
    assert results[1].detail == "550 5.1.1 No such user here"
    assert [r.rcpt_tos for r in smtp_server.received] == [
        ("reader1@example.org",),
        ("reader3@example.org",),
    ]


def test_temporary_refusal_is_retry(smtp_server: SmtpServer) -> None:
    smtp_server.reject("reader1@example.org", "451 4.7.1 Greylisted, try again later")
    results = SmtpTransport.from_url(smtp_server.url()).send_batch(samples.batch(2))

    assert [r.outcome for r in results] == ["retry", "accepted"]
    assert results[0].detail.startswith("451 4.7.1")


def test_connection_lost_during_data_is_unknown_and_not_resent(smtp_server: SmtpServer) -> None:
    smtp_server.drop_during_data("reader2@example.org")
    results = SmtpTransport.from_url(smtp_server.url()).send_batch(samples.batch(3))

    assert [r.outcome for r in results] == ["accepted", "unknown", "accepted"]
    assert "during DATA" in results[1].detail
    assert len(smtp_server.messages_to("reader2@example.org")) == 1
    assert len(smtp_server.messages_to("reader3@example.org")) == 1


def test_reconnects_when_the_server_hangs_up_between_messages(smtp_server: SmtpServer) -> None:
    smtp_server.hang_up_after("reader1@example.org")
    smtp_server.hang_up_after("reader2@example.org")
    results = SmtpTransport.from_url(smtp_server.url()).send_batch(samples.batch(3))

    assert [r.outcome for r in results] == ["accepted"] * 3
    assert len({r.peer for r in smtp_server.received}) == 3
    assert [r.rcpt_tos[0] for r in smtp_server.received] == [
        "reader1@example.org",
        "reader2@example.org",
        "reader3@example.org",
    ]


def test_unreachable_server_leaves_everyone_to_retry() -> None:
    results = SmtpTransport.from_url(f"smtp://127.0.0.1:{free_port()}", timeout=2).send_batch(
        samples.batch(3)
    )

    assert [r.outcome for r in results] == ["retry"] * 3
    assert all("cannot reach SMTP server" in r.detail for r in results)


def test_recipient_without_unsubscribe_link_is_failed_and_not_sent(smtp_server: SmtpServer) -> None:
    envs = [Envelope(1, "reader1@example.org", {"first_name": "Bo"}), *samples.envelopes(1, start=2)]
    results = SmtpTransport.from_url(smtp_server.url()).send_batch(samples.batch(envs))

    assert [r.outcome for r in results] == ["failed", "accepted"]
    assert "unsubscribe_url" in results[0].detail
    assert [r.rcpt_tos for r in smtp_server.received] == [("reader2@example.org",)]


def test_starttls_with_login(smtp_starttls_server: SmtpServer, tls_files: TlsFiles) -> None:
    transport = SmtpTransport.from_url(smtp_starttls_server.url(), ssl_context=tls_files.client_context())
    results = transport.send_batch(samples.batch(2))

    assert [r.outcome for r in results] == ["accepted", "accepted"]
    assert len(smtp_starttls_server.received) == 2


def test_implicit_tls_with_login(smtps_server: SmtpServer, tls_files: TlsFiles) -> None:
    transport = SmtpTransport.from_url(smtps_server.url(), ssl_context=tls_files.client_context())
    results = transport.send_batch(samples.batch(1))

    assert [r.outcome for r in results] == ["accepted"]
    assert len(smtps_server.received) == 1


def test_wrong_password_is_retry_with_the_servers_reply(
    smtp_starttls_server: SmtpServer, tls_files: TlsFiles
) -> None:
    url = smtp_starttls_server.url(user=SMTP_LOGIN[0], password="wrong")
    results = SmtpTransport.from_url(url, ssl_context=tls_files.client_context()).send_batch(samples.batch(2))

    assert [r.outcome for r in results] == ["retry", "retry"]
    assert "535" in results[0].detail
    assert smtp_starttls_server.received == []


def test_untrusted_certificate_is_refused(smtp_starttls_server: SmtpServer) -> None:
    results = SmtpTransport.from_url(smtp_starttls_server.url()).send_batch(samples.batch(1))

    assert results[0].outcome == "retry"
    assert "CERTIFICATE_VERIFY_FAILED" in results[0].detail
    assert smtp_starttls_server.received == []


def test_options_from_url() -> None:
    options = SmtpOptions.from_url("smtp://mail%40user:p%3Ass%20w@mail.example:2525?starttls=1&timeout=7")
    assert options == SmtpOptions(
        host="mail.example",
        port=2525,
        username="mail@user",
        password="p:ss w",
        starttls=True,
        implicit_tls=False,
        timeout=7.0,
    )
    secure = SmtpOptions.from_url("smtps://relay.example?starttls=1")  # already TLS: no STARTTLS
    assert (secure.port, secure.implicit_tls, secure.starttls, secure.username) == (465, True, False, None)
    assert SmtpOptions.from_url("smtp://relay.example").port == 25


@pytest.mark.parametrize("url", ["http://relay.example", "smtp://", "smtp://relay.example?timeout=x"])
def test_bad_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="NEWSLETTER_SMTP_URL"):
        SmtpOptions.from_url(url)
