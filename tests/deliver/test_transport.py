"""The seam itself: every transport fits the protocol; batches refuse ambiguous times."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.deliver.transports.base import Transport
from newsletter.deliver.transports.memory import MemoryTransport
from newsletter.deliver.transports.outbox import OutboxTransport
from newsletter.deliver.transports.sendgrid import SendGridTransport
from newsletter.deliver.transports.smtp import SmtpTransport
from newsletter.errors import ConfigError


def test_every_transport_fits_the_protocol(tmp_path: Path) -> None:
    transports: list[Transport] = [
        MemoryTransport(),
        OutboxTransport(tmp_path),
        SendGridTransport("SG.test", host="http://127.0.0.1:9"),
        SmtpTransport.from_url("smtp://127.0.0.1:9"),
    ]
    assert [(t.name, t.max_batch_size) for t in transports] == [
        ("memory", 1000),
        ("outbox", 1000),
        ("sendgrid", 1000),
        ("smtp", 100),
    ]
    for transport in transports:
        transport.close()


def test_sendgrid_needs_an_api_key() -> None:
    with pytest.raises(ConfigError, match="SENDGRID_API_KEY"):
        SendGridTransport("")
