"""Benchmark `newsletter` start-up: median wall time of whole commands, each a fresh subprocess.

Run: .venv/bin/python bench/cli.py [--repeat N]
Commands: `--help`, `check` on the e-Alert sample, `lists list` and `sends` on a fresh, migrated SQLite
database.
No target: the figures are stated in README's performance section (say the load average: 2 shared cores).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEWSLETTER = Path(sys.executable).parent / "newsletter"
SAMPLE = ROOT / "issues" / "2026-11-20-muscle-loss-culprit.yaml"
COMMANDS = [
    ["--help"],
    ["check", str(SAMPLE)],
    ["lists", "list"],
    ["sends"],
]


def run(args: list[str], env: dict[str, str], cwd: Path) -> float:
    """Wall time of one `newsletter ARGS` subprocess in seconds; it must exit 0."""
    start = time.perf_counter()
    subprocess.run([str(NEWSLETTER), *args], env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    """Print one line per command: median and fastest of N runs, after one warm-up run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        workdir = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SENDGRID_"))}
        env.update(
            NEWSLETTER_DATABASE_URL=f"sqlite:///{workdir / 'bench.db'}",
            NEWSLETTER_SECRET_KEY="bench-secret-key-not-for-production",
            NEWSLETTER_OUTBOX_DIR=str(workdir / "outbox"),
        )
        run(["db", "upgrade"], env, workdir)  # a fresh database, migrated once, outside the timings
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {options.repeat} runs each")
        for args in COMMANDS:
            run(args, env, workdir)
            times = [run(args, env, workdir) for _ in range(options.repeat)]
            label = "newsletter " + " ".join(a if a != str(SAMPLE) else f"issues/{SAMPLE.name}" for a in args)
            median, fastest = statistics.median(times) * 1000, min(times) * 1000
            print(f"{label:<60} median {median:7.0f} ms  fastest {fastest:7.0f} ms")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
