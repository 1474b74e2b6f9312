"""Operations endpoints: /healthz, /readyz (database and webhook key), and /metrics behind its token,
showing a send's deliveries move while it is sent through the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner
from deliver_run.helpers import add_readers, schedule
from events.helpers import WebhookKey
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from web_staff.helpers import BASE_URL, SECRET, make_services

from newsletter.audience.readers.tokens import TokenSigner
from newsletter.cli import main
from newsletter.db import revisions
from newsletter.db.session import make_session_factory
from newsletter.deliver.engine.run import RunOptions, SendRunner
from newsletter.deliver.transports.outbox import OutboxTransport
from newsletter.services import Services
from newsletter.web.app import create_app

TOKEN = "metrics-token-for-tests"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient, token: str = TOKEN) -> Samples:
    """Every sample of /metrics: (name, sorted labels) → value."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


@pytest.fixture
def ops_services(
    database_url: str, engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path
) -> Services:
    """Services over the test database sending through an outbox, with a metrics token."""
    return make_services(database_url, engine, session_factory, tmp_path, metrics_token=TOKEN)


@pytest.fixture
def ops_client(ops_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(ops_services), base_url=BASE_URL) as client:
        yield client


def test_healthz_answers_while_the_process_lives(ops_client: TestClient) -> None:
    assert ops_client.get("/healthz").json() == {"ok": True}


def test_readyz_is_503_on_a_database_never_migrated_and_200_after_db_upgrade(
    blank_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = blank_engine.url.render_as_string(hide_password=False)
    services = make_services(url, blank_engine, make_session_factory(blank_engine), tmp_path)
    with TestClient(create_app(services), base_url=BASE_URL) as client:
        before = client.get("/readyz")
        monkeypatch.setenv("NEWSLETTER_DATABASE_URL", url)
        monkeypatch.delenv("NEWSLETTER_CONFIG_FILE", raising=False)
        assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
        after = client.get("/readyz")

    assert before.status_code == 503
    assert before.json()["ok"] is False
    assert before.json()["checks"]["database"].endswith(
        f"is at revision none, this version needs {revisions.head()}; run `newsletter db upgrade`"
    )
    assert after.status_code == 200
    assert after.json() == {"ok": True, "checks": {"database": "ok", "webhook_key": "not needed"}}


@pytest.mark.parametrize(("with_key", "status"), [(False, 503), (True, 200)])
def test_readyz_needs_the_webhook_key_when_sending_through_sendgrid(
    database_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    webhook_key: WebhookKey,
    with_key: bool,
    status: int,
) -> None:
    key = webhook_key.public_b64 if with_key else None
    services = make_services(
        database_url, engine, session_factory, tmp_path, transport="sendgrid", sendgrid_api_key="SG.test",
        sendgrid_webhook_public_key=key,
    )  # fmt: skip
    with TestClient(create_app(services), base_url=BASE_URL) as client:
        response = client.get("/readyz")
    assert response.status_code == status
    expected = "ok" if key else "SENDGRID_WEBHOOK_PUBLIC_KEY is not set: SendGrid's events would be refused"
    assert response.json()["checks"]["webhook_key"] == expected


def test_metrics_need_the_token_and_are_off_without_one(
    ops_client: TestClient,
    database_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    assert ops_client.get("/metrics").status_code == 401
    assert ops_client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert scrape(ops_client)
    off = make_services(database_url, engine, session_factory, tmp_path)
    with TestClient(create_app(off), base_url=BASE_URL) as client:
        assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


def test_metrics_show_a_sends_deliveries_moving_while_it_is_sent_through_the_outbox(
    ops_client: TestClient, ops_services: Services, session: Session, session_factory: sessionmaker[Session]
) -> None:
    add_readers(session, "daily-brief", 25)
    send_id = schedule(session_factory, transport="outbox")
    send = str(send_id)
    seen: list[tuple[float, float]] = []

    def look(done: int, total: int) -> None:  # after each batch's marks are committed
        samples = scrape(ops_client)
        rows = {
            status: samples.get(("newsletter_send_deliveries", (("send", send), ("status", status))), 0.0)
            for status in ("pending", "accepted")
        }
        seen.append((rows["pending"], rows["accepted"]))
        assert samples[("newsletter_sends", (("state", "sending"),))] == 1
        assert samples[("newsletter_send_recipients_per_second", (("send", send),))] > 0

    transport = OutboxTransport(ops_services.settings.outbox_dir)
    runner = SendRunner(session_factory, transport, TokenSigner(SECRET), "w-test", RunOptions(batch_size=10))
    with closing(runner):
        report = runner.run(send_id, look)

    assert report.status == "sent"
    assert seen == [(15, 10), (5, 20), (0, 25)]
    after = scrape(ops_client)
    assert after[("newsletter_deliveries", (("status", "accepted"),))] == 25
    assert after[("newsletter_sends", (("state", "sent"),))] == 1
    assert ("newsletter_send_deliveries", (("send", send), ("status", "accepted"))) not in after  # done


def test_metrics_time_requests_by_route_template(ops_client: TestClient) -> None:
    assert ops_client.get("/archive/no-such-issue").status_code == 404
    samples = scrape(ops_client)
    labels = (("method", "GET"), ("route", "/archive/{slug}"), ("status", "404"))
    assert samples[("newsletter_http_request_duration_seconds_count", labels)] == 1


def test_pages_on_a_database_never_migrated_answer_503_with_the_sentence_the_cli_says(
    blank_engine: Engine, tmp_path: Path
) -> None:
    url = blank_engine.url.render_as_string(hide_password=False)
    services = make_services(url, blank_engine, make_session_factory(blank_engine), tmp_path)
    with TestClient(create_app(services), base_url=BASE_URL) as client:
        page = client.get("/archive/")
        subscribe = client.get("/subscribe")
    for response in (page, subscribe):
        assert response.status_code == 503
        assert f"this version needs {revisions.head()}; run `newsletter db upgrade`" in response.text
