"""Loading issues and publications: golden error lists for bad files, typed values for good ones.

Each tests/fixtures/issues/bad/<case>.yaml has a <case>.err with the exact problems, one per line,
as `file:line:col: field: message` with paths relative to tests/fixtures (the tests run from there).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from newsletter.content.load import load_issue, load_publication
from newsletter.content.schema import BLOCK_TYPES, ImageBlock, TextBlock
from newsletter.errors import ContentError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BAD = sorted((FIXTURES / "issues" / "bad").glob("*.yaml"))
PUBLICATIONS = Path("publications")
WriteIssue = Callable[..., Path]


def problems_of(path: Path, publications: Path | None = PUBLICATIONS) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_issue(path, publications)
    return [str(problem) for problem in caught.value.problems]


def test_every_bad_fixture_has_an_err_file() -> None:
    assert len(BAD) >= 20
    assert [p.name for p in BAD if not p.with_suffix(".err").is_file()] == []


@pytest.mark.parametrize("case", [p.stem for p in BAD])
def test_bad_issue_reports_exactly_the_expected_problems(in_fixtures: Path, case: str) -> None:
    path = Path("issues", "bad", f"{case}.yaml")
    expected = (in_fixtures / path).with_suffix(".err").read_text(encoding="utf-8").splitlines()
    assert problems_of(path) == expected


def test_minimal_issue_gets_defaults(in_fixtures: Path) -> None:
    loaded = load_issue(Path("issues/good/2026-11-20-minimal.yaml"), PUBLICATIONS)
    assert loaded.slug == "2026-11-20-minimal"
    assert loaded.issue.publication == "e-alert"
    assert loaded.issue.date == date(2026, 11, 20)
    assert loaded.issue.blocks == [
        TextBlock(type="text", body="A ten-minute stroll after the evening meal helps steady blood sugar.")
    ]
    assert (loaded.issue.preheader, loaded.issue.ps, loaded.issue.promo) == (None, [], None)
    assert loaded.publication.name == "Daily Wellness Brief"
    assert loaded.publication_source.path == "publications/e-alert.yaml"


def test_full_issue_covers_every_block_type(in_fixtures: Path) -> None:
    loaded = load_issue(Path("issues/good/2026-11-21-full.yaml"), PUBLICATIONS)
    assert {block.type for block in loaded.issue.blocks} == set(BLOCK_TYPES)
    image = loaded.issue.blocks[7]
    assert isinstance(image, ImageBlock)
    assert (image.width, image.link) == (600, "https://northwind-health.example/brief/stories/muscle")
    assert loaded.source.locate(("blocks", 7, "src")) == (59, 10)
    assert [ps.url for ps in loaded.issue.ps] == ["https://northwind-health.example/brief/vitamin-d", None]
    assert loaded.publication.sender.email == "brief@northwind-health.example"
    assert loaded.publication.sendgrid.asm_group_id == 4242


def test_publication_folder_defaults_to_a_sibling_of_the_issues_folder(
    write_issue: WriteIssue, minimal: str
) -> None:
    loaded = load_issue(write_issue(minimal))
    assert loaded.publication.organization == "Northwind Health Press"
    assert loaded.publication_source.path.endswith("issues/../publications/e-alert.yaml")


def test_missing_default_publication_points_at_the_top_of_the_issue(
    write_issue: WriteIssue, minimal: str
) -> None:
    path = write_issue("# comment\n" + minimal)
    (path.parent.parent / "publications" / "e-alert.yaml").unlink()
    [problem] = problems_of(path, None)
    assert problem.startswith(f"{path}:2:1: publication: publication file not found: ")


def test_problems_of_issue_and_publication_come_together(in_fixtures: Path, tmp_path: Path) -> None:
    issue = tmp_path / "2026-11-20-both.yaml"
    text = (in_fixtures / "issues/bad/bad_publication.yaml").read_text(encoding="utf-8")
    issue.write_text(text.replace("subject:", "subjet:"), encoding="utf-8")
    problems = problems_of(issue)
    assert [p.split(": ")[1] for p in problems] == ["subject", "subjet", "timezone", "brand.colors.primary"]


def test_load_publication_returns_the_model_and_its_source(in_fixtures: Path) -> None:
    publication, source = load_publication(Path("publications/e-alert.yaml"))
    assert publication.brand.colors.primary == "#1d4e89"
    assert publication.brand.colors.link == "#0b5c6b"  # a default
    assert source.locate(("from", "email")) == (6, 10)


def test_load_publication_raises_every_problem(in_fixtures: Path) -> None:
    with pytest.raises(ContentError) as caught:
        load_publication(Path("publications/bad-brand.yaml"))
    assert str(caught.value).splitlines() == [
        "publications/bad-brand.yaml:9:11: timezone: unknown time zone 'Mars/Olympus_Mons'"
        " (use an IANA name such as America/New_York)",
        "publications/bad-brand.yaml:12:14: brand.colors.primary: must be a #rrggbb colour, got 'teal'",
    ]


def test_unknown_publication_key_lists_the_allowed_keys_by_their_yaml_names(tmp_path: Path) -> None:
    source = (FIXTURES / "publications/e-alert.yaml").read_text(encoding="utf-8")
    path = tmp_path / "pub.yaml"
    path.write_text(source + "colour: red\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_publication(path)
    [problem] = caught.value.problems
    assert (problem.line, problem.col, problem.field) == (36, 1, "colour")
    assert problem.message == (
        "unknown key 'colour' (allowed: name, organization, from, reply_to, postal_address, disclaimer,"
        " study_disclaimer, promo_label, legal, brand, web_base_url, archive_path, timezone, language,"
        " default_list, sendgrid, checks, attributes)"
    )


HOSTILE = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "{{ 7*7 }}",
    "{% include '/etc/passwd' %}",
    "{{ config.__class__ }}",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_markup_in_editor_fields_loads_as_plain_text(
    write_issue: WriteIssue, minimal: str, text: str
) -> None:
    quoted = text.replace("'", "''")
    yaml_text = minimal.replace("A short walk after dinner", f"'{quoted}'")
    yaml_text = yaml_text.replace("A stroll after the evening meal helps.", f"'{quoted}'")
    if text.startswith("<"):  # raw HTML in Markdown is refused, naming the tag; plain fields keep it as text
        tag = text[1:].split(" ")[0].split(">")[0]
        with pytest.raises(ContentError) as caught:
            load_issue(write_issue(yaml_text))
        [problem] = caught.value.problems
        # the <img> tag is found inside the quoted value; the <script> line is written with '' escapes,
        # so the problem points at the value's start
        col = 12 if tag == "img" else 11
        assert (problem.line, problem.col, problem.field) == (6, col, "blocks[0].body")
        assert problem.message.startswith(f"raw HTML (<{tag}>) is not allowed in Markdown")
        return
    loaded = load_issue(write_issue(yaml_text))
    assert loaded.issue.subject == text
    assert isinstance(block := loaded.issue.blocks[0], TextBlock)
    assert block.body == text


def test_loading_writes_nothing(write_issue: WriteIssue, minimal: str, tmp_path: Path) -> None:
    good = write_issue(minimal)
    bad = write_issue(minimal.replace("subject", "subjekt"), "bad.yaml")
    before = sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    load_issue(good)
    with pytest.raises(ContentError):
        load_issue(bad)
    assert sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "subject: A short walk after dinner",
            "subject: 2026",
            "1:10: subject: must be text, got the number 2026 (put it in quotes)",
        ),
        (
            "subject: A short walk after dinner",
            "subject: 2026-11-20",
            "1:10: subject: must be text, got the date 2026-11-20 (put it in quotes)",
        ),
        (
            "subject: A short walk after dinner",
            "subject:",
            "1:9: subject: must be text, got nothing (an empty value)",
        ),
        (
            "date: 2026-11-20",
            "date: 2026-11-20 08:30:00",
            "3:7: date: must be a date like 2026-11-20, without a time",
        ),
        (
            "subject: A",
            "publication: 5\nsubject: A",
            "1:14: publication: must be text, got the number 5 (put it in quotes)",
        ),
    ],
)
def test_wrong_scalar_types_say_what_was_written(
    write_issue: WriteIssue, minimal: str, old: str, new: str, expected: str
) -> None:
    path = write_issue(minimal.replace(old, new))
    assert problems_of(path, None) == [f"{path}:{expected}"]
