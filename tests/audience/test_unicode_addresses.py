"""Unicode addresses are stored one way (ASCII domain, local part as given) at import, subscribe and add,
and both spellings of a domain are one person, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from conftest import RecordingSender
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.addresses import has_non_ascii_local_part
from newsletter.audience.csvimport.importer import import_csv
from newsletter.audience.people.subscribers import add_subscriber, erase_subscriber
from newsletter.audience.readers.optin import subscribe
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db.tables import Delivery, MailingList, Subscriber
from newsletter.errors import Suppressed
from newsletter.events.ingest import ingest
from newsletter.events.sendgrid_webhook import to_event
from tests.events.helpers import make_send

from .conftest import FORM, WriteCsv, read_csv


def _stored(session: Session) -> list[str]:
    return sorted(session.scalars(select(Subscriber.email)))


def test_import_stores_ascii_domains_and_merges_both_spellings(
    session: Session, e_alert: MailingList, write_csv: WriteCsv
) -> None:
    """The importer stored `user@xn--bcher-kva.de` as `user@bücher.de`, which SendGrid's schema refuses."""
    path = write_csv(
        [
            ["email", "name"],
            ["user@xn--bcher-kva.de", "Given in ASCII"],
            ["müller@example.org", "Müller"],
            ["User@BÜCHER.de", "Given in Unicode"],
        ]
    )
    report = import_csv(session, path, "e-alert")
    assert (report.rows, report.added, report.merged) == (3, 2, 1)
    assert _stored(session) == ["müller@example.org", "user@xn--bcher-kva.de"]
    assert [has_non_ascii_local_part(email) for email in _stored(session)] == [True, False]
    again = import_csv(session, write_csv([["email"], ["user@bücher.de"]], "again.csv"), "e-alert")
    assert (again.added, again.unchanged) == (0, 1)


def test_add_and_subscribe_store_the_same_form(
    session: Session, e_alert: MailingList, signer: TokenSigner, sender: RecordingSender
) -> None:
    assert add_subscriber(session, "user@bücher.de", "e-alert") == "added"
    assert add_subscriber(session, "USER@xn--bcher-kva.de", "e-alert") == "already_subscribed"
    outcome = subscribe(
        session,
        signer,
        sender,
        email="user@BÜCHER.DE",
        list_public_id=e_alert.public_id,
        consent=FORM,
        confirm_url=lambda token: f"https://news.example.org/confirm/{token}",
    )
    assert outcome == "already_subscribed"
    assert _stored(session) == ["user@xn--bcher-kva.de"]


def test_a_suppression_under_one_spelling_blocks_the_other(
    session: Session, e_alert: MailingList, write_csv: WriteCsv
) -> None:
    """A hard bounce reported for the Unicode spelling keeps the ASCII one from being added or imported."""
    raw = {
        "event": "bounce",
        "type": "bounce",
        "sg_event_id": "b-1",
        "email": "user@bücher.de",
        "timestamp": 1,
    }
    ingest(session, [to_event(raw, clock.now())])
    session.commit()
    with pytest.raises(Suppressed, match=r"user@xn--bcher-kva\.de was not added"):
        add_subscriber(session, "user@xn--bcher-kva.de", "e-alert")
    report = import_csv(session, write_csv([["email"], ["user@xn--bcher-kva.de"]]), "e-alert")
    assert (report.added, report.suppressed) == (0, 1)
    assert read_csv(report.rejects_path)[0]["reason"] == "suppressed (hard_bounce)"


def test_erasure_finds_deliveries_written_with_either_spelling(
    session: Session, e_alert: MailingList
) -> None:
    add_subscriber(session, "user@bücher.de", "e-alert")
    send_id, _ = make_send(session, ["user@bücher.de", "user@xn--bcher-kva.de", "other@example.com"])
    session.execute(update(Delivery).values(subscriber_id=None))
    session.commit()
    erase_subscriber(session, "user@xn--bcher-kva.de")
    left = sorted(session.scalars(select(Delivery.email).where(Delivery.send_id == send_id)))
    assert [email.endswith("@erased.invalid") for email in left] == [True, True, False]
    assert left[2] == "other@example.com"
