"""Load-test the public one-click unsubscribe endpoint on loopback (SQLite).

    .venv/bin/python bench/web.py [--subscribers 2000] [--requests 6000] [--threads 16]

Creates a throw-away SQLite database, starts the app with uvicorn in a subprocess on 127.0.0.1 and
POSTs `List-Unsubscribe=One-Click` to /unsubscribe/{token} from client threads (httpx, keep-alive).
Each subscriber's first request unsubscribes (a write); later ones are replays. Prints requests/s and
errors; exits 1 below --min-rps (500) or on any error.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from newsletter.audience.lists import create_list
from newsletter.audience.subscribers import add_subscriber
from newsletter.audience.tokens import TokenSigner
from newsletter.db.migrate import upgrade
from newsletter.db.session import make_engine, make_session_factory
from newsletter.db.tables import Subscriber

SECRET = "bench-secret-key-not-for-production"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tokens(url: str, count: int) -> list[str]:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    signer = TokenSigner(SECRET)
    with sessions() as session:
        create_list(session, "bench")
        for i in range(count):
            add_subscriber(session, f"reader{i}@example.org", "bench")
        ids = [s.public_id for s in session.query(Subscriber).order_by(Subscriber.id)]
    engine.dispose()
    return [signer.unsubscribe_token(public_id) for public_id in ids]


def _wait(base: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/unsubscribe/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the app did not start")


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--min-rps", type=float, default=500.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        tokens = _tokens(url, args.subscribers)
        port = _port()
        env = {**os.environ, "NEWSLETTER_DATABASE_URL": url, "NEWSLETTER_SECRET_KEY": SECRET}
        factory = "newsletter.web.app:app_from_environment"
        command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
                   "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
        server = subprocess.Popen(command, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base)
            return _load(base, tokens, args)
        finally:
            server.terminate()
            server.wait(10)


def _load(base: str, tokens: list[str], args: argparse.Namespace) -> int:
    errors: list[str] = []
    lock = threading.Lock()
    per_thread = args.requests // args.threads
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    def worker(offset: int) -> None:
        with httpx.Client(base_url=base, timeout=10) as client:
            for i in range(per_thread):
                token = tokens[(offset + i * args.threads) % len(tokens)]
                try:
                    response = client.post(
                        f"/unsubscribe/{token}", content=b"List-Unsubscribe=One-Click", headers=headers
                    )
                    ok = response.status_code == 200 and "set-cookie" not in response.headers
                    problem = "" if ok else f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    problem = repr(exc)
                if problem:
                    with lock:
                        errors.append(problem)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.threads)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    total = per_thread * args.threads
    rps = total / elapsed
    print(f"POST /unsubscribe/{{token}} (one-click, SQLite): {total} requests, {args.threads} threads, "
          f"{elapsed:.2f} s, {rps:.0f} requests/s, {len(errors)} errors")  # fmt: skip
    if errors:
        print(f"first error: {errors[0]}")
    return 0 if not errors and rps >= args.min_rps else 1


if __name__ == "__main__":
    sys.exit(main())
