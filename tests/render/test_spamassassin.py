"""Acceptance: SpamAssassin (local tests only) scores the merged e-Alert well under 2 points.

Skipped when spamassassin is missing, except on CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsletter.content.schema import Publication
from newsletter.render import RenderedIssue
from newsletter.render.eml import build_message

from .conftest import VALUES, require_tool, tool_on_path

FORBIDDEN = ("MIME_HTML_ONLY", "MISSING_MID", "MISSING_DATE", "HTML_IMAGE_ONLY_")
_SCORE = re.compile(r"Content analysis details:\s+\((-?[\d.]+) points")
_RULE = re.compile(r"^\s*-?[\d.]+\s+([A-Z0-9_]+)\s", re.MULTILINE)


def _spamassassin(eml: Path, prefs: Path) -> tuple[float, set[str]]:
    result = subprocess.run(
        ["spamassassin", "-L", "-t", "-p", str(prefs)],
        input=eml.read_bytes(),
        capture_output=True,
        timeout=180,
        check=True,
    )
    report = result.stdout.decode("utf-8", "replace")
    match = _SCORE.search(report)
    assert match, report[-2000:]
    details = report[match.end() :]
    return float(match.group(1)), set(_RULE.findall(details))


def test_e_alert_scores_low(
    rendered_e_alert: RenderedIssue, publication: Publication, tmp_path: Path
) -> None:
    require_tool(tool_on_path("spamassassin"), "spamassassin is not installed")
    message = build_message(
        rendered_e_alert,
        publication,
        to="Ann Reader <ann@example.com>",
        values=VALUES,
        date=datetime(2026, 11, 20, 11, 0, tzinfo=UTC),
    )
    eml = tmp_path / "e-alert.eml"
    eml.write_bytes(message.as_bytes())
    prefs = tmp_path / "user_prefs"
    prefs.write_text("", encoding="utf-8")
    score, rules = _spamassassin(eml, prefs)
    assert score < 2.0, f"score {score}, rules {sorted(rules)}"
    fired = sorted(r for r in rules if r.startswith(FORBIDDEN))
    assert fired == []


def test_missing_tools_skip_locally_and_fail_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_tool(False, "gone")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_tool(False, "gone")
    require_tool(True, "present")
