"""Shared helpers for content tests: the fixtures folder and a way to write issue files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

WriteIssue = Callable[..., Path]
"""write_issue(text, name="2026-11-20-test.yaml") -> path of the written issue."""


@pytest.fixture
def in_fixtures(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test from tests/fixtures, so file names in messages are `issues/bad/x.yaml`."""
    monkeypatch.chdir(FIXTURES)
    return FIXTURES


@pytest.fixture
def write_issue(tmp_path: Path) -> WriteIssue:
    """Write YAML text to tmp/issues/<name> next to a copy of the sample publication."""
    (tmp_path / "issues").mkdir()
    (tmp_path / "publications").mkdir()
    shutil.copy(FIXTURES / "publications" / "e-alert.yaml", tmp_path / "publications")

    def write(text: str, name: str = "2026-11-20-test.yaml") -> Path:
        path = tmp_path / "issues" / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


_MINIMAL = """\
subject: A short walk after dinner
preheader: Ten minutes is enough.
date: 2026-11-20
blocks:
  - type: text
    body: A stroll after the evening meal helps.
signoff:
  closing: Walk on,
  name: Dana Whitfield
"""


@pytest.fixture
def minimal() -> str:
    """A valid issue that lints clean; tests replace single lines of it."""
    return _MINIMAL
