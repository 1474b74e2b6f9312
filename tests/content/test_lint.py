"""Lint warnings: golden lists for tests/fixtures/issues/lint/<case>.warn, plus boundaries and mojibake.

Warning files follow the same convention as the .err files: one `file:line:col: field: message` per line,
paths relative to tests/fixtures.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from newsletter.content.lint import fix_mojibake, lint_issue, lone_thai_letter
from newsletter.content.load import load_issue

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LINT = sorted((FIXTURES / "issues" / "lint").glob("*.yaml"))
WriteIssue = Callable[..., Path]


def warnings_of(path: Path, publications: Path | None = None) -> list[str]:
    return [str(w) for w in lint_issue(load_issue(path, publications))]


@pytest.mark.parametrize("case", [p.name for p in LINT])
def test_lint_fixture_warns_exactly_as_expected(in_fixtures: Path, case: str) -> None:
    path = Path("issues", "lint", case)
    expected = (in_fixtures / path).with_suffix(".warn").read_text(encoding="utf-8").splitlines()
    assert warnings_of(path, Path("publications")) == expected


@pytest.mark.parametrize("name", ["2026-11-21-full.yaml"])
def test_the_full_good_issue_lints_clean(in_fixtures: Path, name: str) -> None:
    assert warnings_of(Path("issues/good", name), Path("publications")) == []


def test_missing_preheader_is_located_at_the_top_of_the_issue(in_fixtures: Path) -> None:
    assert warnings_of(Path("issues/good/2026-11-20-minimal.yaml"), Path("publications")) == [
        "issues/good/2026-11-20-minimal.yaml:1:1: preheader: no preheader: inboxes will show"
        " the first words of the email instead (add one of up to 110 characters)"
    ]


@pytest.mark.parametrize(("length", "warned"), [(60, False), (61, True)])
def test_subject_limit_is_60_characters(
    write_issue: WriteIssue, minimal: str, length: int, warned: bool
) -> None:
    path = write_issue(minimal.replace("A short walk after dinner", "s" * length))
    expected = [f"{path}:1:10: subject: subject is {length} characters; inboxes cut it off after about 60"]
    assert warnings_of(path) == (expected if warned else [])


@pytest.mark.parametrize(("length", "warned"), [(110, False), (111, True)])
def test_preheader_limit_is_110_characters(
    write_issue: WriteIssue, minimal: str, length: int, warned: bool
) -> None:
    path = write_issue(minimal.replace("Ten minutes is enough.", "p" * length))
    expected = [f"{path}:2:12: preheader: preheader is {length} characters; inboxes show only about 110"]
    assert warnings_of(path) == (expected if warned else [])


@pytest.mark.parametrize(
    ("bad", "good"),
    [
        ("musclesโ€”it", "muscles—it"),  # UTF-8 read as Thai Windows-874, as in the reference issue
        ("itâ€™s", "it’s"),  # UTF-8 read as Windows-1252
        ("cafÃ©", "café"),  # UTF-8 read as Latin-1
        ("â€œquotedâ€\x9d", "“quoted”"),
    ],
)
def test_mojibake_is_repaired(bad: str, good: str) -> None:
    assert fix_mojibake(bad) == good


@pytest.mark.parametrize(
    "text",
    [
        "don’t “quote” me — or … anything",
        "naïve café, Mañana, Zürich, Ελληνικά, 日本語 😀",
        "ภาษาไทย อ่านได้",  # real Thai text is not mojibake
        "ﬁne &amp; ＡＢＣ",  # ligatures, entities and wide letters are not encoding damage
        "SÃO PAULO, IRMÃ",
    ],
)
def test_correct_text_is_left_alone(text: str) -> None:
    assert fix_mojibake(text) == text


def test_merge_tag_without_a_close_match_lists_the_known_tags(write_issue: WriteIssue, minimal: str) -> None:
    path = write_issue(minimal.replace("Ten minutes is enough.", "Hi {zip_code|there}, {email}"))
    assert warnings_of(path) == [
        f"{path}:2:15: preheader: unknown merge tag '{{zip_code|there}}'"
        " (known: email, first_name, last_name, name)"
    ]


@pytest.mark.parametrize("tag", ["manage_url", "view_url", "unsubscribe_url"])
def test_system_links_written_by_an_editor_warn(write_issue: WriteIssue, minimal: str, tag: str) -> None:
    path = write_issue(minimal.replace("A stroll after the evening meal helps.", f"Leave here {{{tag}}}"))
    assert warnings_of(path) == [
        f"{path}:6:22: blocks[0].body: '{{{tag}}}' is a link the layout adds"
        " for every recipient; remove it here"
    ]


def test_file_name_with_an_impossible_date_warns(write_issue: WriteIssue, minimal: str) -> None:
    path = write_issue(minimal, "2026-02-30-walk.yaml")
    assert warnings_of(path) == [
        f"{path}:3:7: date: issue date 2026-11-20 does not match the date in the file name (2026-02-30)"
    ]


def test_file_name_suggestion_is_slugified(write_issue: WriteIssue, minimal: str) -> None:
    path = write_issue(minimal, "My Issue (final).yaml")
    assert warnings_of(path) == [
        f"{path}:1:1: file name should be YYYY-MM-DD-slug.yaml, e.g. 2026-11-20-my-issue-final.yaml"
    ]


def test_the_publication_makes_its_blocking_checks_errors(in_fixtures: Path) -> None:
    findings = lint_issue(load_issue(Path("issues/lint/2026-11-20-health.yaml"), Path("publications")))
    by_severity = {(f.check, f.severity) for f in findings}
    assert by_severity == {
        ("claims", "error"),
        ("citation", "error"),
        ("merge-tags", "warning"),
        ("mojibake", "warning"),
        ("disclaimer", "warning"),
        ("study-type", "warning"),
        ("advertising", "warning"),
    }


def test_every_finding_names_its_check(in_fixtures: Path) -> None:
    for path in sorted(Path("issues/lint").glob("*.yaml")):
        findings = lint_issue(load_issue(path, Path("publications")))
        assert [f for f in findings if not f.check] == []


@pytest.mark.parametrize(
    ("token", "likely"),
    [("muscles\u0e42it\u2019s", "muscles\u2014it\u2019s"), ("word\u0e42word", "word\u2014word")],
)
def test_a_lone_thai_letter_between_latin_ones_is_a_lost_dash(token: str, likely: str) -> None:
    assert lone_thai_letter(token) == likely


@pytest.mark.parametrize("token", ["\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35", "Bangkok\u0e42", "ab\u0e01cd"])
def test_real_thai_words_and_other_letters_are_left_alone(token: str) -> None:
    assert lone_thai_letter(token) is None
