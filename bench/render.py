"""Benchmark the e-Alert sample: load+validate, render (HTML+text), per-recipient merge throughput.

Run: .venv/bin/python bench/render.py [--recipients N] [--repeat N]
Targets: a whole render under 15 ms; merge over 100,000 recipients/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.content.load import load_issue  # noqa: E402
from newsletter.render import merge, render_issue  # noqa: E402

SAMPLE = ROOT / "issues" / "2026-11-20-muscle-loss-culprit.yaml"


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of `fn` in milliseconds, after three warm-up calls."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    """Print the three figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    loaded = load_issue(SAMPLE)
    load_ms = median_ms(lambda: load_issue(SAMPLE), args.repeat)
    render_ms = median_ms(
        lambda: render_issue(loaded.issue, loaded.publication, slug=loaded.slug), args.repeat
    )
    rendered = render_issue(loaded.issue, loaded.publication, slug=loaded.slug)
    recipients = [
        {
            "first_name": f"Reader {i}" if i % 5 else "",
            "email": f"reader{i}@example.com",
            "unsubscribe_url": f"https://e-alert.example.org/u/{i:08x}",
            "manage_url": f"https://e-alert.example.org/m/{i:08x}",
            "view_url": "https://e-alert.example.org/v/2026-11-20",
        }
        for i in range(args.recipients)
    ]
    start = time.perf_counter()
    size = 0
    for values in recipients:
        html, text = merge(rendered, values)
        size += len(html) + len(text)
    merge_s = time.perf_counter() - start

    print(f"sample:           {SAMPLE.name} ({len(rendered.html.encode()):,} bytes HTML)")
    print(f"load+validate:    {load_ms:6.2f} ms (median of {args.repeat})")
    print(f"render html+text: {render_ms:6.2f} ms (median of {args.repeat}; target < 15 ms)")
    print(
        f"merge html+text:  {args.recipients / merge_s:,.0f} recipients/s "
        f"({args.recipients:,} recipients, {size / 1e9:.2f} GB; target > 100,000/s)"
    )


if __name__ == "__main__":
    main()
