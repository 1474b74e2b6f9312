"""Benchmark `subscribers import`: rows/second and peak memory on SQLite and PostgreSQL.

    .venv/bin/python bench/import.py [--rows 1000000] [--small 100000]

Generates a CSV (1% bad rows, 1% repeated addresses in another case), then imports it into a
fresh SQLite file and, when NEWSLETTER_TEST_POSTGRES_URL is set, into a throw-away PostgreSQL
schema. Each import runs in its own child process, so its peak memory (resource.getrusage
ru_maxrss: the child's peak resident set size) is its own; the small size shows memory is flat.
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

from pg_schema import drop_schema, postgres_schema

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def child(url: str, csv_path: Path) -> None:
    """Migrate `url`, import the file once, print one JSON line of figures."""
    from newsletter.audience import create_list, import_csv
    from newsletter.db.migrate import upgrade
    from newsletter.db.session import make_engine, make_session_factory

    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        create_list(session, "bench")
        started = time.perf_counter()
        report = import_csv(session, csv_path, "bench", rejects_path=csv_path.with_suffix(".rejects.csv"))
        seconds = time.perf_counter() - started
    engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    print(json.dumps({"rows": report.rows, "added": report.added, "seconds": seconds, "peak_mb": peak_mb}))


def run(label: str, url: str, csv_path: Path) -> None:
    """Import in a child process and print its figures."""
    command = [sys.executable, __file__, "--child", url, str(csv_path)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    rate = figures["rows"] / figures["seconds"]
    print(
        f"{label:<11} {figures['rows']:>9,} rows  {figures['seconds']:7.1f} s  "
        f"{rate:>9,.0f} rows/s  peak RSS {figures['peak_mb']:6.0f} MB  ({figures['added']:,} added)"
    )


def main() -> None:
    """Generate, import on each backend, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="a smaller size, to show memory is flat")
    parser.add_argument("--child", nargs=2, metavar=("URL", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    postgres = os.environ.get("NEWSLETTER_TEST_POSTGRES_URL")
    print("peak memory is ru_maxrss of the importing child process (resource.getrusage)")
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        for rows in sorted({args.small, args.rows}):
            csv_path = Path(folder) / f"members-{rows}.csv"
            generate(csv_path, rows)
            print(f"{rows:,} rows, {csv_path.stat().st_size / 1e6:.0f} MB of CSV")
            run("sqlite", f"sqlite:///{folder}/bench-{rows}.db", csv_path)
            if postgres:
                schema, url = postgres_schema(postgres)
                try:
                    run("postgresql", url, csv_path)
                finally:
                    drop_schema(postgres, schema)
            else:
                print("postgresql  skipped: NEWSLETTER_TEST_POSTGRES_URL is not set")


if __name__ == "__main__":
    main()
