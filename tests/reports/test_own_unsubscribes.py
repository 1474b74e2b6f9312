"""Unsubscribes through our own link count in the report of the send whose email carried it, once."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from click.testing import CliRunner
from deliver_run.helpers import add_readers, reader_address, schedule
from events.fixtures import Post
from events.helpers import event
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from support.tokens import unsubscribe_token as link_token

from newsletter.audience.people.lists import get_list
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.cli import main
from newsletter.db.tables import Delivery, Event, Subscriber, Subscription
from newsletter.deliver.engine.claims import worker_identity
from newsletter.deliver.engine.run import RunOptions, SendRunner
from newsletter.deliver.transports.memory import MemoryTransport
from newsletter.events.own_unsubscribe import own_event_id

ONE_CLICK = b"List-Unsubscribe=One-Click"


@dataclass
class Mailed:
    """A send through the memory transport: its id and each reader's unsubscribe token by address."""

    send_id: int
    tokens: dict[str, str]
    deliveries: dict[str, int]

    def delivery(self, n: int) -> tuple[int, int, str]:
        """(delivery id, send id, address) of reader n, as SendGrid's custom args name it."""
        email = reader_address(n)
        return self.deliveries[email], self.send_id, email


@pytest.fixture
def mailed(session: Session, session_factory: sessionmaker[Session], signer: TokenSigner) -> Mailed:
    add_readers(session, "daily-brief", 3)
    send_id = schedule(session_factory, transport="memory")
    transport = MemoryTransport()
    runner = SendRunner(session_factory, transport, signer, worker_identity(), RunOptions(batch_size=10))
    assert runner.run(send_id).status == "sent"
    tokens = {m.to: m.headers["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1] for m in transport.messages}
    assert len(tokens) == 3
    rows = session.execute(select(Delivery.email, Delivery.id).where(Delivery.send_id == send_id))
    return Mailed(send_id, tokens, dict(rows.all()))


def _report(send_id: int, fmt: str) -> str:
    result = CliRunner().invoke(main, ["report", str(send_id), "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.output


def unsubscribed(send_id: int) -> tuple[int, int]:
    """The report's unsubscribes figure in JSON and in the table (they must agree)."""
    data = json.loads(_report(send_id, "json"))
    match = re.search(r"^\s*unsubscribes\s+(\d+)", _report(send_id, "table"), re.MULTILINE)
    assert match is not None
    return data["unsubscribes"], int(match.group(1))


def one_click(client: TestClient, token: str) -> str:
    response = client.post(
        f"/unsubscribe/{token}",
        content=ONE_CLICK,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    return response.text


def status_of(session: Session, n: int) -> str | None:
    session.expire_all()
    return session.scalar(
        select(Subscription.status)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(Subscriber.email == reader_address(n))
    )


def unsubscribe_events(session: Session, delivery_id: int) -> list[tuple[str, str | None]]:
    """(sg_event_id, detail source) of the unsubscribe events of a delivery."""
    rows = session.execute(
        select(Event.sg_event_id, Event.detail)
        .where(Event.delivery_id == delivery_id, Event.type == "unsubscribe")
        .order_by(Event.id)
    )
    return [(sg_event_id, detail.get("source")) for sg_event_id, detail in rows]


def test_a_one_click_through_the_messages_link_counts_once_whatever_follows(
    mailed: Mailed, staff_client: TestClient, post: Post, cli_env: str, session: Session
) -> None:
    client = staff_client  # one-click needs no login; staff read the subscriber's history afterwards
    assert unsubscribed(mailed.send_id) == (0, 0)

    assert "You are unsubscribed" in one_click(client, mailed.tokens[reader_address(2)])
    assert status_of(session, 2) == "unsubscribed"
    assert unsubscribed(mailed.send_id) == (1, 1)

    assert "already unsubscribed" in one_click(client, mailed.tokens[reader_address(2)])  # a replay
    assert unsubscribed(mailed.send_id) == (1, 1)

    response = post([event("unsubscribe", mailed.delivery(2))])  # SendGrid reports it too
    assert response.status_code == 200, response.text
    assert unsubscribed(mailed.send_id) == (1, 1)

    delivery_id = mailed.delivery(2)[0]
    assert unsubscribe_events(session, delivery_id)[0] == (own_event_id(delivery_id), "newsletter")
    assert [source for _, source in unsubscribe_events(session, delivery_id)] == ["newsletter", None]
    by_domain = {row["domain"]: row for row in json.loads(_report(mailed.send_id, "json"))["by_domain"]}
    assert by_domain["example.org"]["unsubscribes"] == 1
    assert session.scalar(select(Delivery.event_flags).where(Delivery.id == delivery_id)) == 1 << 10
    history = staff_client.get("/admin/audience/subscriber", params={"email": reader_address(2)})
    assert history.status_code == 200
    events_table = history.text.split('id="event-rows"', 1)[1].split("</table>", 1)[0]
    assert events_table.count("<td>unsubscribe</td>") == 2
    assert events_table.count("through our unsubscribe link") == 1  # SendGrid's event is the other row


def test_sendgrid_first_then_our_link_still_counts_once(
    mailed: Mailed, client: TestClient, post: Post, cli_env: str, session: Session
) -> None:
    assert post([event("group_unsubscribe", mailed.delivery(1), asm_group_id=7)]).status_code == 200
    assert unsubscribed(mailed.send_id) == (1, 1)

    assert "You are unsubscribed" in one_click(client, mailed.tokens[reader_address(1)])

    assert unsubscribed(mailed.send_id) == (1, 1)
    assert len(unsubscribe_events(session, mailed.delivery(1)[0])) == 1  # ours is kept as evidence


def test_the_unsubscribe_pages_button_counts_too(
    mailed: Mailed, client: TestClient, cli_env: str, session: Session
) -> None:
    response = client.post(f"/unsubscribe/{mailed.tokens[reader_address(3)]}")

    assert response.status_code == 200
    assert status_of(session, 3) == "unsubscribed"
    assert unsubscribed(mailed.send_id) == (1, 1)
    ((_, source),) = unsubscribe_events(session, mailed.delivery(3)[0])
    assert source == "newsletter"


def test_a_link_without_a_delivery_still_unsubscribes_and_counts_nothing(
    mailed: Mailed, client: TestClient, cli_env: str, session: Session, signer: TokenSigner
) -> None:
    public_id = session.scalar(select(Subscriber.public_id).where(Subscriber.email == reader_address(1)))
    assert public_id is not None
    older = link_token(signer, public_id, [get_list(session, "daily-brief").public_id])
    assert signer.read_unsubscribe_link(older).delivery_id is None

    assert "You are unsubscribed" in one_click(client, older)

    assert status_of(session, 1) == "unsubscribed"
    assert unsubscribed(mailed.send_id) == (0, 0)
    assert session.scalars(select(Event.id)).all() == []


def test_a_tampered_link_changes_nothing(
    mailed: Mailed, client: TestClient, cli_env: str, session: Session
) -> None:
    token = mailed.tokens[reader_address(1)]
    _, stamp, signature = token.split(".")
    other_payload = mailed.tokens[reader_address(2)].split(".")[0]

    for bad in (
        f"{other_payload}.{stamp}.{signature}",
        token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB"),
    ):
        response = client.post(f"/unsubscribe/{bad}", content=ONE_CLICK)
        assert response.status_code == 400

    assert {status_of(session, n) for n in (1, 2, 3)} == {"active"}
    assert unsubscribed(mailed.send_id) == (0, 0)
    assert session.scalars(select(Event.id)).all() == []
