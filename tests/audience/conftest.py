"""Audience test helpers: a list or two, a whole-database dump, and CSV writing."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from newsletter.audience.people.consent import Consent
from newsletter.audience.people.lists import create_list
from newsletter.db.tables import Base, MailingList

Dump = Callable[[], dict[str, list[tuple[Any, ...]]]]
WriteCsv = Callable[..., Path]
FORM = Consent(
    method="form",
    source="https://example.org/signup",
    ip="203.0.113.7",
    user_agent="Mozilla/5.0 (test)",
    text="Send me the daily e-Alert. I can unsubscribe at any time.",
    version="2026-01",
)


@pytest.fixture
def e_alert(session: Session) -> MailingList:
    """A public, single opt-in list called e-alert."""
    return create_list(session, "e-alert", description="The daily e-Alert")


@pytest.fixture
def weekly(session: Session) -> MailingList:
    """A public, double opt-in list called weekly."""
    return create_list(session, "weekly", double_opt_in=True, description="Weekly digest")


@pytest.fixture
def dump(engine: Engine) -> Dump:
    """Every row of every table, sorted: two equal dumps mean an unchanged database."""

    def take() -> dict[str, list[tuple[Any, ...]]]:
        with engine.connect() as conn:
            return {
                table.name: sorted(
                    (tuple(repr(value) for value in row) for row in conn.execute(select(table))),
                )
                for table in Base.metadata.sorted_tables
            }

    return take


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    """Write rows (the first is the header) to a CSV file and return its path."""

    def write(rows: Iterable[Iterable[str]], name: str = "members.csv") -> Path:
        path = tmp_path / name
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
        return path

    return write


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file as dicts."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


Fingerprint = Callable[[], dict[str, tuple[int, str]]]


@pytest.fixture
def fingerprint(engine: Engine) -> Fingerprint:
    """Row count and sha256 of every table's rows in key order: equal means an unchanged database."""

    def take() -> dict[str, tuple[int, str]]:
        present = set(inspect(engine).get_table_names())
        result = {}
        with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                if table.name not in present:
                    continue
                digest, count = hashlib.sha256(), 0
                for row in conn.execute(select(table).order_by(*table.primary_key.columns)):
                    digest.update(repr(tuple(row)).encode())
                    count += 1
                result[table.name] = (count, digest.hexdigest())
        return result

    return take
