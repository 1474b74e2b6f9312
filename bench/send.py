"""Benchmark a whole send through the SendGrid transport: recipients/second and peak memory.

    .venv/bin/python bench/send.py [--sizes 100000,1000000] [--batch-size 1000] [--workers N] [--profile FILE]

For each size and backend (SQLite file; PostgreSQL too when NEWSLETTER_TEST_POSTGRES_URL is set,
in a throw-away schema), a child process creates N subscribers on one list (bulk SQL, streamed in
chunks), schedules the rendered sample issue and runs SendRunner to the end against a minimal
SendGrid stand-in in this (parent) process that only counts requests and recipients.

The time is end to end: starting the send (materialising one delivery row per recipient and cutting
them into batches), then claim, suppression check, merge values with signed links, payload, HTTP and
marking each batch. A second rate leaves out the start (one statement, once per send): the sending
itself. With --workers N, N worker processes share a PostgreSQL send (as workers on several hosts
would), timed from their start until the last is done.
Peak memory is resource.getrusage(RUSAGE_SELF).ru_maxrss of the child (its peak resident set size,
loading included); similar figures at both sizes mean memory is flat in the list size.

Under each result, a line splits the send's time by stage (wall-clock seconds, timed around the stage's
function per batch; "other" is the rest: status checks, leases, envelopes, result objects, commits).
On PostgreSQL a batch's marks and the next claim go in one pipelined round trip that overlaps building
the request: "claim" there is the part of that round trip the overlap did not hide.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pg_schema import drop_schema, postgres_schema

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "issues" / "2026-11-20-muscle-loss-culprit.yaml"
TARGET = 20_000
LOAD_CHUNK = 20_000


# ---------------------------------------------------------------- the stand-in (parent process)


class CountingStandIn(ThreadingHTTPServer):
    """Answers every POST /v3/mail/send with 202 and counts requests and `to` addresses."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests = 0
        self.recipients = 0
        self.bytes = 0

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def reset(self) -> None:
        with self.lock:
            self.requests = self.recipients = self.bytes = 0


class _Handler(BaseHTTPRequestHandler):
    server: CountingStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.requests += 1
            self.server.recipients += body.count(b'"to":[')
            self.server.bytes += len(body)
        self.send_response(202)
        self.send_header("X-Message-Id", f"bench-{self.server.requests}")
        self.send_header("Content-Length", "0")
        self.end_headers()


# ---------------------------------------------------------------- the sending child


def load_subscribers(engine: Any, list_name: str, count: int) -> None:
    """`count` active members of a new list, in chunks: COPY on PostgreSQL, executemany on SQLite."""
    from newsletter import clock
    from newsletter.audience.people.lists import create_list
    from newsletter.db.session import make_session_factory

    with make_session_factory(engine)() as session:
        list_id = create_list(session, list_name).id
    now = clock.now()
    postgres = engine.dialect.name == "postgresql"
    stamp = now.isoformat() if postgres else now.replace(tzinfo=None).isoformat(" ")
    for start in range(1, count + 1, LOAD_CHUNK):
        ids = range(start, min(start + LOAD_CHUNK, count + 1))
        people = [_person(n, stamp) for n in ids]
        members = [(n, list_id, "active", stamp, stamp, stamp) for n in ids]
        with engine.begin() as conn:
            if postgres:
                cursor = conn.connection.driver_connection.cursor()
                with cursor.copy(f"COPY subscribers ({PEOPLE}) FROM STDIN") as copy:
                    for row in people:
                        copy.write_row(row)
                with cursor.copy(f"COPY subscriptions ({MEMBERS}) FROM STDIN") as copy:
                    for member in members:
                        copy.write_row(member)
            else:
                conn.exec_driver_sql(
                    f"INSERT INTO subscribers ({PEOPLE}) VALUES ({', '.join('?' * 9)})", people
                )
                conn.exec_driver_sql(
                    f"INSERT INTO subscriptions ({MEMBERS}) VALUES ({', '.join('?' * 6)})", members
                )
    if postgres:
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('subscribers', 'id'), %s)", (count,))


PEOPLE = "id, public_id, email, email_hash, name, attributes, status, created_at, updated_at"
MEMBERS = "subscriber_id, list_id, status, created_at, subscribed_at, updated_at"


