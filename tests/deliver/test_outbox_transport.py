"""Outbox transport: one .eml per delivery, written atomically, replaced (not duplicated) when rewritten."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from pathlib import Path

from support import samples

from newsletter.deliver.transports.base import Envelope
from newsletter.deliver.transports.outbox import OutboxTransport


def read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_one_file_per_recipient_with_their_message(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path / "outbox")
    results = outbox.send_batch(samples.batch(2, send_id=12))

    folder = tmp_path / "outbox" / "send-12"
    assert sorted(p.name for p in folder.iterdir()) == ["1.eml", "2.eml"]
    assert [r.outcome for r in results] == ["accepted", "accepted"]
    message = read(folder / "2.eml")
    assert message["To"] == "reader2@example.org"
    assert message["List-Unsubscribe"] == "<https://northwind-health.example/u/tok2?list=daily&x=1>"
    assert message["X-Newsletter-Delivery"] == "2"
    assert message["X-Newsletter-Test"] is None
    assert message["Message-ID"] == results[1].provider_message_id
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    assert "Hello Ann <2> & Co," in plain.get_content()


def test_writing_a_delivery_again_replaces_it_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path)
    outbox.send_batch(samples.batch(1, send_id=3))
    target = outbox.path_for(3, 1)
    with target.open("rb") as reader_of_first_version:
        changed = Envelope(1, "reader1@example.org", {**samples.values(1), "first_name": "Bea"})
        outbox.send_batch(samples.batch([changed], send_id=3))
        first = reader_of_first_version.read()

    assert [p.name for p in target.parent.iterdir()] == ["1.eml"]
    assert b"Hello Ann <1> & Co," in first  # a reader holding the old file still sees it whole
    assert "Hello Bea," in str(read(target).get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]


def test_unwritable_target_is_retry_and_leaves_nothing_behind(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path)
    outbox.path_for(5, 1).mkdir(parents=True)  # a directory where the file should go
    results = outbox.send_batch(samples.batch(2, send_id=5))

    assert [r.outcome for r in results] == ["retry", "accepted"]
    assert "cannot write" in results[0].detail
    assert sorted(p.name for p in (tmp_path / "send-5").iterdir()) == ["1.eml", "2.eml"]
    assert outbox.path_for(5, 1).is_dir()


def test_recipient_without_unsubscribe_link_is_failed_and_not_written(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path)
    results = outbox.send_batch(samples.batch([Envelope(1, "reader1@example.org", {})]))

    assert results[0].outcome == "failed"
    assert not outbox.path_for(7, 1).exists()
