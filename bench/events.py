"""Benchmark event ingestion through POST /webhooks/sendgrid, and the report query, on SQLite and PostgreSQL.

    .venv/bin/python bench/events.py [--recipients 1000000] [--backends sqlite,postgresql]

For each backend: a fresh database (a SQLite file; a throw-away PostgreSQL schema when
NEWSLETTER_TEST_POSTGRES_URL is set) with one send of `--recipients` deliveries; `newsletter serve`
in a child process on 127.0.0.1; then the scripted event stream of tests/events/stream.py (about 5
events per recipient: processed, deferrals, delivered/bounces/drops, opens, machine opens, clicks,
unsubscribes, complaints, repeats, unknown types) signed and POSTed in batches of `--batch` over real
HTTP, `--concurrency` requests in flight. The bodies are generated into a file first, so the timed
loop is the server's work plus signing each body. Prints events/second (wall time, signature
checked, stored once) and the report's query time (first call, then the median of 5), and checks
the report's figures against the script's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from events.helpers import WebhookKey, body_of  # noqa: E402
from events.stream import EventScript  # noqa: E402

from newsletter.db.bulk import BulkInsert  # noqa: E402
from newsletter.db.migrate import upgrade  # noqa: E402
from newsletter.db.session import make_engine, make_session_factory  # noqa: E402
from newsletter.db.tables import Delivery, Send  # noqa: E402
from newsletter.reports.send_report import build_report  # noqa: E402

BIG = {"gmail.com": 0.40, "yahoo.com": 0.15, "outlook.com": 0.12, "icloud.com": 0.08}


def domain(rng: random.Random) -> str:
    """A recipient domain: a few big mailbox providers and a long tail."""
    roll = rng.random()
    for name, share in BIG.items():
        if roll < share:
            return name
        roll -= share
    return f"practice{rng.randrange(5000)}.example"


def seed(url: str, recipients: int, started_at: datetime) -> tuple[int, list[tuple[int, int, str]]]:
    """Migrate, create one sent send with `recipients` accepted deliveries; returns (send_id, deliveries)."""
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    rng = random.Random(7)
    with sessions() as session:
        send = Send(
            issue_slug="bench",
            subject="Bench",
            html="<p>x</p>",
            text="x",
            sha256="0" * 64,
            publication={},
            status="sent",
            transport="sendgrid",
            started_at=started_at,
            created_at=started_at,
            updated_at=started_at,
        )
        session.add(send)
        session.flush()
        columns = ("send_id", "email", "domain", "status", "attempts", "sent_at", "event_flags")
        bulk = BulkInsert(session, Delivery.__table__, columns, ("send_id", "email"))
        when = bulk.convert("sent_at", started_at)
        for start in range(0, recipients, 20_000):
            rows = []
            for i in range(start, min(start + 20_000, recipients)):
                host = domain(rng)
                rows.append((send.id, f"reader{i}@{host}", host, "accepted", 1, when, 0))
            bulk.run(rows)
        session.commit()
        send_id = send.id
        ids = session.execute(
            text("SELECT id, email FROM deliveries WHERE send_id = :s ORDER BY id"), {"s": send_id}
        ).all()
        session.execute(text("ANALYZE"))
        session.commit()
    engine.dispose()
    return send_id, [(row[0], send_id, row[1]) for row in ids]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, key: WebhookKey, port: int) -> subprocess.Popen[bytes]:
    """`newsletter serve` for `url` on 127.0.0.1:port, once it answers."""
    env = {**os.environ, "NEWSLETTER_DATABASE_URL": url, "SENDGRID_WEBHOOK_PUBLIC_KEY": key.public_b64}
    command = [sys.executable, "-m", "newsletter", "serve", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/static/app.css", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("newsletter serve did not start")


def write_batches(script: EventScript, batch: int, path: Path) -> int:
    """Generate the script's batches into `path`, one JSON body per line; returns the number of events."""
    events = 0
    with path.open("wb") as handle:
        for chunk in script.batches(batch):
            handle.write(body_of(chunk) + b"\n")
            events += len(chunk)
    return events