def _person(n: int, stamp: str) -> tuple[Any, ...]:
    from newsletter.audience.addresses import email_hash

    email = f"reader.{n}@example{n % 97}.com"
    attributes = json.dumps({"first_name": f"Reader{n}", "plan": "free"})
    return (
        n,
        secrets.token_urlsafe(16),
        email,
        email_hash(email),
        f"Reader{n} Lee",
        attributes,
        "enabled",
        stamp,
        stamp,
    )


STAGES = ("materialise", "claim", "merge", "payload", "http", "mark")


def timed_stages() -> dict[str, float]:
    """Wrap each stage's function with a timer; the returned dict fills in as the send runs."""
    from newsletter.deliver.engine import run as run_module
    from newsletter.deliver.engine import start as start_module
    from newsletter.deliver.engine.values import LinkMaker
    from newsletter.deliver.transports import sendgrid

    spent = dict.fromkeys(STAGES, 0.0)

    def timer(stage: str, function: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[stage] += time.perf_counter() - started

        return timed

    spent["start"] = 0.0  # the whole start (materialise, cut into batches, leases): not a stage of its own
    run_module.start_send = timer("start", run_module.start_send)  # type: ignore[attr-defined]
    start_module.materialize = timer("materialise", start_module.materialize)  # type: ignore[attr-defined]
    # Marks and the next claim travel in one round (PostgreSQL: one pipelined round trip overlapping the
    # request being built; SQLite: one transaction): "claim" is the round's time that was not hidden.
    for line in (run_module.PipelinedLine, run_module.LeasedLine):
        line.submit = timer("claim", line.submit)  # type: ignore[method-assign]
        line.collect = timer("claim", line.collect)  # type: ignore[method-assign]
    run_module.batch_marks = timer("mark", run_module.batch_marks)  # type: ignore[attr-defined]
    LinkMaker.many = timer("merge", LinkMaker.many)  # type: ignore[method-assign]
    sendgrid.build_payload = timer("payload", sendgrid.build_payload)  # type: ignore[attr-defined]
    sendgrid.SendGridTransport._call = timer("http", sendgrid.SendGridTransport._call)  # type: ignore[method-assign]
    return spent


def make_runner(sessions: Any, host: str, batch_size: int) -> Any:
    """A SendRunner on `sessions` sending through the SendGrid transport to the stand-in at `host`."""
    from newsletter.audience.readers.tokens import TokenSigner
    from newsletter.deliver.engine.claims import worker_identity
    from newsletter.deliver.engine.run import RunOptions, SendRunner
    from newsletter.deliver.transports.sendgrid import SendGridTransport

    return SendRunner(
        sessions,
        SendGridTransport("SG.bench", host=host),
        TokenSigner("bench-secret-key-" + "x" * 32),
        worker_identity(),
        RunOptions(batch_size=batch_size),
    )


def bodies_alone(sessions: Any, send_id: int, runner: Any, batch_size: int) -> float:
    """Seconds spent building the send's request bodies again, batch by batch, with nothing else: each
    recipient's merge values and signed links, envelopes and the SendGrid bodies (no database, no HTTP:
    the rows are read beforehand, outside the clock)."""
    from sqlalchemy import select

    from newsletter.db.tables import Delivery, DeliveryBatch, Subscriber
    from newsletter.deliver.engine.claims import Claimed, in_batch
    from newsletter.deliver.engine.context import load_context

    with sessions() as session:
        context = load_context(session, send_id, runner.transport, runner.signer)
        batches = session.execute(
            select(DeliveryBatch.first_id, DeliveryBatch.last_id)
            .where(DeliveryBatch.send_id == send_id)
            .order_by(DeliveryBatch.id)
        ).all()
    spent = 0.0
    for first_id, last_id in batches:  # each batch's rows by primary-key range, as a claim reads them
        with sessions() as session:
            rows = session.execute(
                select(
                    Delivery.id,
                    Delivery.subscriber_id,
                    Delivery.email,
                    Subscriber.public_id,
                    Subscriber.name,
                    Subscriber.attributes["first_name"].as_string(),
                    Subscriber.attributes["last_name"].as_string(),
                )
                .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                .where(in_batch(send_id, first_id, last_id))
                .order_by(Delivery.id)
            ).all()
        claimed = [Claimed(*row) for row in rows]
        started = time.perf_counter()
        context.request(claimed)  # builds the bodies; calling the result would send them
        spent += time.perf_counter() - started
    return spent


def helper_worker(url: str, send_id: int, host: str, batch_size: int) -> None:
    """Another worker process on the same send (PostgreSQL): waits for "go" on stdin, runs, prints figures."""
    from newsletter.db.session import make_engine, make_session_factory
    from newsletter.deliver.engine.heap import heap_frozen

    runner = make_runner(make_session_factory(make_engine(url)), host, batch_size)
    sys.stdin.readline()
    with heap_frozen():
        report = runner.run(send_id)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"counts": report.counts, "peak_mb": peak}), flush=True)


