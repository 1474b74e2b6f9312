"""POST /webhooks/sendgrid over HTTP: signed batches are stored once; anything else stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from conftest import FrozenClock
from events.fixtures import Post
from events.helpers import WebhookKey, body_of, event, make_send
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from newsletter.config import load_settings
from newsletter.db.tables import Delivery, Event, Suppression
from newsletter.events.sendgrid_webhook import MAX_BODY_BYTES
from newsletter.services import Services
from newsletter.web.app import create_app

URL = "/webhooks/sendgrid"


@pytest.fixture
def batch(session: Session, frozen_clock: FrozenClock) -> list[dict[str, object]]:
    """Events for a two-reader send: one delivered and opened, one hard-bounced."""
    _, (ann, bob) = make_send(session, ["ann@gmail.com", "bob@yahoo.com"])
    return [
        event("processed", ann),
        event("delivered", ann),
        event("open", ann, sg_machine_open=False),
        event("bounce", bob, type="bounce", bounce_classification="Invalid Address"),
    ]


def _stored(session: Session) -> tuple[int, int]:
    session.expire_all()
    events = session.scalar(select(func.count()).select_from(Event)) or 0
    suppressions = session.scalar(select(func.count()).select_from(Suppression)) or 0
    return events, suppressions


def test_a_signed_batch_is_stored_once_even_when_posted_twice(
    post: Post, session: Session, batch: list[dict[str, object]]
) -> None:
    first = post(batch)
    again = post(batch)
    assert first.status_code == 200
    assert first.json() == {"ok": True, "received": 4, "stored": 4, "duplicates": 0}
    assert again.json() == {"ok": True, "received": 4, "stored": 0, "duplicates": 4}
    assert _stored(session) == (4, 1)
    outcomes = session.scalars(select(Delivery.outcome).order_by(Delivery.id)).all()
    assert outcomes == ["delivered", "bounced"]


def test_a_one_byte_change_is_refused_and_stores_nothing(
    client: TestClient, webhook_key: WebhookKey, session: Session, batch: list[dict[str, object]]
) -> None:
    body = body_of(batch)
    headers = webhook_key.headers(body)
    tampered = body.replace(b'"bounce"', b'"bounc3"', 1)
    assert len(tampered) == len(body)
    response = client.post(URL, content=tampered, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"] == "signature does not match the body"
    assert _stored(session) == (0, 0)


def test_a_batch_signed_with_another_key_is_refused(
    client: TestClient, session: Session, batch: list[dict[str, object]]
) -> None:
    body = body_of(batch)
    response = client.post(URL, content=body, headers=WebhookKey().headers(body))
    assert response.status_code == 403
    assert _stored(session) == (0, 0)


def test_a_stale_signature_is_refused(
    client: TestClient,
    webhook_key: WebhookKey,
    session: Session,
    batch: list[dict[str, object]],
    frozen_clock: FrozenClock,
) -> None:
    body = body_of(batch)
    headers = webhook_key.headers(body, at=frozen_clock.now() - timedelta(minutes=11))
    response = client.post(URL, content=body, headers=headers)
    assert response.status_code == 403
    assert "stale" in response.json()["error"]
    assert _stored(session) == (0, 0)


def test_an_unsigned_batch_is_refused(
    client: TestClient, session: Session, batch: list[dict[str, object]]
) -> None:
    response = client.post(URL, content=body_of(batch), headers={"Content-Type": "application/json"})
    assert response.status_code == 403
    assert _stored(session) == (0, 0)


@pytest.mark.parametrize("body", [b"[{]", b'{"event": "open"}', b""])
def test_signed_malformed_json_is_refused_with_400(
    client: TestClient, webhook_key: WebhookKey, session: Session, frozen_clock: FrozenClock, body: bytes
) -> None:
    response = client.post(URL, content=body, headers=webhook_key.headers(body))
    assert response.status_code == 400
    assert _stored(session) == (0, 0)


def test_an_oversized_body_is_refused_with_413_before_the_signature(
    client: TestClient, session: Session, frozen_clock: FrozenClock
) -> None:
    body = b"[" + b" " * MAX_BODY_BYTES + b"]"
    response = client.post(URL, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert _stored(session) == (0, 0)


def test_an_oversized_body_without_length_is_cut_off_while_streaming(
    client: TestClient, session: Session, frozen_clock: FrozenClock
) -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(12):
            sent.append(1)
            yield b" " * (1024 * 1024)

    response = client.post(URL, content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert _stored(session) == (0, 0)


def test_unknown_event_types_and_fields_are_accepted(
    post: Post, session: Session, batch: list[dict[str, object]]
) -> None:
    response = post([event("amp_click", widget="poll"), {**batch[0], "new_field": {"deep": True}}])
    assert response.status_code == 200
    assert response.json()["stored"] == 2


def test_only_post_is_allowed(client: TestClient) -> None:
    assert client.get(URL).status_code == 405


def test_without_a_configured_key_the_webhook_answers_503(
    web_services: Services, session: Session, batch: list[dict[str, object]], webhook_key: WebhookKey
) -> None:
    settings = load_settings(database_url=web_services.settings.database_url)
    unconfigured = Services(settings=settings, engine=web_services.engine, sessions=web_services.sessions)
    body = body_of(batch)
    with TestClient(create_app(unconfigured), base_url="http://127.0.0.1") as client:
        response = client.post(URL, content=body, headers=webhook_key.headers(body))
    assert response.status_code == 503
    assert "SENDGRID_WEBHOOK_PUBLIC_KEY" in response.json()["error"]
    assert _stored(session) == (0, 0)
