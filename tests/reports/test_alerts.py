"""Alert lines at the bulk-sender limits, an empty report, and the CLI's refusals."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import FrozenClock
from events.helpers import body_of, event, make_send
from sqlalchemy.orm import Session

from newsletter.cli import main
from newsletter.events.ingest import ingest
from newsletter.events.sendgrid_webhook import parse_events
from newsletter.reports.formats import to_table
from newsletter.reports.send_report import alerts, build_report


def _send_with(session: Session, delivered: int, complaints: int, hard_bounces: int) -> int:
    total = delivered + hard_bounces
    send_id, deliveries = make_send(session, [f"r{i}@gmail.com" for i in range(total)])
    events = [event("delivered", d) for d in deliveries[:delivered]]
    events += [event("spamreport", d) for d in deliveries[:complaints]]
    events += [event("bounce", d, type="bounce") for d in deliveries[delivered:]]
    ingest(session, parse_events(body_of(events)))
    session.commit()
    return send_id


def test_complaints_over_three_per_thousand_raise_an_alert(
    session: Session, frozen_clock: FrozenClock
) -> None:
    send_id = _send_with(session, delivered=1000, complaints=4, hard_bounces=0)
    report = build_report(session, send_id)
    assert report.alerts == [
        "ALERT: spam complaints are 0.40% of delivered mail, over the 0.3% Gmail/Yahoo bulk-sender limit"
    ]
    assert to_table(report).splitlines()[3] == report.alerts[0]


def test_hard_bounces_over_two_percent_raise_an_alert(session: Session, frozen_clock: FrozenClock) -> None:
    send_id = _send_with(session, delivered=970, complaints=0, hard_bounces=30)
    assert build_report(session, send_id).alerts == [
        "ALERT: hard bounces are 3.00% of accepted mail, over 2%"
    ]


@pytest.mark.parametrize(
    ("rates", "expected"),
    [
        ({"complaint_rate": 0.003, "hard_bounce_rate": 0.02}, 0),
        ({"complaint_rate": 0.0031, "hard_bounce_rate": 0.0201}, 2),
        ({"complaint_rate": None, "hard_bounce_rate": None}, 0),
    ],
)
def test_alerts_start_just_above_the_limits(rates: dict[str, float | None], expected: int) -> None:
    assert len(alerts(rates)) == expected


def test_a_send_without_events_reports_zeros_and_no_rates(
    session: Session, frozen_clock: FrozenClock, cli_env: str
) -> None:
    send_id, _ = make_send(session, ["ann@gmail.com", "bob@gmail.com"], status="pending")
    result = CliRunner().invoke(main, ["report", str(send_id), "--format", "json"])
    data = json.loads(result.output)
    assert (data["recipients"], data["accepted"], data["delivered"]) == (2, 0, 0)
    assert set(data["rates"].values()) == {None}
    assert data["by_domain"] == [
        {
            "domain": "gmail.com",
            "recipients": 2,
            "accepted": 0,
            "delivered": 0,
            "deferred": 0,
            "bounced": 0,
            "dropped": 0,
            "unique_opens": 0,
            "unique_clicks": 0,
            "unsubscribes": 0,
            "spam_complaints": 0,
        }
    ]
    assert data["over_time"] == []


def test_the_domain_list_is_cut_with_an_other_row(
    session: Session, frozen_clock: FrozenClock, cli_env: str
) -> None:
    send_id, _ = make_send(session, ["a@one.example", "b@one.example", "c@two.example", "d@three.example"])
    result = CliRunner().invoke(main, ["report", str(send_id), "--format", "json", "--domains", "1"])
    rows = json.loads(result.output)["by_domain"]
    assert [(r["domain"], r["recipients"], r["accepted"]) for r in rows] == [
        ("one.example", 2, 2),
        ("(other)", 2, 2),
    ]


def test_an_unknown_send_is_a_one_line_error(cli_env: str) -> None:
    result = CliRunner().invoke(main, ["report", "404", "--format", "json"])
    assert result.exit_code == 1
    assert "error: no send '404'" in result.output
