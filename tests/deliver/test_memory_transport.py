"""Memory transport: keeps each merged message and answers scripted outcomes."""

from __future__ import annotations

from support import samples

from newsletter.deliver.transports.base import Envelope
from newsletter.deliver.transports.memory import MemoryTransport


def test_keeps_each_recipients_merged_message() -> None:
    memory = MemoryTransport()
    results = memory.send_batch(samples.batch(2))

    assert [r.outcome for r in results] == ["accepted", "accepted"]
    (message,) = memory.to("READER2@example.org")
    assert message.subject == "Ann <2> & Co, a short walk after dinner"
    assert "Hello Ann &lt;2&gt; &amp; Co," in message.html
    assert "Hello Ann <2> & Co," in message.text
    assert message.headers["List-Unsubscribe"] == "<https://northwind-health.example/u/tok2?list=daily&x=1>"
    assert message.headers["X-Newsletter-Delivery"] == "2"


def test_test_sends_are_marked() -> None:
    memory = MemoryTransport()
    memory.send_batch(samples.batch(1, is_test=True))

    assert memory.messages[0].headers["X-Newsletter-Test"] == "1"
    assert memory.messages[0].is_test


def test_scripted_outcomes_apply_in_turn_then_accept() -> None:
    memory = MemoryTransport()
    memory.script("reader1@example.org", "retry", "unknown", detail="421 try later")

    outcomes = [memory.send_batch(samples.batch(1))[0].outcome for _ in range(3)]

    assert outcomes == ["retry", "unknown", "accepted"]
    assert len(memory.messages) == 3
    assert len(memory.delivered) == 1


def test_recipient_without_unsubscribe_link_is_failed() -> None:
    memory = MemoryTransport()
    results = memory.send_batch(samples.batch([Envelope(9, "x@example.org", {"first_name": "X"})]))

    assert results[0].outcome == "failed"
    assert memory.messages == []
