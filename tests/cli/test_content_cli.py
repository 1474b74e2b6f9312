"""`newsletter check` and `newsletter render` as an editor runs them."""

from __future__ import annotations

import email
from email.message import Message
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "issues").glob("*.yaml"))
FIXTURES = ROOT / "tests" / "fixtures"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_check_passes_the_samples() -> None:
    code, out, err = run("check", str(ROOT / "issues"), "--strict")
    assert code == 0, err
    assert f"{len(SAMPLES)} file(s) checked: 0 error(s), 0 warning(s)" in out


def test_check_reports_every_error_with_its_position_and_exits_1() -> None:
    bad = FIXTURES / "issues" / "bad" / "several_errors.yaml"
    expected = (bad.with_suffix(".err")).read_text().splitlines()
    code, _, err = run("check", str(bad), "--publications", str(FIXTURES / "publications"))
    assert code == 1
    reported = [line.removeprefix("error: ") for line in err.splitlines() if line.startswith("error: ")]
    assert len(reported) == len(expected) > 1
    for line, want in zip(reported, expected, strict=True):
        assert line.endswith(want.removeprefix("issues/bad/several_errors.yaml"))


def test_warnings_pass_unless_strict() -> None:
    issue = FIXTURES / "issues" / "lint" / "2026-11-20-warnings.yaml"
    pubs = str(FIXTURES / "publications")
    code, out, err = run("check", str(issue), "--publications", pubs)
    assert code == 0
    assert "warning: " in err
    assert "0 error(s)" in out
    code, _, err = run("check", str(issue), "--publications", pubs, "--strict")
    assert code == 1
    assert "aborted: warnings are fatal with --strict" in err


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_render_writes_html_text_and_a_complete_eml(sample: Path, tmp_path: Path) -> None:
    code, _out, err = run("render", str(sample), "--out", str(tmp_path))
    assert code == 0, err
    slug = sample.stem
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{slug}.eml", f"{slug}.html", f"{slug}.txt"]
    html = (tmp_path / f"{slug}.html").read_text()
    assert "{unsubscribe_url}" not in html
    assert "/unsubscribe/sample" in html
    message = email.message_from_bytes((tmp_path / f"{slug}.eml").read_bytes())
    for header in ("Subject", "From", "To", "Date", "Message-ID", "List-Unsubscribe"):
        assert message[header], header
    assert message.get_content_type() == "multipart/alternative"
    parts: list[Message] = message.get_payload()  # type: ignore[assignment]
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]


@pytest.mark.parametrize("case", ["several_errors", "javascript_url", "yaml_tag"])
def test_render_of_a_bad_issue_writes_nothing(case: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    bad = FIXTURES / "issues" / "bad" / f"{case}.yaml"
    code, _, err = run(
        "render", str(bad), "--out", str(out), "--publications", str(FIXTURES / "publications")
    )
    assert code == 1
    assert f"error: {bad}:" in err
    assert not out.exists()


def test_render_prints_the_warnings_check_prints(tmp_path: Path) -> None:
    issue = FIXTURES / "issues" / "lint" / "2026-11-20-warnings.yaml"
    pubs = str(FIXTURES / "publications")
    _, _, checked = run("check", str(issue), "--publications", pubs)
    code, out, rendered = run("render", str(issue), "--publications", pubs, "--out", str(tmp_path))
    assert code == 0
    warnings = [line for line in checked.splitlines() if line.startswith("warning: ")]
    assert len(warnings) > 3
    assert [line for line in rendered.splitlines() if line.startswith("warning: ")] == warnings
    assert out.splitlines() == [
        str(tmp_path / f"{issue.stem}{suffix}") for suffix in (".html", ".txt", ".eml")
    ]


def test_a_blocking_check_stops_check_and_render(tmp_path: Path) -> None:
    issue = FIXTURES / "issues" / "lint" / "2026-11-20-health.yaml"
    pubs = str(FIXTURES / "publications")
    code, out, err = run("check", str(issue), "--publications", pubs)
    assert code == 1
    assert "1 file(s) checked: 7 error(s), 6 warning(s)" in out
    assert any(line.startswith("error: ") and "flagged claim" in line for line in err.splitlines())
    code, out, err = run("render", str(issue), "--publications", pubs, "--out", str(tmp_path / "out"))
    assert code == 1
    assert "nothing written: 7 error(s)" in err
    assert not (tmp_path / "out").exists()


def test_an_oversized_issue_is_refused_before_parsing(tmp_path: Path) -> None:
    issue = tmp_path / "2026-11-20-huge.yaml"
    issue.write_text("subject: x\n" + "# padding\n" * 120_000, encoding="utf-8")
    code, _, err = run("check", str(issue))
    assert code == 1
    assert err.splitlines()[0] == (
        f"error: {issue}:1:1: file is 1.2 MB; files over 1 MB are refused"
        " (split the issue, or move long text elsewhere)"
    )


def test_schema_prints_the_committed_schema() -> None:
    code, out, _ = run("schema")
    assert code == 0
    assert out == (ROOT / "schema" / "issue.schema.json").read_text(encoding="utf-8")
