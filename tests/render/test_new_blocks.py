"""The blocks the seeds needed, as a reader sees them: share links, text and call buttons, image height,
the promo's label and fine print, the study card's evidence and citation, and right-to-left text."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from jinja2 import FileSystemBytecodeCache

from newsletter.content.load import LoadedIssue, load_issue
from newsletter.content.schema import Issue
from newsletter.render import RenderedIssue, render_issue
from newsletter.render.environment import environment

from .conftest import ISSUES, ROOT

STEADY = ISSUES / "2026-12-11-steady-at-home.yaml"
TEMPLATES = ROOT / "templates" / "emails"
RLM = "\u200f"


@pytest.fixture(scope="module")
def steady() -> LoadedIssue:
    return load_issue(STEADY)


@pytest.fixture(scope="module")
def rendered(steady: LoadedIssue) -> RenderedIssue:
    return render_issue(steady.issue, steady.publication, slug=steady.slug)


def test_share_links_carry_the_archive_page_and_no_reader_link(rendered: RenderedIssue) -> None:
    page = quote("https://e-alert.example.org/archive/2026-12-11-steady-at-home", safe="")
    assert f'href="https://www.facebook.com/sharer/sharer.php?u={page}"' in rendered.html
    subject = quote("Five minutes a day to stay steady at home", safe="")
    assert f'href="https://wa.me/?text={subject}%20{page}"' in rendered.html
    assert "mailto:?subject=Five%20minutes" in rendered.html
    assert "linkedin" not in rendered.html  # only the networks the block names
    share = rendered.text.split("Know someone who would find this useful? Share it:\n", 1)[1]
    assert share.splitlines()[:3] == ["  Email: [4]", "  Facebook: [5]", "  WhatsApp: [6]"]


def test_text_and_call_buttons_say_the_number(rendered: RenderedIssue) -> None:
    assert 'href="tel:18005550134"' in rendered.html
    assert 'href="sms:4105550147?body=STEADY"' in rendered.html
    assert "Call 1-800-555-0134</div>" in rendered.html
    assert "Text STEADY to (410) 555-0147</div>" in rendered.html
    assert "\nCall 1-800-555-0134.\n" in rendered.text
    assert "\nText STEADY to (410) 555-0147.\n" in rendered.text


def test_image_height_is_honoured(rendered: RenderedIssue) -> None:
    assert 'height="302"' in rendered.html


def test_the_promo_is_labelled_and_its_fine_print_is_small(rendered: RenderedIssue) -> None:
    assert '<p class="nl-kicker nl-ad-label"' in rendered.html
    assert ">Advertisement</p>" in rendered.html
    fine = rendered.html.split('class="nl-txt nl-fine-print"', 1)[1]
    assert "font-size:13px" in fine.split(">", 1)[0] + fine.split("<div", 2)[1]
    assert "\nADVERTISEMENT\nFree poster" in rendered.text


def test_the_study_card_shows_the_evidence_level_and_the_disclaimer(rendered: RenderedIssue) -> None:
    assert ">Evidence</th>" in rendered.html
    assert "Level 3 of 6: moderate: follows people over time; shows links, not proof" in rendered.html
    assert "Evidence:    Level 3 of 6: moderate: follows people over time; shows\n" in rendered.text
    assert 'class="nl-study-note"' in rendered.html


def test_citations_link_to_doi_and_pubmed() -> None:
    fixtures = ROOT / "tests" / "fixtures"
    loaded = load_issue(fixtures / "issues/good/2026-11-21-full.yaml", fixtures / "publications")
    rendered = render_issue(loaded.issue, loaded.publication, slug=loaded.slug)
    assert '<a href="https://doi.org/10.5555/12345678"' in rendered.html
    assert ">doi:10.5555/12345678</a>" in rendered.html
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/38123456/"' in rendered.html
    assert ">PubMed 38123456</a>" in rendered.html
    assert "(ISSN 2190-5991)" in rendered.html
    assert "DOI:         10.5555/12345678 [" in rendered.text


def test_a_right_to_left_block_is_aligned_and_marked(rendered: RenderedIssue) -> None:
    block = rendered.html.split("لقرائنا", 1)[0].rsplit("<tr>", 1)[1]
    assert 'align="right"' in block
    assert '<div dir="rtl">' in block
    lines = [line for line in rendered.text.splitlines() if "لقرائنا" in line or "النصيحة" in line]
    assert len(lines) == 2
    assert all(line.startswith(RLM) for line in lines)
    assert not any(line.startswith(RLM) for line in rendered.text.splitlines() if "Staying steady" in line)


def test_a_right_to_left_issue_is_right_to_left_throughout(steady: LoadedIssue) -> None:
    issue = Issue.model_validate({**steady.issue.model_dump(by_alias=True), "dir": "rtl"})
    rendered = render_issue(issue, steady.publication, slug=steady.slug)
    assert '<html lang="en" dir="rtl"' in rendered.html
    assert "text-align:right" in rendered.html.split("Staying steady starts")[0].rsplit("<div", 1)[1]
    text_lines = [line for line in rendered.text.splitlines() if line.strip()]
    assert all(line.startswith(RLM) for line in text_lines)


def test_templates_are_compiled_once_and_then_read_from_the_cache(tmp_path: Path) -> None:
    environment.cache_clear()
    first = environment(TEMPLATES, tmp_path)
    first.get_template("layout.mjml.j2")
    assert isinstance(first.bytecode_cache, FileSystemBytecodeCache)
    assert list((tmp_path / "jinja").glob("*.cache"))
    environment.cache_clear()
    second = environment(TEMPLATES, tmp_path)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("compiled again although the bytecode is cached")

    second.compile = refuse  # type: ignore[method-assign]
    assert second.get_template("layout.mjml.j2").render is not None
    environment.cache_clear()


def test_render_knows_the_settings_defaults_for_its_folders() -> None:
    """render reads the settings only when one of these variables is set; otherwise it uses the defaults."""
    from newsletter.config import Settings, env_name
    from newsletter.render import DEFAULT_DIRS, DIR_SETTINGS

    defaults = Settings.model_fields
    assert (defaults["templates_dir"].default, defaults["cache_dir"].default) == DEFAULT_DIRS
    assert (env_name("templates_dir"), env_name("cache_dir"), "NEWSLETTER_CONFIG_FILE") == DIR_SETTINGS
