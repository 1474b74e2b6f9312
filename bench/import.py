"""Benchmark `subscribers import`: rows/second and peak memory on SQLite and PostgreSQL.

    .venv/bin/python bench/import.py [--rows 1000000] [--small 100000]

Generates a CSV (1% bad rows, 1% repeated addresses in another case), then imports it into a
fresh SQLite file and, when NEWSLETTER_TEST_POSTGRES_URL is set, into a throw-away PostgreSQL
schema. Each import runs in its own child process, so its peak memory (resource.getrusage
ru_maxrss: the child's peak resident set size) is its own; the small size shows memory is flat.

Wall-clock rows/s depends on how busy the machine is, so each line also gives the CPU seconds the
import used: the Python process's own, and (PostgreSQL on this machine) the server processes' that
served it, read from /proc. Their sum is the work; on an idle machine the wall time is close to it.
The load average before each run is printed for the same reason.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pg_schema import drop_schema, postgres_schema

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_APPLICATION = f"bench-import-{os.getpid()}"
FIRST = ["Ann", "Bob", "Cat", "Dan", "Eve", "Fay", "Gus", "Hal", "Ivy", "Jo"]
CITIES = ["Leeds", "York", "Hull", "Bath", "Ely", "Derby"]
BAD = ["user{i}", "user{i}@", "@example{i}.com", "us er{i}@example.com", "user{i}@exa_mple.com", ""]


def address(i: int, rng: random.Random) -> str:
    """The address of row i, in a random mix of upper and lower case."""
    text = f"reader.{i}@example{i % 97}.com"
    return "".join(ch.upper() if rng.random() < 0.3 else ch for ch in text)


def generate(path: Path, rows: int, seed: int = 20261120) -> None:
    """Write `rows` data rows: every 100th row is bad and another repeats row i-50."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "city", "plan"])
        for i in range(rows):
            if i % 100 == 37:
                writer.writerow([rng.choice(BAD).format(i=i), "Bad", "", ""])
                continue
            source = i - 50 if i % 100 == 73 else i
            name = f"{rng.choice(FIRST)} {source}"
            writer.writerow([address(source, rng), name, rng.choice(CITIES), rng.choice(["free", "paid"])])


def child(url: str, csv_path: Path, fk_checked: bool) -> None:
    """Migrate `url`, import the file once, print one JSON line of figures."""
    from newsletter.audience.csvimport import newcomers
    from newsletter.audience.csvimport.importer import import_csv
    from newsletter.audience.people.lists import create_list
    from newsletter.db.migrate import upgrade
    from newsletter.db.session import make_engine, make_session_factory

    if fk_checked:  # as for a role that may not set session_replication_role
        newcomers.may_skip_triggers = lambda _cursor: False  # type: ignore[assignment]

    if url.startswith("postgresql"):
        url += f"{'&' if '?' in url else '?'}application_name={_APPLICATION}"
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        create_list(session, "bench")
        before = _server_cpu(session)
        started, client_cpu = time.perf_counter(), time.process_time()
        report = import_csv(session, csv_path, "bench", rejects_path=csv_path.with_suffix(".rejects.csv"))
        seconds, client_cpu = time.perf_counter() - started, time.process_time() - client_cpu
        after = _server_cpu(session)
        server_cpu = None if before is None or after is None else after - before
        trusted = None if before is None else not fk_checked and _fk_triggers_skipped(session)
    engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    figures = {"rows": report.rows, "added": report.added, "seconds": seconds, "peak_mb": peak_mb}
    figures |= {"client_cpu": client_cpu, "server_cpu": server_cpu, "fk_skipped": trusted}
    print(json.dumps(figures))


def _server_cpu(session: Any) -> float | None:
    """CPU seconds of every PostgreSQL backend serving this process (tagged by application_name).

    None for SQLite, or when a backend's /proc entry cannot be read (a server on another host).
    A backend opened during the import counts from its start, which is the import's own use.
    """
    if session.get_bind().dialect.name != "postgresql":
        return None
    query = "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
    pids = [int(row[0]) for row in session.connection().exec_driver_sql(query, (_APPLICATION,))]
    session.commit()
    seconds = [_cpu_seconds(pid) for pid in pids]
    return sum(s for s in seconds if s is not None) if seconds and None not in seconds else None


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a local process (from /proc), or None if it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _fk_triggers_skipped(session: Any) -> bool | None:
    """Whether the import could skip foreign-key triggers for new people (PostgreSQL), else None."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    from newsletter.db.triggers import may_skip_triggers

    with session.connection().connection.driver_connection.cursor() as cursor:
        return may_skip_triggers(cursor)


def run(label: str, url: str, csv_path: Path, *, fk_checked: bool = False) -> None:
    """Import in a child process and print its figures."""
    load = os.getloadavg()[0]
    command = [sys.executable, __file__, "--child", url, str(csv_path)] + ["--fk-checked"] * fk_checked
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    rate = figures["rows"] / figures["seconds"]
    cpu = figures["client_cpu"] + (figures["server_cpu"] or 0.0)
    server = "" if figures["server_cpu"] is None else f" + server {figures['server_cpu']:5.1f} s"
    note = {None: "", True: "  [new people: FK triggers skipped]", False: "  [new people: FK checked]"}
    print(
        f"{label:<11} {figures['rows']:>9,} rows  {figures['seconds']:6.1f} s wall  {rate:>7,.0f} rows/s"
        f"  | CPU: python {figures['client_cpu']:5.1f} s{server} = {figures['rows'] / cpu:>7,.0f} rows/CPU-s"
        f"  | peak RSS {figures['peak_mb']:4.0f} MB  | load before {load:.1f}"
        f"  ({figures['added']:,} added){note[figures['fk_skipped']]}"
    )


def main() -> None:
    """Generate, import on each backend, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="a smaller size, to show memory is flat")
    parser.add_argument(
        "--fk-checked",
        action="store_true",
        help="PostgreSQL: also import with foreign-key checks for new people, as a role may have to",
    )
    parser.add_argument("--child", nargs=2, metavar=("URL", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.fk_checked)
        return
    postgres = os.environ.get("NEWSLETTER_TEST_POSTGRES_URL")
    print(
        "wall = seconds for import_csv; rows/s = data rows / wall; CPU = seconds the import used in Python"
        " and (PostgreSQL on this host) in its server processes; peak RSS = ru_maxrss of the importing child;"
        f" load = 1-minute load average on {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        for rows in sorted({args.small, args.rows}):
            csv_path = Path(folder) / f"members-{rows}.csv"
            generate(csv_path, rows)
            print(f"{rows:,} rows, {csv_path.stat().st_size / 1e6:.0f} MB of CSV")
            run("sqlite", f"sqlite:///{folder}/bench-{rows}.db", csv_path)
            if not postgres:
                print("postgresql  skipped: NEWSLETTER_TEST_POSTGRES_URL is not set")
                continue
            for checked in (False, True) if args.fk_checked else (False,):
                schema, url = postgres_schema(postgres)
                try:
                    run("postgresql", url, csv_path, fk_checked=checked)
                finally:
                    drop_schema(postgres, schema)


if __name__ == "__main__":
    main()
