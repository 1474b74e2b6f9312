"""Per-recipient merge on the finished parts: escaped in HTML, raw in text, fallbacks, unknown tags."""

from __future__ import annotations

import pytest

from newsletter.errors import RenderError
from newsletter.render import RenderedIssue, merge

from .conftest import VALUES, Render


def test_values_are_escaped_in_html_and_raw_in_text(render: Render) -> None:
    rendered = render(blocks=[{"type": "text", "body": "Dear {first_name|Friend},"}])
    html, text = merge(rendered, {**VALUES, "first_name": "Ann <&> O'Neil"})
    assert "Dear Ann &lt;&amp;&gt; O&#x27;Neil," in html
    assert "Dear Ann <&> O'Neil," in text


@pytest.mark.parametrize(
    "values", [{**VALUES, "first_name": ""}, {k: v for k, v in VALUES.items() if k != "first_name"}]
)
def test_fallback_when_the_value_is_empty_or_missing(render: Render, values: dict[str, str]) -> None:
    rendered = render(blocks=[{"type": "headline", "text": "Hello {first_name|Dear Friend}"}])
    html, text = merge(rendered, values)
    assert "Hello Dear Friend" in html
    assert "Hello Dear Friend" in text


def test_fallback_with_an_ampersand_round_trips(render: Render) -> None:
    rendered = render(blocks=[{"type": "headline", "text": "Hi {first_name|Tom & Jo}"}])
    html, text = merge(rendered, VALUES | {"first_name": ""})
    assert "Hi Tom &amp; Jo" in html
    assert "Hi Tom & Jo" in text


def test_unknown_tags_are_left_as_written(render: Render) -> None:
    rendered = render(blocks=[{"type": "text", "body": "Your {favourite_colour} and {Name} and {first_name"}])
    html, text = merge(rendered, VALUES)
    for part in (html, text):
        assert "{favourite_colour} and {Name} and {first_name" in part


def test_system_links_are_filled_per_recipient(rendered_e_alert: RenderedIssue) -> None:
    html, text = merge(rendered_e_alert, VALUES)
    assert 'href="https://e-alert.example.org/u/tok123"' in html
    assert "Unsubscribe: https://e-alert.example.org/u/tok123" in text
    assert "{view_url}" not in html
    assert "{" not in text.replace("{{", "")


def test_missing_system_links_are_an_error(rendered_e_alert: RenderedIssue) -> None:
    with pytest.raises(RenderError, match="unsubscribe_url"):
        merge(rendered_e_alert, {"first_name": "Ann", "manage_url": "x", "view_url": "y"})


def test_markers_for_a_transport(rendered_e_alert: RenderedIssue) -> None:
    names = [t.name for t in rendered_e_alert.html_template.distinct_tokens]
    assert set(names) == {"first_name", "unsubscribe_url", "manage_url", "view_url"}
    marked = rendered_e_alert.html_template.with_markers(lambda t: f"-{t.name}-")
    assert 'href="-unsubscribe_url-"' in marked


def test_a_template_built_directly_still_requires_system_links() -> None:
    from newsletter.render import MergeTemplate, Token

    template = MergeTemplate(
        ('<a href="', '">x</a>'), (Token("unsubscribe_url", "", "{unsubscribe_url}"),), True
    )
    with pytest.raises(RenderError, match="unsubscribe_url"):
        template.render({})
    assert (
        template.render({"unsubscribe_url": "https://e.org/u?a=1&b=2"})
        == '<a href="https://e.org/u?a=1&amp;b=2">x</a>'
    )
    with pytest.raises(ValueError, match="zip"):
        MergeTemplate(("only one part",), (Token("email", "", "{email}"),), False)
