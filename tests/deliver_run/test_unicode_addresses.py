"""Addresses every transport can carry: a non-ASCII local part and an internationalised domain among
ASCII readers. SMTP sends the domain as IDNA and a non-ASCII local part only with SMTPUTF8 (else that
reader fails with the reason, before anything is sent); SendGrid gets IDNA domains and refuses
non-ASCII local parts per recipient. One address never touches its batch-mates: every ASCII reader
once, nobody twice, no crash, no unknowns."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker
from support.smtp_server import SmtpServer

from newsletter import clock
from newsletter.audience.addresses import email_hash
from newsletter.audience.people.lists import get_list
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db.tables import Delivery, Subscriber, Subscription
from newsletter.deliver.engine.claims import worker_identity
from newsletter.deliver.engine.run import RunOptions, SendRunner
from newsletter.deliver.transports.base import Transport
from newsletter.deliver.transports.sendgrid import SendGridTransport
from newsletter.deliver.transports.smtp import SmtpTransport

from .helpers import add_readers, counts, schedule

ASCII_READERS = 2_497
"""On SQLite, as the acceptance asks; PostgreSQL runs the same with fewer (CI time)."""
MUELLER = "müller@example.org"
BUECHER = {"unicode": "user@bücher.de", "punycode": "user@xn--bcher-kva.de"}
BUECHER_ON_THE_WIRE = "user@xn--bcher-kva.de"


def add_stored_as_given(session: Session, list_name: str, emails: list[str]) -> None:
    """Subscribers stored exactly as written (as an importer that kept them would have)."""
    now = clock.now()
    list_id = get_list(session, list_name).id
    for email in emails:
        subscriber_id = session.execute(
            insert(Subscriber)
            .values(
                email=email,
                email_hash=email_hash(email),
                name="Uni Code",
                attributes={},
                status="enabled",
                created_at=now,
                updated_at=now,
            )
            .returning(Subscriber.id)
        ).scalar_one()
        session.execute(
            insert(Subscription).values(
                subscriber_id=subscriber_id,
                list_id=list_id,
                status="active",
                created_at=now,
                subscribed_at=now,
                updated_at=now,
            )
        )
    session.commit()


def ascii_readers(backend: str) -> int:
    return ASCII_READERS if backend == "sqlite" else 497


def send_to_everyone(
    session: Session,
    sessions: sessionmaker[Session],
    transport: Transport,
    signer: TokenSigner,
    form: str,
    readers: int,
) -> tuple[int, list[str]]:
    everyone = add_readers(session, "daily-brief", readers)
    add_stored_as_given(session, "daily-brief", [MUELLER, BUECHER[form]])
    send_id = schedule(sessions, transport=transport.name)
    runner = SendRunner(sessions, transport, signer, worker_identity(), RunOptions(batch_size=500))
    report = runner.run(send_id)
    assert report.status == "sent"
    return send_id, everyone


def rows(sessions: sessionmaker[Session], send_id: int) -> dict[str, tuple[str, str | None]]:
    with sessions() as session:
        found = session.execute(
            select(Delivery.email, Delivery.status, Delivery.detail).where(Delivery.send_id == send_id)
        )
        return {email: (status, detail) for email, status, detail in found}


@pytest.mark.parametrize(
    ("smtputf8", "form"),
    [(False, "unicode"), (True, "punycode")],
    ids=["without-smtputf8-domain-stored-in-unicode", "with-smtputf8-domain-stored-in-punycode"],
)
def test_smtp_carries_what_the_server_offers_and_fails_only_what_it_cannot(
    backend: str,
    session: Session,
    session_factory: sessionmaker[Session],
    signer: TokenSigner,
    smtputf8: bool,
    form: str,
) -> None:
    readers = ascii_readers(backend)
    with SmtpServer(smtputf8=smtputf8) as server:
        send_id, everyone = send_to_everyone(
            session, session_factory, SmtpTransport.from_url(server.url()), signer, form, readers
        )
        received = Counter(r.lower() for message in server.received for r in message.rcpt_tos)

    assert received[BUECHER_ON_THE_WIRE] == 1
    assert all(received[email] == 1 for email in everyone)
    assert max(received.values()) == 1  # nobody twice
    statuses = rows(session_factory, send_id)
    assert statuses[BUECHER[form]][0] == "accepted"
    if smtputf8:
        assert received[MUELLER] == 1
        assert statuses[MUELLER][0] == "accepted"
        assert counts(session_factory, send_id) == {"accepted": readers + 2}
    else:
        assert MUELLER not in received
        status, detail = statuses[MUELLER]
        assert status == "failed"
        assert "non-ASCII local part" in (detail or "")
        assert "SMTPUTF8" in (detail or "")
        assert counts(session_factory, send_id) == {"accepted": readers + 1, "failed": 1}


@pytest.mark.prism
@pytest.mark.parametrize("form", sorted(BUECHER))
def test_sendgrid_gets_idna_domains_and_refuses_only_the_non_ascii_local_part(
    backend: str,
    session: Session,
    session_factory: sessionmaker[Session],
    signer: TokenSigner,
    prism_url: str,
    form: str,
) -> None:
    transport = SendGridTransport("SG.test", host=prism_url, sleep=lambda seconds: None)
    readers = ascii_readers(backend)

    send_id, everyone = send_to_everyone(session, session_factory, transport, signer, form, readers)

    statuses = rows(session_factory, send_id)
    assert {statuses[email][0] for email in everyone} == {"accepted"}
    assert statuses[BUECHER[form]][0] == "accepted"
    status, detail = statuses[MUELLER]
    assert status == "failed"
    assert "SendGrid accepts only ASCII local parts" in (detail or "")
    assert counts(session_factory, send_id) == {"accepted": readers + 1, "failed": 1}
