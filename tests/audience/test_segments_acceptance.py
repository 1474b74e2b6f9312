"""Acceptance: on 10,000 readers with mixed attributes, each expression selects exactly the readers a
plain Python filter over the same data selects, on SQLite and on PostgreSQL.

The Python filters below are written from the language's rules (docs/segments.md), independently of
the compiler: equality, `in`, numbers (text and JSON), dates, missing attributes, booleans, list
membership, subscription dates, consent, engagement windows with machine opens left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from audience.segment_data import NOW, Reader, load, mailable, make_readers
from newsletter.audience.segments.members import matching_subscribers
from newsletter.content.load import load_publication
from newsletter.content.segments.check import check_segment

ROOT = Path(__file__).resolve().parents[2]
ZONE = ZoneInfo("America/New_York")
Filter = Callable[[Reader], bool]


def text(reader: Reader, key: str) -> str | None:
    value = reader.attributes.get(key)
    return value if isinstance(value, str) and value else None


def number(reader: Reader, key: str) -> Decimal | None:
    value = reader.attributes.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
        return Decimal(value)
    return None


def day_text(reader: Reader, key: str) -> str | None:
    value = reader.attributes.get(key)
    return value if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, re.ASCII) else None


def yes(reader: Reader, key: str) -> bool | None:
    value = reader.attributes.get(key)
    if isinstance(value, bool):
        return value
    word = value.lower() if isinstance(value, str) else None
    return True if word in ("true", "yes", "1") else False if word in ("false", "no", "0") else None


def engaged(reader: Reader, kind: str, days: int) -> bool:
    since = NOW - timedelta(days=days)
    return any(t == kind and at >= since and machine is not True for t, at, machine in reader.events)


def mailed(reader: Reader, days: int) -> bool:
    return any(status == "accepted" and at >= NOW - timedelta(days=days) for status, at in reader.deliveries)


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


def subscribed_on(reader: Reader, lists: tuple[str, ...], test: Callable[[datetime], bool]) -> bool:
    return any(
        status == "active" and name in lists and test(since)
        for name, (status, since) in reader.subscriptions.items()
    )


def at_least(value: Decimal | None, low: int) -> bool:
    return value is not None and value >= low


def between(value: Decimal | None, low: int, high: int) -> bool:
    return value is not None and low <= value < high


EXPRESSIONS: list[tuple[str, str | None, Filter]] = [  # expression, its list, the filter
    ('role = "clinician"', None, lambda r: text(r, "role") == "clinician"),
    (
        'role = "clinician" and state in ("NY", "NJ")',
        None,
        lambda r: text(r, "role") == "clinician" and text(r, "state") in ("NY", "NJ"),
    ),
    ('role != "clinician"', None, lambda r: text(r, "role") not in (None, "clinician")),
    ('state not in ("NY", "CA")', None, lambda r: text(r, "state") not in (None, "NY", "CA")),
    (
        'not role in ("clinician", "caregiver")',
        None,
        lambda r: text(r, "role") not in ("clinician", "caregiver"),
    ),
    ("years_in_practice >= 10", None, lambda r: at_least(number(r, "years_in_practice"), 10)),
    (
        "years_in_practice < 3.5",
        None,
        lambda r: (v := number(r, "years_in_practice")) is not None and v < 3.5,
    ),
    (
        "birth_year >= 1950 and birth_year < 1970",
        None,
        lambda r: between(number(r, "birth_year"), 1950, 1970),
    ),
    ("years_in_practice in (3, 40, 7)", None, lambda r: number(r, "years_in_practice") in (3, 40, 7)),
    ("last_webinar >= 2026-06-01", None, lambda r: (day_text(r, "last_webinar") or "") >= "2026-06-01"),
    ("last_webinar = 2026-03-01", None, lambda r: day_text(r, "last_webinar") == "2026-03-01"),
    ("missing(specialty)", None, lambda r: text(r, "specialty") is None),
    ("exists(years_in_practice)", None, lambda r: number(r, "years_in_practice") is not None),
    ("sms_alerts = true", None, lambda r: yes(r, "sms_alerts") is True),
    ("sms_alerts != true", None, lambda r: yes(r, "sms_alerts") is False),
    ('in_list("weekly")', None, lambda r: r.subscriptions.get("weekly", ("",))[0] == "active"),
    ('in_list("weekly")', "e-alert", lambda r: r.subscriptions.get("weekly", ("",))[0] == "active"),
    ("opened_within(90d)", None, lambda r: engaged(r, "open", 90)),
    ("not clicked_within(180d)", None, lambda r: not engaged(r, "click", 180)),
    (
        "mailed_within(60d) and not opened_within(60d)",
        None,
        lambda r: mailed(r, 60) and not engaged(r, "open", 60),
    ),
    (
        "subscribed_before(2026-01-01)",
        "e-alert",
        lambda r: subscribed_on(r, ("e-alert",), lambda at: local_day(at) < date(2026, 1, 1)),
    ),
    (
        "subscribed_after(2026-06-30)",
        None,
        lambda r: subscribed_on(r, ("e-alert", "weekly"), lambda at: local_day(at) > date(2026, 6, 30)),
    ),
    (
        "subscribed_within(30d)",
        None,
        lambda r: subscribed_on(r, ("e-alert", "weekly"), lambda at: at >= NOW - timedelta(days=30)),
    ),
    (
        'consented_via("form")',
        "weekly",
        lambda r: any(name == "weekly" and method == "form" for name, _action, method in r.consent),
    ),
    ("created < 2026-03-01", None, lambda r: local_day(r.created_at) < date(2026, 3, 1)),
    ("created = 2026-03-01", None, lambda r: local_day(r.created_at) == date(2026, 3, 1)),
    (
        'email = "reader.17@example3.org" or name in ('
        + ", ".join(f'"Reader {n}"' for n in range(18, 99))
        + ")",
        None,
        lambda r: r.email == "reader.17@example3.org" or r.name in {f"Reader {n}" for n in range(18, 99)},
    ),
    (
        '(role = "patient" or role = "caregiver") and not opened_within(365d) and sms_alerts = false',
        None,
        lambda r: (
            text(r, "role") in ("patient", "caregiver")
            and not engaged(r, "open", 365)
            and yes(r, "sms_alerts") is False
        ),
    ),
]


def test_each_expression_selects_exactly_what_a_python_filter_selects(session: Session) -> None:
    readers = make_readers(10_000)
    list_ids = load(session, readers)
    publication, _ = load_publication(ROOT / "publications/e-alert.yaml")
    wrong = []
    for expression, list_name, python_filter in EXPRESSIONS:
        lists = (list_name,) if list_name else ("e-alert", "weekly")
        scope = [list_ids[list_name]] if list_name else None
        segment = check_segment(expression, publication.attributes)
        query = matching_subscribers(session, segment, scope, zone=ZONE, now=NOW)
        selected = {row.id for row in session.execute(query)}
        expected = {r.id for r in readers if mailable(r, lists) and python_filter(r)}
        assert 0 < len(expected) < 9_000, f"{expression}: {len(expected)} is not a telling subset"
        if selected != expected:
            extra, lost = sorted(selected - expected)[:5], sorted(expected - selected)[:5]
            wrong.append(
                f"{expression} [{list_name}]: {len(selected)} vs {len(expected)}; extra {extra} lost {lost}"
            )
    assert wrong == [], "\n".join(wrong)
