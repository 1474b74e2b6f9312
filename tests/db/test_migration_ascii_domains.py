"""Migration 0010 on both backends: Unicode domains rewritten in ASCII, hashes kept, one person merged."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from conftest import FrozenClock
from events.helpers import make_send
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.csvimport.importer import import_csv
from newsletter.db import revisions
from newsletter.db.migrate import downgrade, upgrade
from newsletter.db.tables import (
    ConsentEvidence,
    Delivery,
    MailingList,
    Subscriber,
    Subscription,
    Suppression,
)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _person(session: Session, email: str, name: str | None, attributes: dict[str, str], age: int) -> int:
    when = clock.now() - timedelta(days=age)
    person = Subscriber(
        email=email,
        email_hash=_sha(email),
        name=name,
        attributes=attributes,
        status="enabled",
        created_at=when,
        updated_at=when,
    )
    session.add(person)
    session.flush()
    return person.id


def _join(session: Session, person: int, list_id: int, status: str) -> None:
    now = clock.now()
    session.add(
        Subscription(
            subscriber_id=person,
            list_id=list_id,
            status=status,
            created_at=now,
            subscribed_at=now,
            unsubscribed_at=now if status == "unsubscribed" else None,
            updated_at=now,
        )
    )
    session.add(
        ConsentEvidence(
            subscriber_id=person,
            list_id=list_id,
            action="unsubscribe" if status == "unsubscribed" else "subscribe",
            method="form",
            source="test",
            created_at=now,
        )
    )


def _seed_before_0010(engine: Engine) -> dict[str, int]:
    """Rows as the code before 0010 wrote them: Unicode domains (and one row already in ASCII)."""
    with Session(engine) as session:
        now = clock.now()
        daily = MailingList(name="daily", created_at=now)
        weekly = MailingList(name="weekly", created_at=now)
        session.add_all([daily, weekly])
        session.flush()
        ids = {
            "müller": _person(session, "müller@bücher.de", "Müller", {}, 1),
            "unicode": _person(session, "user@bücher.de", "Bee", {"city": "York", "plan": "old"}, 9),
            "ascii": _person(session, "user@xn--bcher-kva.de", None, {"plan": "new"}, 2),
            "plain": _person(session, "plain@example.com", "Plain", {}, 3),
        }
        _join(session, ids["müller"], daily.id, "active")
        _join(session, ids["unicode"], daily.id, "unsubscribed")
        _join(session, ids["unicode"], weekly.id, "active")
        _join(session, ids["ascii"], daily.id, "active")
        session.add_all(
            [
                Suppression(
                    email_hash=_sha("gone@bücher.de"),
                    email=None,
                    reason="erased",
                    source="erasure",
                    created_at=now,
                ),
                Suppression(
                    email_hash=_sha("bounce@bücher.de"),
                    email="bounce@bücher.de",
                    reason="hard_bounce",
                    source="sendgrid-webhook",
                    created_at=now,
                ),
            ]
        )
        session.commit()
        send, _ = make_send(
            session, ["user@bücher.de", "müller@bücher.de", "plain@example.com"], status="pending"
        )
        both, _ = make_send(session, ["x@bücher.de", "x@xn--bcher-kva.de"])
        session.execute(
            update(Delivery).where(Delivery.email == "user@bücher.de").values(subscriber_id=ids["unicode"])
        )
        session.commit()
        return ids | {"daily": daily.id, "weekly": weekly.id, "send": send, "both": both}


def test_0010_rewrites_unicode_domains_merges_one_person_and_goes_back(
    blank_engine: Engine, tmp_path: Path, frozen_clock: FrozenClock
) -> None:
    assert upgrade(blank_engine, "0007") == "0007"
    ids = _seed_before_0010(blank_engine)

    assert upgrade(blank_engine) == revisions.head()

    with Session(blank_engine) as session:
        people = {s.email: s for s in session.scalars(select(Subscriber))}
        assert sorted(people) == ["müller@xn--bcher-kva.de", "plain@example.com", "user@xn--bcher-kva.de"]
        assert people["müller@xn--bcher-kva.de"].email_hash == _sha("müller@bücher.de")  # hash kept
        merged = people["user@xn--bcher-kva.de"]
        assert merged.id == ids["ascii"]  # the row already in ASCII form is kept
        assert (merged.name, merged.attributes) == ("Bee", {"city": "York", "plan": "new"})
        assert merged.created_at == clock.now() - timedelta(days=9)  # the older one's
        memberships = dict(
            session.execute(
                select(Subscription.list_id, Subscription.status).where(
                    Subscription.subscriber_id == merged.id
                )
            ).all()
        )
        assert memberships == {ids["daily"]: "unsubscribed", ids["weekly"]: "active"}  # withdrawal stands
        evidence = session.scalars(
            select(ConsentEvidence.subscriber_id).where(ConsentEvidence.subscriber_id == merged.id)
        ).all()
        assert len(evidence) == 3
        deliveries = dict(session.execute(select(Delivery.email, Delivery.subscriber_id)).all())
        assert deliveries["user@xn--bcher-kva.de"] == merged.id
        assert "müller@xn--bcher-kva.de" in deliveries
        both = sorted(session.scalars(select(Delivery.email).where(Delivery.send_id == ids["both"])))
        assert both == ["x@bücher.de", "x@xn--bcher-kva.de"]  # the second would collide: left, logged
        suppressions = dict(session.execute(select(Suppression.reason, Suppression.email)).all())
        assert suppressions == {"hard_bounce": "bounce@xn--bcher-kva.de", "erased": None}
        hashes = set(session.scalars(select(Suppression.email_hash)))
        assert hashes == {_sha("bounce@bücher.de"), _sha("gone@bücher.de")}
        path = tmp_path / "again.csv"
        path.write_text("email\ngone@xn--bcher-kva.de\nGONE@BÜCHER.de\nbounce@xn--bcher-kva.de\n")
        report = import_csv(session, path, "daily")
        assert (report.added, report.suppressed) == (0, 3)  # an erased person's hash still matches

    assert downgrade(blank_engine, "0007") == "0007"
    with Session(blank_engine) as session:
        assert sorted(session.scalars(select(Subscriber.email))) == [
            "müller@bücher.de",
            "plain@example.com",
            "user@bücher.de",
        ]
        assert sorted(session.scalars(select(Delivery.email).where(Delivery.send_id == ids["both"]))) == [
            "x@bücher.de",
            "x@xn--bcher-kva.de",
        ]
        assert session.scalar(select(Suppression.email).where(Suppression.reason == "hard_bounce")) == (
            "bounce@bücher.de"
        )
    assert upgrade(blank_engine) == revisions.head()