def child(
    url: str, size: int, host: str, batch_size: int, analyze: bool, profile: str | None, workers: int = 1
) -> None:
    """Load `size` subscribers into `url`, run one send to the end, print one JSON line of figures.

    With `workers` > 1 (PostgreSQL), that many worker processes share the send (SKIP LOCKED claims),
    as workers on several hosts would; the time is from the start until the last one is done.
    """
    from newsletter.content.load import load_issue
    from newsletter.db.migrate import upgrade
    from newsletter.db.session import make_engine, make_session_factory
    from newsletter.db.tables import Send
    from newsletter.deliver.engine.heap import heap_frozen
    from newsletter.render import render_issue
    from newsletter.schedule.sends import create_send

    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    load_subscribers(engine, "bench", size)
    if analyze and engine.dialect.name == "postgresql":
        with engine.connect() as conn:  # what autovacuum does soon after a bulk load
            conn.exec_driver_sql("ANALYZE subscribers, subscriptions")
            conn.commit()
    loaded = time.perf_counter() - started
    sessions = make_session_factory(engine)
    issue = load_issue(SAMPLE)
    rendered = render_issue(issue.issue, issue.publication, slug=issue.slug)
    with sessions.begin() as session:
        send_id = create_send(
            session, rendered, issue.publication, list_names=["bench"], transport="sendgrid"
        ).id
    runner = make_runner(sessions, host, batch_size)
    helpers = [
        subprocess.Popen(
            [sys.executable, __file__, "--helper", url, str(send_id), host, str(batch_size)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers - 1)
    ]
    time.sleep(2.0 if helpers else 0)  # let them import and connect before the clock starts
    spent = timed_stages()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    for helper in helpers:
        assert helper.stdin is not None
        helper.stdin.write("go\n")
        helper.stdin.flush()
    with heap_frozen():  # as the worker process runs sends
        report = runner.run(send_id)
    shares = [json.loads(helper.communicate()[0].strip().splitlines()[-1]) for helper in helpers]
    if profiler and profile:
        profiler.disable()
        profiler.dump_stats(profile)
    seconds = time.perf_counter() - started
    with sessions() as session:
        status = session.get_one(Send, send_id).status
    stages = dict(spent)  # the stage timers also see what follows
    with heap_frozen():
        bodies_seconds = bodies_alone(sessions, send_id, runner, batch_size)
    engine.dispose()
    counts = dict(report.counts)
    for share in shares:
        for outcome, n in share["counts"].items():
            counts[outcome] = counts.get(outcome, 0) + n
    print(
        json.dumps(
            {
                "status": status,
                "accepted": counts.get("accepted", 0),
                "counts": counts,
                "helper_peak_mb": max((share["peak_mb"] for share in shares), default=0),
                "seconds": seconds,
                "bodies_seconds": bodies_seconds,
                "load_seconds": loaded,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux: KB
                "loaded_mb": rss_before / 1024,
                "stages": stages,
            }
        )
    )


# ---------------------------------------------------------------- driving it


def run(label: str, url: str, size: int, standin: CountingStandIn, args: argparse.Namespace) -> None:
    """One send in a child process; print its figures and check the stand-in saw everyone once."""
    standin.reset()
    workers = args.workers if label == "postgresql" else 1
    command = [sys.executable, __file__, "--child", url, str(size), standin.url, str(args.batch_size)]
    command += ["--workers", str(workers)]
    if args.no_analyze:
        command.append("--no-analyze")
    if args.profile:
        command += ["--profile", f"{args.profile}.{label}.{size}"]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    rate = size / figures["seconds"]
    sending = size / (figures["seconds"] - figures["stages"]["start"])
    verdict = "ok" if rate >= TARGET else f"below the {TARGET:,}/s target"
    if rate < TARGET <= sending:
        verdict += "; sending alone above it"
    name = label if workers == 1 else f"{label} ×{workers}"
    helpers = f", other workers {figures['helper_peak_mb']:.0f} MB" if workers > 1 else ""
    print(
        f"{name:<11} {size:>9,} recipients  {figures['seconds']:6.1f} s  {rate:>8,.0f} recipients/s  "
        f"peak RSS {figures['peak_mb']:5.0f} MB (after loading {figures['loaded_mb']:4.0f} MB{helpers})  "
        f"{standin.requests:,} requests, {standin.bytes / 1e6:,.0f} MB  [{verdict}]"
    )
    start = figures["stages"]["start"]
    print(f"{'':<11} starting the send {start:.1f} s, then sending {sending:,.0f} recipients/s")
    bodies = size / figures["bodies_seconds"]
    print(
        f"{'':<11} building the same bodies alone {bodies:,.0f} recipients/s; "
        f"send efficiency (end to end / bodies alone) {rate / bodies:.0%}"
    )
    if workers > 1:
        print(f"{'':<11} stages below: the first worker's share only")
    stages = figures["stages"]
    other = figures["seconds"] - sum(stages[name] for name in STAGES)
    parts = [f"{name} {stages[name]:.1f}" for name in STAGES] + [f"other {other:.1f}"]
    per = "  ".join(f"{name} {stages[name] / size * 1e6:.0f}" for name in STAGES)
    print(f"{'':<11} stages (s): {', '.join(parts)};  µs/recipient: {per}  other {other / size * 1e6:.0f}")
    if figures["status"] != "sent" or figures["accepted"] != size or standin.recipients != size:
        raise SystemExit(
            f"{label}: expected {size} accepted once each; got {figures['counts']}, "
            f"stand-in saw {standin.recipients} recipients"
        )


def main() -> None:
    """Run each size on each backend; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated list sizes")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--no-analyze", action="store_true", help="skip ANALYZE after loading (PostgreSQL)")
    parser.add_argument("--profile", help="write cProfile output of each run to PROFILE.<backend>.<size>")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="PostgreSQL: worker processes sharing the send (SQLite runs one leased worker)",
    )
    parser.add_argument("--child", nargs=4, metavar=("URL", "SIZE", "HOST", "BATCH"), help=argparse.SUPPRESS)
    parser.add_argument("--helper", nargs=4, metavar=("URL", "SEND", "HOST", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.helper:
        url, send, host, batch = args.helper
        helper_worker(url, int(send), host, int(batch))
        return
    if args.child:
        url, size, host, batch = args.child
        child(url, int(size), host, int(batch), not args.no_analyze, args.profile, args.workers)
        return
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    backends = [b.strip() for b in args.backends.split(",")]
    postgres = os.environ.get("NEWSLETTER_TEST_POSTGRES_URL")
    print(f"end to end (materialise + claim + merge + payload + HTTP + mark), batches of {args.batch_size}")
    print("peak RSS: ru_maxrss (resource.getrusage) of the sending child process, loading included")
    print(f"{os.cpu_count()} CPUs; load average before: {_load()} (other work slows every figure)")
    standin = CountingStandIn()
    threading.Thread(target=standin.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-send-") as folder:
            for size in sizes:
                if "sqlite" in backends:
                    run("sqlite", f"sqlite:///{folder}/send-{size}.db", size, standin, args)
                if "postgresql" not in backends:
                    continue
                if not postgres:
                    print("postgresql  skipped: NEWSLETTER_TEST_POSTGRES_URL is not set")
                    continue
                schema, url = postgres_schema(postgres)
                try:
                    run("postgresql", url, size, standin, args)
                finally:
                    drop_schema(postgres, schema)
    finally:
        standin.shutdown()
    print(f"load average after: {_load()}")


def _load() -> str:
    return ", ".join(f"{n:.2f}" for n in os.getloadavg())


if __name__ == "__main__":
    main()
