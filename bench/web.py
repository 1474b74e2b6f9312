"""Load-test the public one-click unsubscribe endpoint on loopback (SQLite): every request a real unsubscribe.

    .venv/bin/python bench/web.py [--subscribers 40000] [--duration 10] [--connections 32] [--workers 1]
                                  [--tool auto|wrk|python] [--min-rps 500]

1. Makes a throw-away SQLite database (WAL) with --subscribers active subscribers (CSV import).
2. Makes one sent send with a delivery per subscriber, and writes each one's signed unsubscribe URL as the
   send would (`link_tokens`, naming the delivery): each request goes to a different person, and counts
   the unsubscribe in the send's report (an event, the delivery's flag and the send's counters).
3. Starts the app with uvicorn (--workers processes; uvloop and httptools when installed) on 127.0.0.1.
4. Drives it with `wrk` (a C load generator; Debian package `wrk`) and bench/web_unsubscribe.lua, which POSTs
   RFC 8058 `List-Unsubscribe=One-Click` to the URLs in turn and checks every response (200 and the
   "You are unsubscribed" text). Without wrk, a Python fallback (httpx threads) does the same, but it
   competes with the server for the CPU, so its figure is lower: the output says which tool ran.
5. Reads the server processes' CPU time (/proc) before and after: CPU ms per request is the figure
   least disturbed by other work on the machine.
6. Afterwards opens the database and counts who is unsubscribed, so the figure is checked against
   what was written (a request cut off when the run ends may have been applied without a response:
   the database may count up to --connections more).

Exits 1 on any error, on a database count that does not match, or below --min-rps.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from newsletter import clock
from newsletter.audience.csvimport.importer import import_csv
from newsletter.audience.people.lists import create_list
from newsletter.audience.readers.tokens import TokenSigner
from newsletter.db.migrate import upgrade
from newsletter.db.session import make_engine, make_session_factory
from newsletter.db.tables import (
    ConsentEvidence,
    Delivery,
    Event,
    Send,
    SendCounter,
    Subscriber,
    Subscription,
    Suppression,
)

SECRET = "bench-secret-key-not-for-production"
LUA = Path(__file__).resolve().parent / "web_unsubscribe.lua"
BODY = b"List-Unsubscribe=One-Click"


@dataclass
class Outcome:
    """What the load generator saw."""

    tool: str
    requests: int
    seconds: float
    fresh: int  # 200 and "You are unsubscribed"
    already: int  # 200 and "already unsubscribed" (replays)
    errors: dict[str, int]
    replays_sent: int
    latency: str = ""
    server_cpu: float = 0.0  # CPU seconds the server processes used during the load


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` and its direct children (uvicorn workers), Linux only."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1] is the parent pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare(url: str, count: int, folder: Path) -> Path:
    """A migrated database with `count` active subscribers, each mailed once; the paths file."""
    engine = make_engine(url)
    upgrade(engine)
    people = folder / "people.csv"
    with people.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name"])
        writer.writerows([f"reader{i}@example.org", f"Reader {i}"] for i in range(count))
    with make_session_factory(engine)() as session:
        create_list(session, "bench")
        import_csv(session, people, "bench")
        people_rows = session.execute(select(Subscriber.id, Subscriber.public_id, Subscriber.email)).all()
        deliveries = _mailed(session, [(row.id, row.email) for row in people_rows])
    engine.dispose()
    signer = TokenSigner(SECRET)
    public_ids = [row.public_id for row in people_rows]
    tokens = signer.link_tokens(public_ids, [], [deliveries[row.id] for row in people_rows])
    paths = folder / "paths.txt"
    paths.write_text("".join(f"/unsubscribe/{unsubscribe}\n" for unsubscribe, _ in tokens))
    return paths


def _mailed(session: Session, people: list[tuple[int, str]]) -> dict[int, int]:
    """A sent send with one accepted delivery per (subscriber id, address); subscriber id → delivery id."""
    now = clock.now()
    send_id = session.execute(
        insert(Send)
        .values(
            issue_slug="bench",
            subject="Bench",
            html="<p>Hi</p>",
            text="Hi",
            sha256="0" * 64,
            publication={"name": "Bench"},
            status="sent",
            transport="outbox",
            started_at=now,
            created_at=now,
            updated_at=now,
        )
        .returning(Send.id)
    ).scalar_one()
    rows = [
        {"send_id": send_id, "subscriber_id": subscriber_id, "email": email, "domain": "example.org"}
        for subscriber_id, email in people
    ]
    for start in range(0, len(rows), 5000):
        session.execute(
            insert(Delivery),
            [{**row, "status": "accepted", "sent_at": now} for row in rows[start : start + 5000]],
        )
    session.commit()
    return dict(session.execute(select(Delivery.subscriber_id, Delivery.id)).all())


def _verify(url: str) -> dict[str, int]:
    """Counts in the database after the run."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        figures = {
            "subscriptions unsubscribed": session.scalar(
                select(func.count()).where(Subscription.status == "unsubscribed")
            ),
            "subscriptions still active": session.scalar(
                select(func.count()).where(Subscription.status == "active")
            ),
            "one-click evidence rows": session.scalar(
                select(func.count()).where(ConsentEvidence.method == "one-click")
            ),
            "one-click suppressions": session.scalar(
                select(func.count()).where(Suppression.source == "one-click")
            ),
            "unsubscribe events of our own": session.scalar(
                select(func.count()).where(Event.type == "unsubscribe", Event.delivery_id.is_not(None))
            ),
            "report's unsubscribes figure": session.scalar(
                select(SendCounter.value).where(
                    SendCounter.name == "unique", SendCounter.key == "unsubscribes"
                )
            ),
        }
    engine.dispose()
    return {key: int(value or 0) for key, value in figures.items()}


