"""One finished message through each transport (a confirmation email): accepted, or a DeliveryError."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from support.fixtures import smtp_server
from support.smtp_server import SmtpServer

from newsletter.deliver.transports.outbox import OutboxTransport
from newsletter.deliver.transports.smtp import SmtpTransport
from newsletter.errors import DeliveryError

__all__ = ["smtp_server"]


def _message(to: str = "reader@example.org") -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "Please confirm"
    message["From"] = "Brief <brief@example.org>"
    message["To"] = to
    message["Message-ID"] = "<c1@example.org>"
    message.set_content("Click https://example.org/confirm/abc\n")
    return message


def test_the_outbox_writes_one_message_by_its_message_id(tmp_path: Path) -> None:
    OutboxTransport(tmp_path).send_message(_message())
    written = email.message_from_bytes(
        (tmp_path / "messages" / "c1@example.org.eml").read_bytes(), policy=default
    )
    assert written["To"] == "reader@example.org"
    assert "https://example.org/confirm/abc" in written.get_payload()


def test_an_unwritable_outbox_is_a_retryable_delivery_error(tmp_path: Path) -> None:
    (tmp_path / "messages").write_text("a file where the folder should be")
    with pytest.raises(DeliveryError, match="cannot write") as caught:
        OutboxTransport(tmp_path).send_message(_message())
    assert caught.value.retryable


def test_smtp_sends_one_message_on_its_own_connection(smtp_server: SmtpServer) -> None:
    SmtpTransport.from_url(smtp_server.url()).send_message(_message())
    [received] = smtp_server.messages_to("reader@example.org")
    assert received["Subject"] == "Please confirm"


def test_a_refused_recipient_is_a_permanent_delivery_error(smtp_server: SmtpServer) -> None:
    smtp_server.reject("gone@example.org", "550 5.1.1 no such mailbox")
    with pytest.raises(DeliveryError, match="550") as caught:
        SmtpTransport.from_url(smtp_server.url()).send_message(_message("gone@example.org"))
    assert not caught.value.retryable


def test_an_unreachable_smtp_server_is_a_retryable_delivery_error() -> None:
    transport = SmtpTransport.from_url("smtp://127.0.0.1:9?timeout=2")  # discard port: nothing listens
    with pytest.raises(DeliveryError, match=r"could not be sent through 127\.0\.0\.1:9") as caught:
        transport.send_message(_message())
    assert caught.value.retryable
