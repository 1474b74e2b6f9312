"""A scripted 10,000-recipient send: every figure of its report matches the script, in JSON, CSV and table."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from collections import Counter
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FrozenClock
from events.fixtures import Post
from events.helpers import make_send
from events.stream import DOMAIN_FIGURES, HOURLY, UNSUBSCRIBE_LINK, EventScript, Expected
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.cli import main
from newsletter.db.tables import Suppression

RECIPIENTS = 10_000
BIG = {"gmail.com": 0.40, "yahoo.com": 0.15, "outlook.com": 0.12, "icloud.com": 0.08}
SCALARS = (
    "recipients",
    "accepted",
    "processed",
    "delivered",
    "deferred",
    "deferrals",
    "bounced",
    "hard_bounces",
    "blocked",
    "dropped",
    "unique_opens",
    "total_opens",
    "unique_machine_opens",
    "total_machine_opens",
    "unique_clicks",
    "total_clicks",
    "unsubscribes",
    "spam_complaints",
)


def _domain(rng: random.Random) -> str:
    roll = rng.random()
    for domain, share in BIG.items():
        if roll < share:
            return domain
        roll -= share
    return f"clinic{rng.randrange(40)}.example"


class Scripted:
    """The send, its script's expectations and the delivery statuses it started from."""

    def __init__(
        self, send_id: int, script: EventScript, statuses: Counter[str], domains: Counter[str]
    ) -> None:
        self.send_id, self.script, self.statuses, self.domains = send_id, script, statuses, domains

    @property
    def expected(self) -> Expected:
        return self.script.expected

    def flat(self) -> dict[tuple[str, str, str], Any]:
        """Every expected figure as (section, key, figure) → value; the shape the formats are read into."""
        e, out = self.expected, {}
        figures = {name: e.figures[name] for name in SCALARS}
        figures["recipients"] = RECIPIENTS
        figures["accepted"] = self.statuses["accepted"] + self.statuses["unknown"]
        out.update({("totals", "", name): n for name, n in figures.items()})
        out.update(
            {("bounced_by_classification", k, "bounced"): n for k, n in e.bounced_by_classification.items()}
        )
        out.update({("clicks_per_link", k, "clicks"): n for k, n in e.clicks_per_link.items()})
        out.update({("other_events", k, "events"): n for k, n in e.other_events.items()})
        top = sorted(self.domains.items(), key=lambda item: (-item[1], item[0]))[:20]
        for domain, n in top:
            out[("by_domain", domain, "recipients")] = n
            out.update({("by_domain", domain, f): e.by_domain[domain][f] for f in DOMAIN_FIGURES})
        out[("by_domain", "(other)", "recipients")] = RECIPIENTS - sum(n for _, n in top)
        for f in DOMAIN_FIGURES:
            out[("by_domain", "(other)", f)] = figures[f] - sum(e.by_domain[d][f] for d, _ in top)
        for hour, counts in e.over_time.items():
            out.update({("over_time", str(hour), column): counts[column] for column in HOURLY.values()})
        return out


@pytest.fixture
def scripted(session: Session, frozen_clock: FrozenClock, post: Post) -> Scripted:
    """10,000 deliveries (some unknown, skipped or failed); their scripted events posted to the webhook."""
    rng = random.Random(5)
    domains = [_domain(rng) for _ in range(RECIPIENTS)]
    status_of = {i: rng.choice(["unknown", "skipped", "failed"]) for i in rng.sample(range(RECIPIENTS), 120)}
    emails = [f"reader{i}@{domain}" for i, domain in enumerate(domains)]
    send_id, deliveries = make_send(session, emails, statuses=status_of)
    mailed = [d for i, d in enumerate(deliveries) if status_of.get(i, "accepted") in ("accepted", "unknown")]
    script = EventScript(mailed, started_at=frozen_clock.now())
    batches = list(script.batches(1000))
    for batch in [*batches, *batches[:3]]:
        response = post(batch)
        assert response.status_code == 200, response.text
    statuses = Counter(status_of.get(i, "accepted") for i in range(RECIPIENTS))
    return Scripted(send_id, script, statuses, Counter(domains))


