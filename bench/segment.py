"""Benchmark segment resolution: how long finding a segment's readers takes on a large list.

    .venv/bin/python bench/segment.py [--size 1000000] [--sends 3] [--sqlite-size 0] [--repeat 3]
                                      [--keep SCHEMA]

On PostgreSQL (NEWSLETTER_TEST_POSTGRES_URL, a throw-away schema, or `--keep SCHEMA` to load once and
reuse) it loads `--size` readers with mixed attributes (role, state, specialty, years in practice, a
webinar date, a yes/no, a signup source), all on one list and a third on a second, one consent row
each, `--sends` past sends with a delivery per reader, opens (a third of them machine opens) and
clicks as events, then ANALYZEs. For each expression it times resolution — an INSERT ... SELECT of
the ids of every mailable reader in the segment into a temporary table, inside the server, as a send
fixes its recipients when it starts — and a count, best of `--repeat`. The first line is the list
without a segment, for comparison. Then it drops the GIN index on attributes and times the
attribute-equality expressions again, back to back, to show what the index buys (and puts it back).
`--sqlite-size N` runs the same on a SQLite file of N readers. The load average is printed with
each block: other work on the machine slows every figure alike, so compare figures of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pg_schema import drop_schema, postgres_schema

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
EXPRESSIONS = [
    'role = "clinician"',
    'role = "clinician" and state in ("NY", "NJ")',
    'state in ("CA", "TX", "FL")',
    "years_in_practice >= 10",
    "last_webinar >= 2026-06-01",
    "missing(specialty)",
    "sms_alerts = true",
    'in_list("weekly")',
    "opened_within(90d)",
    "not clicked_within(180d)",
    "mailed_within(60d) and not opened_within(60d)",
    "subscribed_before(2026-01-01)",
    'consented_via("form")',
    'role = "clinician" and (years_in_practice >= 10 or opened_within(30d)) and not in_list("weekly")',
    'role = "researcher" and state = "WA" and specialty = "oncology"',
]
INDEXED = [*EXPRESSIONS[:3], EXPRESSIONS[-1]]
ROLES = ["clinician", "patient", "caregiver", "researcher"]
STATES = ["NY", "NJ", "CA", "TX", "FL", "PA", "OH", "IL", "MA", "WA"]
SPECIALTIES = ["geriatrics", "cardiology", "nephrology", "oncology", None]
CHUNK = 50_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--sends", type=int, default=3)
    parser.add_argument("--sqlite-size", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--keep",
        metavar="SCHEMA",
        help="load into this PostgreSQL schema once and keep it (later runs reuse it)",
    )
    args = parser.parse_args()
    base = os.environ.get("NEWSLETTER_TEST_POSTGRES_URL", "").strip()
    if base and args.keep:
        run("postgresql", kept_schema(base, args.keep), args.size, args.sends, args.repeat)
    elif base:
        schema, url = postgres_schema(base)
        try:
            run("postgresql", url, args.size, args.sends, args.repeat)
        finally:
            drop_schema(base, schema)
    else:
        print("NEWSLETTER_TEST_POSTGRES_URL is not set: PostgreSQL skipped")
    if args.sqlite_size:
        with tempfile.TemporaryDirectory() as folder:
            run("sqlite", f"sqlite:///{folder}/bench.db", args.sqlite_size, args.sends, args.repeat)


def kept_schema(base: str, schema: str) -> str:
    """A URL on `schema`, created if it does not exist (never dropped: --keep)."""
    from sqlalchemy import create_engine, text

    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def run(backend: str, url: str, size: int, sends: int, repeat: int) -> None:
    from sqlalchemy import func, select, text

    from newsletter.db.migrate import upgrade
    from newsletter.db.session import make_engine, make_session_factory
    from newsletter.db.tables import Subscriber

    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        present = session.scalar(select(func.count()).select_from(Subscriber))
    if present:
        print(f"\n{backend}: reusing {present:,} readers already loaded")
    else:
        started = time.perf_counter()
        counts = load(engine, size, sends)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        loaded = time.perf_counter() - started
        described = ", ".join(f"{n:,} {what}" for what, n in counts.items())
        print(f"\n{backend}: loaded {described} in {loaded:.0f} s (then ANALYZE)")
    timings = measure(sessions, EXPRESSIONS, repeat, baseline=True)
    if backend == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_subscribers_attributes"))
        print("  without the GIN index on attributes (same data, right after):")
        without = measure(sessions, INDEXED, repeat, baseline=False)
        for expression in INDEXED:
            ratio = without[expression] / timings[expression]
            print(f"    {ratio:.1f}x the time without the index: {expression}")
        with engine.begin() as conn:
            conn.execute(text(INDEX_DDL))
    engine.dispose()


INDEX_DDL = "CREATE INDEX ix_subscribers_attributes ON subscribers USING gin (attributes jsonb_path_ops)"


def measure(sessions: Any, expressions: list[str], repeat: int, *, baseline: bool) -> dict[str, float]:
    """Best-of-`repeat` seconds to resolve each segment into a table of reader ids, and to count it.

    On PostgreSQL one more resolve runs without parallel workers and reads the server process's CPU
    seconds from /proc: the work itself, which other load on the machine does not inflate.
    """
    from sqlalchemy import column, delete, func, insert, select, table, text

    from newsletter.audience.people.lists import get_list
    from newsletter.audience.people.recipients import mailable_subscribers
    from newsletter.audience.segments.members import matching_subscribers
    from newsletter.content.load import load_publication
    from newsletter.content.segments.check import check_segment
    from newsletter.db.tables import Subscriber

    publication, _ = load_publication(ROOT / "publications" / "e-alert.yaml")
    print(
        f"  load average {os.getloadavg()[0]:.1f}; best of {repeat}: resolve / count wall seconds"
        " / server CPU seconds of one resolve without parallel workers / readers"
    )
    results: dict[str, float] = {}
    target = table("segment_ids", column("id"))
    with sessions() as session:
        list_ids = [get_list(session, "e-alert").id]
        queries = []
        if baseline:
            queries.append(("(the whole list, no segment)", mailable_subscribers(list_ids)))
        for expression in expressions:
            segment = check_segment(expression, publication.attributes)
            queries.append((expression, matching_subscribers(session, segment, list_ids, now=NOW)))
        connection = session.connection()
        postgres = connection.dialect.name == "postgresql"
        connection.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS segment_ids (id bigint)"))
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar() if postgres else None
        for label, query in queries:
            fill = insert(target).from_select(["id"], query.with_only_columns(Subscriber.id))
            count_query = select(func.count()).select_from(query.subquery())

            def resolve(fill: Any = fill) -> None:
                # TRUNCATE on PostgreSQL: a DELETE would leave every earlier run's rows to scan past
                connection.execute(text("TRUNCATE segment_ids") if postgres else delete(target))
                connection.execute(fill)

            resolved, _ = best(repeat, resolve)
            counted, readers = best(repeat, lambda q=count_query: connection.execute(q).scalar())
            cpu = "       -"
            if pid is not None:
                connection.execute(text("SET max_parallel_workers_per_gather = 0"))
                before = _cpu_seconds(pid)
                resolve()
                cpu = f"{_cpu_seconds(pid) - before:6.2f} s"
                connection.execute(text("RESET max_parallel_workers_per_gather"))
            results[label] = resolved
            print(f"    {resolved:6.2f} s / {counted:6.2f} s / {cpu} / {readers:>9,}  {label}")
        session.rollback()
    return results


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a local process, from /proc (the PostgreSQL server runs here)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def best(repeat: int, work: Any) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


# ---------------------------------------------------------------- loading


def load(engine: Any, size: int, sends: int) -> dict[str, int]:
    """Readers, lists, subscriptions, consent, sends, deliveries and events, in chunks; returns row counts."""
    from newsletter.db.session import make_session_factory
    from newsletter.db.tables import MailingList, Send

    rng = random.Random(20261124)
    with make_session_factory(engine)() as session:
        lists = [MailingList(name=name, created_at=NOW) for name in ("e-alert", "weekly")]
        session.add_all(lists)
        session.flush()
        send_rows = [
            Send(
                issue_slug=f"2026-10-{n + 1:02d}-bench",
                subject="Bench",
                html="<p>x</p>",
                text="x",
                sha256="0" * 64,
                publication={},
                status="sent",
                transport="outbox",
                created_at=NOW,
                updated_at=NOW,
            )
            for n in range(sends)
        ]
        session.add_all(send_rows)
        session.commit()
        list_ids = [item.id for item in lists]
        send_ids = [item.id for item in send_rows]
    counts = dict.fromkeys(("readers", "subscriptions", "consent rows", "deliveries", "events"), 0)
    delivery_id = event_id = 0
    for start in range(1, size + 1, CHUNK):
        tables: dict[str, list[tuple[Any, ...]]] = {name: [] for name in COLUMNS}
        for n in range(start, min(start + CHUNK, size + 1)):
            delivery_id, event_id = _reader(rng, n, tables, list_ids, send_ids, delivery_id, event_id)
        write(engine, tables)
        for name, label in (("subscribers", "readers"), ("subscriptions", "subscriptions"),
                            ("consent_evidence", "consent rows"), ("deliveries", "deliveries"),
                            ("events", "events")):  # fmt: skip
            counts[label] += len(tables[name])
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("subscribers", "deliveries", "events", "consent_evidence"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
    return counts


COLUMNS = {
    "subscribers": "id, public_id, email, email_hash, name, attributes, status, created_at, updated_at",
    "subscriptions": "subscriber_id, list_id, status, created_at, subscribed_at, updated_at",
    "consent_evidence": "subscriber_id, list_id, action, method, source, created_at",
    "deliveries": "id, send_id, subscriber_id, email, domain, status, attempts, sent_at, event_flags",
    "events": (
        "id, sg_event_id, type, occurred_at, received_at, send_id, delivery_id, domain, machine_open, detail"
    ),
}


def _reader(
    rng: random.Random,
    n: int,
    tables: dict[str, list[tuple[Any, ...]]],
    list_ids: list[int],
    send_ids: list[int],
    delivery_id: int,
    event_id: int,
) -> tuple[int, int]:
    email = f"reader.{n}@example{n % 97}.com"
    created = NOW - timedelta(days=rng.randint(30, 900))
    attributes = {
        "role": rng.choice(ROLES),
        "state": rng.choice(STATES),
        "years_in_practice": str(rng.randint(0, 40)),
        "signup_source": rng.choice(["webinar", "website", "partner"]),
        "sms_alerts": rng.choice(["yes", "no"]),
    }
    if (specialty := rng.choice(SPECIALTIES)) is not None:
        attributes["specialty"] = specialty
    if rng.random() < 0.3:
        attributes["last_webinar"] = (NOW - timedelta(days=rng.randint(0, 500))).date().isoformat()
    tables["subscribers"].append(
        (
            n,
            secrets.token_urlsafe(16),
            email,
            f"{n:064x}",
            f"Reader {n}",
            json.dumps(attributes),
            "enabled",
            created,
            created,
        )
    )
    for list_id in list_ids[: 2 if n % 3 == 0 else 1]:
        tables["subscriptions"].append((n, list_id, "active", created, created, created))
        method = "form" if rng.random() < 0.4 else "import"
        tables["consent_evidence"].append((n, list_id, "subscribe", method, method, created))
    for age, send_id in enumerate(send_ids):
        delivery_id += 1
        sent = NOW - timedelta(days=20 + 60 * age, minutes=n % 600)
        tables["deliveries"].append(
            (delivery_id, send_id, n, email, email.rpartition("@")[2], "accepted", 1, sent, 0)
        )
        for kind, chance in (("open", 0.35), ("click", 0.06)):
            if rng.random() < chance:
                event_id += 1
                machine = (rng.random() < 0.33) if kind == "open" else None
                at = sent + timedelta(hours=rng.randint(1, 72))
                tables["events"].append(
                    (event_id, f"bench-{event_id}", kind, at, at, send_id, delivery_id, "", machine, "{}")
                )
    return delivery_id, event_id


def write(engine: Any, tables: dict[str, list[tuple[Any, ...]]]) -> None:
    """One chunk: COPY on PostgreSQL, executemany on SQLite."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            cursor = conn.connection.driver_connection.cursor()
            for name, columns in COLUMNS.items():
                with cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:
                    for row in tables[name]:
                        copy.write_row(row)
            return
        for name, columns in COLUMNS.items():
            width = len(columns.split(","))
            rows = [tuple(_sqlite(value) for value in row) for row in tables[name]]
            conn.exec_driver_sql(f"INSERT INTO {name} ({columns}) VALUES ({', '.join('?' * width)})", rows)


def _sqlite(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


if __name__ == "__main__":
    main()
