"""With NEWSLETTER_TRANSPORT=sendgrid the subscribe form's confirmation email goes through SendGrid's API
(the same `SendGridTransport` as sends, chosen by services.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from support.fixtures import sendgrid_recorder
from support.sendgrid_recorder import SendGridRecorder, bad_request, server_error, stall
from web_staff.helpers import BASE_URL, make_services

from newsletter.audience.people.lists import create_list
from newsletter.audience.people.subscribers import describe_subscriber
from newsletter.deliver.transports.sendgrid import SendGridTransport
from newsletter.errors import DeliveryError
from newsletter.services import Services
from newsletter.web.app import create_app
from newsletter.web.public.mailer import confirmation_message, publication

__all__ = ["sendgrid_recorder"]


@pytest.fixture
def sendgrid_services(
    database_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    sendgrid_recorder: SendGridRecorder,
) -> Services:
    """Services whose transport is SendGrid at the recording stand-in."""
    return make_services(
        database_url,
        engine,
        session_factory,
        tmp_path,
        transport="sendgrid",
        sendgrid_api_key="SG.test",
        sendgrid_host=sendgrid_recorder.url,
    )


@pytest.fixture
def client(sendgrid_services: Services) -> Iterator[TestClient]:
    """A client of the app over the SendGrid services."""
    with TestClient(create_app(sendgrid_services), base_url=BASE_URL, follow_redirects=False) as test_client:
        yield test_client


def _daily(services: Services) -> str:
    with services.sessions() as session:
        return create_list(session, "e-Alert", double_opt_in=True).public_id


def _status(services: Services) -> dict[str, str]:
    with services.sessions() as session:
        detail = describe_subscriber(session, "reader@example.org")
        return {name: sub.status for name, sub in detail.subscriptions}


def test_the_confirm_link_arrives_in_a_sendgrid_request_and_confirms(
    client: TestClient, sendgrid_services: Services, sendgrid_recorder: SendGridRecorder
) -> None:
    daily = _daily(sendgrid_services)
    response = client.post("/subscribe", data={"email": "Reader@Example.org", "list": daily, "name": "Rea"})
    assert "Check your email" in response.text
    [request] = sendgrid_recorder.requests
    assert (request.method, request.path, request.status) == ("POST", "/v3/mail/send", 202)
    assert request.headers["Authorization"] == "Bearer SG.test"
    body = request.body
    assert body["personalizations"] == [{"to": [{"email": "reader@example.org"}]}]
    assert body["from"] == {"email": "alerts@e-alert.example.org", "name": "Everyday Health e-Alert"}
    assert body["reply_to"] == {"email": "editors@e-alert.example.org"}
    assert body["subject"] == "Please confirm your subscription to e-Alert"
    assert body["tracking_settings"]["click_tracking"] == {"enable": False, "enable_text": False}
    [content] = body["content"]
    assert content["type"] == "text/plain"
    assert content["value"].startswith("Hello Rea,")
    link = re.search(r"https://e-alert\.example\.org(/subscribe/confirm/\S+)", content["value"])
    assert link  # on the publication's web_base_url, whatever the request's host
    assert _status(sendgrid_services) == {"e-Alert": "unconfirmed"}
    assert "Subscription confirmed" in client.post(link.group(1)).text
    assert _status(sendgrid_services) == {"e-Alert": "active"}


@pytest.mark.parametrize(
    ("reply", "shown"),
    [
        (server_error(503, "try later"), "SendGrid refused the email: HTTP 503: try later"),
        (
            bad_request("The from address does not match a verified Sender Identity", "from"),
            "verified Sender",
        ),
    ],
)
def test_a_refused_request_is_a_message_not_a_traceback(
    client: TestClient,
    sendgrid_services: Services,
    sendgrid_recorder: SendGridRecorder,
    reply: object,
    shown: str,
) -> None:
    sendgrid_recorder.script(reply)  # type: ignore[arg-type]
    response = client.post(
        "/subscribe", data={"email": "reader@example.org", "list": _daily(sendgrid_services)}
    )
    assert response.status_code == 400
    assert shown in response.text
    assert len(sendgrid_recorder.requests) == 1


def test_an_unreachable_sendgrid_is_a_message(
    database_url: str, engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    services = make_services(
        database_url,
        engine,
        session_factory,
        tmp_path,
        transport="sendgrid",
        sendgrid_api_key="SG.test",
        sendgrid_host="http://127.0.0.1:9",  # discard port: nothing listens
    )
    with TestClient(create_app(services), base_url=BASE_URL) as test_client:
        response = test_client.post(
            "/subscribe", data={"email": "reader@example.org", "list": _daily(services)}
        )
    assert response.status_code == 400
    assert "SendGrid could not be reached at http://127.0.0.1:9" in response.text


def test_a_stalled_sendgrid_times_out(sendgrid_recorder: SendGridRecorder, tmp_path: Path) -> None:
    sendgrid_recorder.script(stall(5))
    pub = publication(Path(__file__).resolve().parents[2] / "publications")
    message = confirmation_message(pub, to="a@example.org", name=None, list_name="e-Alert", url="https://x/c")
    transport = SendGridTransport("SG.test", host=sendgrid_recorder.url, timeout=0.3)
    with pytest.raises(DeliveryError, match="could not be reached") as caught:
        transport.send_message(message)
    assert caught.value.retryable
    assert len(sendgrid_recorder.requests) == 1  # one attempt: someone is waiting for this email