def _server(url: str, port: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NEWSLETTER_DATABASE_URL": url, "NEWSLETTER_SECRET_KEY": SECRET}
    command = [sys.executable, "-m", "uvicorn", "--factory", "newsletter.web.app:app_from_environment",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
               "--log-level", "warning", "--no-access-log"]  # fmt: skip
    if args.pure_python_server:
        command += ["--loop", "asyncio", "--http", "h11"]
    return subprocess.Popen(command, env=env)


def _wait(base: str, workers: int) -> None:
    """Until the app answers; then warm every worker up with read-only requests."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/unsubscribe/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        raise SystemExit("the app did not start")
    with httpx.Client(base_url=base, timeout=5) as client:
        for _ in range(50 * workers):
            client.get("/unsubscribe/", headers={"Connection": "close"})


def _wrk(base: str, paths: Path, args: argparse.Namespace) -> Outcome:
    command = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections), "-d", f"{args.duration}s",
               "--timeout", "10s", "--latency", "-s", str(LUA), base, "--", str(paths),
               str(args.wrk_threads)]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    line = next(item for item in output.splitlines() if item.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    errors = {key: data[key] for key in ("connect", "read", "write", "timeout", "bad_status", "bad_body")}
    latency = f"latency p50 {data['p50_us'] / 1000:.1f} ms, p99 {data['p99_us'] / 1000:.1f} ms, "
    latency += f"max {data['max_us'] / 1000:.1f} ms"
    return Outcome("wrk", data["requests"], data["duration_us"] / 1e6, data["fresh"], data["already"],
                   errors, data["replays_sent"], latency)  # fmt: skip


def _python(base: str, paths: Path, args: argparse.Namespace) -> Outcome:
    """The fallback: client threads (httpx, keep-alive) POSTing distinct URLs until --duration is up."""
    queue = [line for line in paths.read_text().splitlines() if line]
    lock = threading.Lock()
    counts = {"fresh": 0, "already": 0, "bad_status": 0, "bad_body": 0, "transport": 0, "replays": 0}
    position = 0
    deadline = time.perf_counter() + args.duration

    def worker() -> None:
        nonlocal position
        with httpx.Client(base_url=base, timeout=10) as client:
            while time.perf_counter() < deadline:
                with lock:
                    path = queue[position % len(queue)]
                    counts["replays"] += position >= len(queue)
                    position += 1
                try:
                    response = client.post(path, content=BODY, headers={"Content-Type": _FORM})
                    key = _classify(response.status_code, response.text)
                except httpx.HTTPError:
                    key = "transport"
                with lock:
                    counts[key] += 1

    threads = [threading.Thread(target=worker) for _ in range(args.connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    done = counts["fresh"] + counts["already"] + counts["bad_status"] + counts["bad_body"]
    errors = {key: counts[key] for key in ("transport", "bad_status", "bad_body")}
    return Outcome("python", done, seconds, counts["fresh"], counts["already"], errors, counts["replays"])


_FORM = "application/x-www-form-urlencoded"


def _classify(status: int, body: str) -> str:
    if status != 200:
        return "bad_status"
    if "You are unsubscribed" in body:
        return "fresh"
    return "already" if "already unsubscribed" in body else "bad_body"


def _report(outcome: Outcome, db: dict[str, int], args: argparse.Namespace, stack: str) -> int:
    rps = outcome.requests / outcome.seconds
    error_count = sum(outcome.errors.values())
    if outcome.tool == "wrk":
        print("load generator: wrk (C), bench/web_unsubscribe.lua")
    else:
        print(
            "load generator: Python fallback (httpx threads): NOT wrk, which was not found or not chosen; "
            "the client takes CPU from the server, so this figure is a lower bound"
        )
    print(f"server: uvicorn, {args.workers} worker process(es), {stack}; SQLite WAL, synchronous=NORMAL")
    seconds = f"{outcome.seconds:.1f} s"
    print(f"subscribers: {args.subscribers:,}; connections: {args.connections}; duration: {seconds}")
    print(
        f"responses: {outcome.requests:,} = {outcome.fresh:,} fresh unsubscribes + {outcome.already:,} "
        f"'already unsubscribed' (replays sent: {outcome.replays_sent:,})"
    )
    print(f"errors: {error_count} {outcome.errors}")
    if outcome.latency:
        print(outcome.latency)
    if outcome.server_cpu and outcome.requests:
        per_request = outcome.server_cpu / outcome.requests * 1000
        print(
            f"server CPU: {outcome.server_cpu:.1f} s in all, {per_request:.2f} ms per request "
            f"(at most {1000 / per_request:,.0f} requests/s per free core; less sensitive to other load)"
        )
    for key, value in db.items():
        print(f"database afterwards: {key}: {value:,}")
    applied = db["subscriptions unsubscribed"]
    consistent = (
        outcome.fresh <= applied <= outcome.fresh + args.connections
        and db["one-click evidence rows"] == applied == db["one-click suppressions"]
        and db["unsubscribe events of our own"] == applied == db["report's unsubscribes figure"]
        and applied + db["subscriptions still active"] == args.subscribers
    )
    verdict = "OK, every fresh response is an unsubscribed subscriber" if consistent else "MISMATCH"
    print(f"database check: {verdict}")
    print(
        f"RESULT POST /unsubscribe/{{token}} one-click, SQLite: {rps:,.0f} requests/s, "
        f"{outcome.fresh / outcome.seconds:,.0f} fresh unsubscribes/s, {error_count} errors "
        f"(target >= {args.min_rps:.0f}/s with no errors)"
    )
    return 0 if consistent and not error_count and rps >= args.min_rps else 1


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=40_000, help="more than the run will use")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (serve --workers)")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--min-rps", type=float, default=500.0)
    parser.add_argument(
        "--pure-python-server", action="store_true", help="uvicorn with asyncio and h11, not uvloop/httptools"
    )
    args = parser.parse_args()
    tool = args.tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    elif tool == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    stack = ", ".join(
        f"{name} {'yes' if importlib.util.find_spec(name) and not args.pure_python_server else 'no'}"
        for name in ("uvloop", "httptools")
    )
    print(f"machine: {os.cpu_count()} CPUs, load average before {_load()}")
    with tempfile.TemporaryDirectory(prefix="bench-web-") as name:
        folder = Path(name)
        url = f"sqlite:///{folder / 'bench.db'}"
        started = time.perf_counter()
        paths = _prepare(url, args.subscribers, folder)
        took = time.perf_counter() - started
        print(f"set-up: {args.subscribers:,} subscribers and their signed links in {took:.1f} s")
        port = _port()
        server = _server(url, port, args)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base, args.workers)
            cpu_before = _cpu_seconds(server.pid)
            outcome = (_wrk if tool == "wrk" else _python)(base, paths, args)
            outcome.server_cpu = _cpu_seconds(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(20)
        print(f"load average after the run: {_load()} (other work on the machine lowers the figure)")
        return _report(outcome, _verify(url), args, stack)


if __name__ == "__main__":
    sys.exit(main())