def _report(send_id: int, fmt: str) -> str:
    result = CliRunner().invoke(main, ["report", str(send_id), "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.output


def _from_json(data: dict[str, Any]) -> dict[tuple[str, str, str], Any]:
    out: dict[tuple[str, str, str], Any] = {("totals", "", name): data[name] for name in SCALARS}
    out.update(
        {("bounced_by_classification", k, "bounced"): n for k, n in data["bounced_by_classification"].items()}
    )
    out.update({("clicks_per_link", c["url"], "clicks"): c["clicks"] for c in data["clicks_per_link"]})
    out.update({("other_events", k, "events"): n for k, n in data["other_events"].items()})
    for row in data["by_domain"]:
        out[("by_domain", row["domain"], "recipients")] = row["recipients"]
        out.update({("by_domain", row["domain"], f): row[f] for f in DOMAIN_FIGURES})
    for row in data["over_time"]:
        out.update({("over_time", str(row["hour"]), column): row[column] for column in HOURLY.values()})
    return out


def _from_csv(text: str) -> dict[tuple[str, str, str], Any]:
    wanted = {
        "totals",
        "bounced_by_classification",
        "clicks_per_link",
        "other_events",
        "by_domain",
        "over_time",
    }
    rows = csv.DictReader(io.StringIO(text))
    out = {(r["section"], r["key"], r["figure"]): int(r["value"]) for r in rows if r["section"] in wanted}
    return {k: v for k, v in out.items() if not (k[0] == "by_domain" and k[2] == "accepted")}


def test_every_figure_matches_the_script_in_json_csv_and_table(
    scripted: Scripted, cli_env: str, session: Session
) -> None:
    _check_json(scripted, session)
    assert _from_csv(_report(scripted.send_id, "csv")) == scripted.flat()
    _check_table(scripted)


def _check_json(scripted: Scripted, session: Session) -> None:
    data = json.loads(_report(scripted.send_id, "json"))
    assert _from_json(data) == scripted.flat()
    e = scripted.expected
    assert e.figures["delivered"] > 9000
    assert e.figures["unique_opens"] > 3000
    assert e.repeats > 0
    assert e.unlinked > 0
    assert e.other_events["mystery_event"] > 0
    assert data["statuses"] == {
        "accepted": scripted.statuses["accepted"] + scripted.statuses["unknown"],
        "failed": scripted.statuses["failed"],
        "skipped": scripted.statuses["skipped"],
    }
    assert data["clicks_per_link"][0]["clicks"] >= data["clicks_per_link"][-1]["clicks"]
    assert any(c["url"] == UNSUBSCRIBE_LINK for c in data["clicks_per_link"])
    assert data["rates"]["open_rate"] == pytest.approx(e.figures["unique_opens"] / e.figures["delivered"])
    assert data["rates"]["complaint_rate"] == pytest.approx(
        e.figures["spam_complaints"] / e.figures["delivered"]
    )
    accepted = data["accepted"]
    assert data["rates"]["hard_bounce_rate"] == pytest.approx(e.figures["hard_bounces"] / accepted)
    assert data["alerts"] == []
    suppressed = dict(session.execute(select(Suppression.email, Suppression.reason)).all())
    assert suppressed == e.suppressed


def _check_table(scripted: Scripted) -> None:
    text = _report(scripted.send_id, "table")
    f = scripted.flat()
    labels = {
        "recipients": "recipients",
        "delivered": "delivered",
        "deferred": "deferred",
        "bounced": "bounced",
        "hard bounces": "hard_bounces",
        "blocked": "blocked",
        "dropped": "dropped",
        "unique opens": "unique_opens",
        "total opens": "total_opens",
        "unique machine opens": "unique_machine_opens",
        "total machine opens": "total_machine_opens",
        "unique clicks": "unique_clicks",
        "total clicks": "total_clicks",
        "unsubscribes": "unsubscribes",
        "spam complaints": "spam_complaints",
    }
    for label, name in labels.items():
        match = re.search(rf"^\s*{label}\s+(\d+)", text, re.MULTILINE)
        assert match, label
        assert int(match.group(1)) == f[("totals", "", name)], label
    gmail = re.search(r"^gmail\.com\s+(\d+)\s+(\d+)\s+(\d+)", text, re.MULTILINE)
    assert gmail is not None
    assert int(gmail.group(1)) == f[("by_domain", "gmail.com", "recipients")]
    assert int(gmail.group(3)) == f[("by_domain", "gmail.com", "delivered")]
    assert "ALERT" not in text
