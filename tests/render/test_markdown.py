"""Markdown → sanitised HTML and → plain text with numbered link notes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from newsletter.content.markdown import (
    markdown_to_html,
    markdown_to_inline_html,
    markdown_to_text,
    shield_merge_tags,
    wrap_text,
)


def _notes() -> tuple[list[str], Callable[[str], str]]:
    urls: list[str] = []

    def note(url: str) -> str:
        urls.append(url)
        return f"[{len(urls)}]"

    return urls, note


def test_emphasis_links_and_lists_are_kept() -> None:
    html = markdown_to_html("**Bold**, _it_ and [a link](https://example.org/a?b=1&c=2).\n\n- one\n- two")
    assert "<strong>Bold</strong>" in html
    assert "<em>it</em>" in html
    assert '<a href="https://example.org/a?b=1&amp;c=2">a link</a>' in html
    assert "<ul>\n<li>one</li>" in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<a href="https://example.org" onclick="x()">raw</a>',
        "<img src=x onerror=alert(1)>",
        "<div style='color:red'>block html</div>",
        "<!-- comment -->",
    ],
)
def test_raw_html_is_shown_as_text_never_passed_through(source: str) -> None:
    html = markdown_to_html(source)
    assert "<" not in html.replace("<p>", "").replace("</p>", "")


@pytest.mark.parametrize(
    "link",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](http://example.org)",
        "[x](/relative/path)",
        "[x](vbscript:msgbox)",
        "<javascript:alert(1)>",
    ],
)
def test_only_https_and_mailto_links_become_links(link: str) -> None:
    assert "<a" not in markdown_to_html(link)


def test_mailto_links_are_allowed() -> None:
    assert '<a href="mailto:editors@example.org">write</a>' in markdown_to_html(
        "[write](mailto:editors@example.org)"
    )


def test_images_in_markdown_are_dropped() -> None:
    html = markdown_to_html("Before ![a cat](https://example.org/cat.png) after")
    assert "<img" not in html
    assert "cat.png" not in html
    urls, note = _notes()
    text = markdown_to_text("Before ![a cat](https://example.org/cat.png) after", note)
    assert "cat.png" not in text
    assert urls == []


def test_code_and_other_heading_levels_never_render_as_html() -> None:
    """They are refused at load time (markdown_rules); should one get here, no tag reaches the email."""
    html = markdown_to_html("# Big\n\n    indented\n\n`code`\n\n<b>raw</b>")
    for tag in ("<h1", "<pre", "<code", "<b>"):
        assert tag not in html


def test_quotes_level_3_and_4_headings_and_rules_render_with_the_email_classes() -> None:
    html = markdown_to_html("### Three\n\n#### Four\n\n> quoted\n\n---")
    assert html == (
        '<h3 class="nl-md-h3">Three</h3>\n<h4 class="nl-md-h4">Four</h4>\n'
        '<blockquote class="nl-md-quote">\n<p>quoted</p>\n</blockquote>\n<hr class="nl-md-hr">'
    )


def test_quotes_headings_and_rules_in_text() -> None:
    text = markdown_to_text(
        "### Three\n\n> quoted [call](tel:+18005550134)\n\n---\n\n#### Four", lambda u: f"<{u}>"
    )
    assert text.splitlines() == [
        "Three", "-----", "", "> quoted call <tel:+18005550134>", "", " " * 33 + "* * *", "", "Four",
    ]  # fmt: skip


def test_inline_html_drops_the_single_paragraph_wrapper() -> None:
    assert markdown_to_inline_html("Just *one*") == "Just <em>one</em>"
    assert markdown_to_inline_html("One\n\nTwo").startswith("<p>")
    assert markdown_to_inline_html("[x](https://example.org)", links=False) == "x"


def test_merge_tags_survive_markdown_including_link_urls() -> None:
    html = markdown_to_html(
        "Hi {first_name|Dear Friend}, [see](https://example.org/?n={first_name|A B}&e={email})"
    )
    assert "Hi {first_name|Dear Friend}," in html
    assert 'href="https://example.org/?n={first_name|A B}&amp;e={email}"' in html


def test_a_fallback_with_markup_is_escaped_in_html() -> None:
    assert markdown_to_html("{first_name|<b>x</b>}") == "<p>{first_name|&lt;b&gt;x&lt;/b&gt;}</p>"


def test_unknown_braces_are_left_alone() -> None:
    assert markdown_to_html("{favourite_colour} {{ 7*7 }}") == "<p>{favourite_colour} {{ 7*7 }}</p>"


def test_text_links_become_numbered_notes() -> None:
    urls, note = _notes()
    text = markdown_to_text("Read [this](https://a.example/1) and [that](mailto:x@example.org).", note)
    assert text == "Read this [1] and that [2]."
    assert urls == ["https://a.example/1", "mailto:x@example.org"]


def test_text_wraps_at_72_columns_without_splitting_merge_tags() -> None:
    _, note = _notes()
    source = ("word " * 12) + "{first_name|Dear Old Friend} " + ("word " * 20)
    text = markdown_to_text(source, note)
    assert "{first_name|Dear Old Friend}" in text
    assert max(len(line) for line in text.splitlines()) <= 72


def test_text_lists_bullets_numbers_and_nesting() -> None:
    _, note = _notes()
    text = markdown_to_text("- one\n- two\n  1. first\n  2. second\n\nAfter.", note)
    assert text == "*  one\n*  two\n   1. first\n   2. second\n\nAfter."


def test_text_first_line_label_and_lead() -> None:
    _, note = _notes()
    assert markdown_to_text("Hello.", note, first="P.S. ") == "P.S. Hello."
    bullet = markdown_to_text("Do it.", note, indent="   ", first="*  ", lead="Move: ")
    assert bullet == "*  Move: Do it."
    assert markdown_to_text("- a", note, first="P.S. ") == "P.S.\n*  a"


def test_wrap_text_keeps_long_urls_whole() -> None:
    url = "https://example.org/" + "a" * 90
    assert wrap_text(f"see {url} now") == f"see\n{url}\nnow"


def test_shield_round_trip_and_collision_safe_prefix() -> None:
    shield = shield_merge_tags("zqmt {email} {unknown} {first_name|A}")
    assert "{email}" not in shield.text
    assert "{unknown}" in shield.text
    assert shield.prefix == "zqmtq"  # the text already holds "zqmt"
    assert shield.restore(shield.text) == "zqmt {email} {unknown} {first_name|A}"


def test_shared_parses_change_nothing_but_speed() -> None:
    from newsletter.content.markdown import shared_parses

    source = "A [link](https://example.org) and **bold**.\n\n- one\n- two"
    plain_html, plain_text = markdown_to_html(source), markdown_to_text(source, lambda url: "[1]")
    with shared_parses():
        assert markdown_to_html(source) == plain_html
        assert markdown_to_text(source, lambda url: "[1]") == plain_text
        assert markdown_to_html(source) == plain_html
