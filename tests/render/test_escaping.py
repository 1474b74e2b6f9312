"""Editor text is data: markup and template syntax in any field come out as inert, visible text."""

from __future__ import annotations

import lxml.html
import pytest

from newsletter.content.schema import Issue, Publication
from newsletter.render import RenderedIssue, render_issue

from .conftest import HOSTILE, hostile_issue_data, hostile_publication


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def hostile(publication: Publication) -> RenderedIssue:
    issue = Issue.model_validate(hostile_issue_data())
    return render_issue(issue, hostile_publication(publication), slug="hostile")


def test_no_script_element_or_event_handler_survives(hostile: RenderedIssue) -> None:
    tree = lxml.html.document_fromstring(hostile.html)
    assert tree.xpath("//script") == []
    handlers = [a for el in tree.iter() for a in getattr(el, "attrib", {}) if a.startswith("on")]
    assert handlers == []
    assert tree.xpath("//img[@src='x']") == []


def test_hostile_text_is_visible_in_every_html_text_field(hostile: RenderedIssue) -> None:
    tree = lxml.html.document_fromstring(hostile.html)
    body = _squash(tree.body.text_content())
    # 32 visible issue fields + the hidden preheader + 6 publication fields (name, organization,
    # address, disclaimer, legal title and body); the subject is in <title>, alt texts in attributes
    assert body.count(_squash(HOSTILE)) == 39
    assert tree.findtext(".//title") == HOSTILE
    alts = [img.get("alt") for img in tree.iter("img")]
    assert alts.count(HOSTILE) == 3  # logo, image block, promo image


def test_template_syntax_is_not_evaluated(hostile: RenderedIssue) -> None:
    assert "{{ 7*7 }}" in hostile.html
    assert '{% include "layout.mjml.j2" %}' in lxml.html.document_fromstring(hostile.html).text_content()
    assert "49" not in _squash(hostile.text)


def test_hostile_text_is_verbatim_in_the_text_part(hostile: RenderedIssue) -> None:
    text = _squash(hostile.text)
    # 32 issue fields + 2 image alt texts + 7 publication fields (the name twice); no preheader
    assert text.count(_squash(HOSTILE)) == 41
    assert "&lt;" not in hostile.text
    assert "&amp;" not in hostile.text


def test_ampersands_are_not_double_escaped(render: object) -> None:
    rendered = render(  # type: ignore[operator]
        blocks=[{"type": "headline", "text": "Salt & pepper"}, {"type": "text", "body": "A & B"}]
    )
    assert "Salt &amp; pepper" in rendered.html
    assert "&amp;amp;" not in rendered.html
    assert "Salt & pepper" in rendered.text
    assert "A & B" in rendered.text


def test_brand_values_that_could_break_out_of_css_are_refused(publication: Publication) -> None:
    from newsletter.errors import RenderError

    data = publication.model_dump(by_alias=True)
    data["brand"]["heading_font_family"] = "Arial;}</style><script>alert(1)</script>"
    bad = Publication.model_validate(data)
    issue = Issue.model_validate(hostile_issue_data("plain"))
    with pytest.raises(RenderError, match="cannot be used in CSS"):
        render_issue(issue, bad, slug="x")
