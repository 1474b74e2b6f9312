"""The sample issues render byte for byte as the reviewed golden files in tests/golden."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from newsletter.content.load import load_issue
from newsletter.render import render_issue

from .conftest import ISSUES, ROOT

GOLDEN = ROOT / "tests" / "golden"
SAMPLES = sorted(ISSUES.glob("*.yaml"))


def _diff(expected: str, actual: str, name: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), f"golden/{name}", "rendered", lineterm="", n=1
    )
    return "\n".join(list(lines)[:40])


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_sample_matches_golden_files(path: Path) -> None:
    loaded = load_issue(path)
    rendered = render_issue(loaded.issue, loaded.publication, slug=loaded.slug)
    for suffix, actual in ((".html", rendered.html), (".txt", rendered.text)):
        golden = GOLDEN / f"{loaded.slug}{suffix}"
        assert golden.is_file(), f"{golden} is missing: run scripts/golden and review the diff"
        expected = golden.read_bytes().decode("utf-8")
        assert actual == expected, (
            f"{golden.name} differs from the rendered output; if the change is intended, run "
            f"scripts/golden and review `git diff tests/golden`:\n{_diff(expected, actual, golden.name)}"
        )


def test_every_golden_file_belongs_to_a_sample() -> None:
    slugs = {p.stem for p in SAMPLES}
    assert len(slugs) >= 2
    assert {p.stem for p in GOLDEN.iterdir()} == slugs
