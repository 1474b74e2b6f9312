"""Benchmark `newsletter` start-up: median wall time of whole commands, each a fresh subprocess.

Run: .venv/bin/python bench/cli.py [--repeat N] [--against DIR]
Commands: `--help`, `check` and `render` of the e-Alert sample, `lists list` and `sends` on a fresh,
migrated SQLite database. With `--against DIR` (another checkout, e.g. `git worktree add /tmp/main main`)
each command is timed in both trees back to back, run by this venv's Python with PYTHONPATH set to the
tree, and the ratio (other / this) is printed.
Targets (issue 19): `check` and `render` under 0.5 s, `--help` under 0.1 s, on a warm disk.
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
SAMPLE = "issues/2026-11-20-muscle-loss-culprit.yaml"
COMMANDS = [
    ["--help"],
    ["check", SAMPLE],
    ["render", SAMPLE, "--out", "{out}"],
    ["lists", "list"],
    ["sends"],
]


def run(tree: Path, args: list[str], env: dict[str, str], workdir: Path) -> float:
    """Wall time of one `python -m newsletter ARGS` subprocess from `tree`, in seconds; it must exit 0."""
    argv = [a.replace("{out}", str(workdir / "out")) for a in args]
    argv = [str(tree / a) if a == SAMPLE else a for a in argv]
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "newsletter", *argv],
        env={**env, "PYTHONPATH": str(tree)},
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def median_ms(tree: Path, args: list[str], env: dict[str, str], workdir: Path, repeat: int) -> float:
    """Median of `repeat` runs after one warm-up, in milliseconds."""
    run(tree, args, env, workdir)
    return statistics.median(run(tree, args, env, workdir) for _ in range(repeat)) * 1000


def main() -> None:
    """Print one line per command: this tree's median (and the other tree's, with the ratio)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--against", type=Path, help="another checkout to time back to back")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        workdir = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SENDGRID_"))}
        env.update(
            NEWSLETTER_DATABASE_URL=f"sqlite:///{workdir / 'bench.db'}",
            NEWSLETTER_SECRET_KEY="bench-secret-key-not-for-production",
            NEWSLETTER_OUTBOX_DIR=str(workdir / "outbox"),
        )
        run(ROOT, ["db", "upgrade"], env, workdir)  # a fresh database, migrated once, outside the timings
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {options.repeat} runs each")
        for args in COMMANDS:
            label = "newsletter " + " ".join(a for a in args if a != "{out}" and a != "--out")
            this = median_ms(ROOT, args, env, workdir, options.repeat)
            line = f"{label:<62} {this:7.0f} ms"
            if options.against:
                other = median_ms(options.against, args, env, workdir, options.repeat)
                line += f"   against {other:7.0f} ms   ratio {other / this:5.2f}x"
            print(line)
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
