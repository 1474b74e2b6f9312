"""The rendered-output lint: Gmail clips HTML over 102 KB."""

from __future__ import annotations

import dataclasses

from newsletter.errors import ContentProblem
from newsletter.render import RenderedIssue
from newsletter.render.lint import GMAIL_CLIP_BYTES, lint_rendered


def test_samples_are_well_under_the_clipping_limit(
    rendered_e_alert: RenderedIssue, rendered_digest: RenderedIssue
) -> None:
    assert lint_rendered(rendered_e_alert, "issues/x.yaml") == []
    assert lint_rendered(rendered_digest, "issues/y.yaml") == []
    assert len(rendered_e_alert.html.encode()) < GMAIL_CLIP_BYTES // 2


def test_html_over_102_kb_is_a_warning_at_the_top_of_the_issue_file(rendered_e_alert: RenderedIssue) -> None:
    padding = "é" * ((GMAIL_CLIP_BYTES - len(rendered_e_alert.html.encode())) // 2 + 1)  # 2 bytes each
    big = dataclasses.replace(rendered_e_alert, html=rendered_e_alert.html + padding)
    assert len(big.html.encode()) > GMAIL_CLIP_BYTES
    [problem] = lint_rendered(big, "issues/2026-11-20-big.yaml")
    assert isinstance(problem, ContentProblem)
    assert (problem.path, problem.line, problem.col, problem.field) == (
        "issues/2026-11-20-big.yaml",
        1,
        1,
        "html",
    )
    assert "102 KB" in problem.message


def test_exactly_at_the_limit_is_fine(rendered_e_alert: RenderedIssue) -> None:
    exact = dataclasses.replace(rendered_e_alert, html="a" * GMAIL_CLIP_BYTES)
    assert lint_rendered(exact, "x.yaml") == []