def post_all(port: int, key: WebhookKey, path: Path, concurrency: int) -> dict[str, float]:
    """Sign and POST each body of `path` (signing is part of the timed loop); events stored, wall time."""
    url = f"http://127.0.0.1:{port}/webhooks/sendgrid"
    stored = 0
    in_flight: deque[Future[httpx.Response]] = deque()
    limits = httpx.Limits(max_connections=concurrency)
    with (
        httpx.Client(timeout=120, limits=limits) as client,
        ThreadPoolExecutor(concurrency) as pool,
        path.open("rb") as bodies,
    ):

        def collect(future: Future[httpx.Response]) -> int:
            response = future.result()
            if response.status_code != 200:
                raise SystemExit(f"webhook answered {response.status_code}: {response.text[:200]}")
            return int(response.json()["stored"])

        started = time.perf_counter()
        for line in bodies:
            body = line.rstrip(b"\n")
            in_flight.append(pool.submit(client.post, url, content=body, headers=key.headers(body)))
            if len(in_flight) >= concurrency * 2:
                stored += collect(in_flight.popleft())
        while in_flight:
            stored += collect(in_flight.popleft())
        elapsed = time.perf_counter() - started
    return {"stored": stored, "seconds": elapsed}


def time_report(url: str, send_id: int) -> tuple[float, float, dict[str, int]]:
    """(first call, median of 5 more) seconds for build_report, and its scalar figures.

    The database is opened first (one trivial query), so the first call times the report's queries,
    not SQLite reading back a large write-ahead log or a new PostgreSQL connection.
    """
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        session.execute(text("SELECT count(*) FROM sends")).scalar()
    timings = []
    figures: dict[str, int] = {}
    for _ in range(6):
        with sessions() as session:
            started = time.perf_counter()
            report = build_report(session, send_id)
            timings.append(time.perf_counter() - started)
            figures = report.figures
    engine.dispose()
    return timings[0], statistics.median(timings[1:]), figures


def run(backend: str, url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Seed, generate, serve, post, report, check; one result dict."""
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    send_id, deliveries = seed(url, args.recipients, started_at)
    seeded = time.perf_counter() - t0
    key = WebhookKey()
    script = EventScript(deliveries, started_at=started_at, open_rate=0.52, max_opens=8, max_clicks=5)
    sent = write_batches(script, args.batch, tmp / "bodies.jsonl")
    port = free_port()
    process = start_server(url, key, port)
    try:
        posted = post_all(port, key, tmp / "bodies.jsonl", args.concurrency)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    first, warm, figures = time_report(url, send_id)
    expected = script.expected
    checked = ("delivered", "unique_opens", "total_opens", "unique_clicks", "hard_bounces", "spam_complaints")
    wrong = {
        name: (figures[name], expected.figures[name])
        for name in checked
        if figures[name] != expected.figures[name]
    }
    return {
        "backend": backend,
        "recipients": args.recipients,
        "events_posted": sent,
        "events_stored": int(posted["stored"]),
        "seed_seconds": round(seeded, 1),
        "ingest_seconds": round(posted["seconds"], 1),
        "events_per_second": round(sent / posted["seconds"]),
        "report_first_seconds": round(first, 3),
        "report_seconds": round(warm, 3),
        "figures_match_script": not wrong,
        "mismatches": wrong,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                print(json.dumps(run("sqlite", f"sqlite:///{tmp}/bench.db", args, Path(tmp))), flush=True)
            continue
        base = os.environ.get("NEWSLETTER_TEST_POSTGRES_URL")
        if not base:
            print(json.dumps({"backend": "postgresql", "skipped": "NEWSLETTER_TEST_POSTGRES_URL is not set"}))
            continue
        schema = f"bench_{secrets.token_hex(4)}"
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            joiner = "&" if "?" in base else "?"
            url = f"{base}{joiner}options=-csearch_path%3D{schema}"
            with tempfile.TemporaryDirectory() as tmp:
                print(json.dumps(run("postgresql", url, args, Path(tmp))), flush=True)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
