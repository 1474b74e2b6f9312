"""The rendered HTML: structure, head, accessibility, premailer traps, merge tokens, stability."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import lxml.html
import pytest

from newsletter.content.load import LoadedIssue
from newsletter.content.schema import Publication
from newsletter.errors import RenderError
from newsletter.render import RenderedIssue, render_issue
from newsletter.render.environment import long_date, mix
from newsletter.render.mjml import mjml_to_html

from .conftest import Render


def _tree(rendered: RenderedIssue) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(rendered.html)


def test_doctype_lang_and_colour_scheme_meta(rendered_e_alert: RenderedIssue) -> None:
    assert rendered_e_alert.html.startswith('<!DOCTYPE html>\n<html lang="en"')
    tree = _tree(rendered_e_alert)
    metas = {m.get("name"): m.get("content") for m in tree.iter("meta") if m.get("name")}
    assert metas["color-scheme"] == "light dark"
    assert metas["supported-color-schemes"] == "light dark"
    assert "prefers-color-scheme: dark" in rendered_e_alert.html


def test_lang_comes_from_the_publication(render: Render, publication: Publication) -> None:
    french = publication.model_copy(update={"language": "fr"})
    assert render(french).html.split("\n", 2)[1].startswith('<html lang="fr"')


def test_responsive_rules_keep_their_important(rendered_e_alert: RenderedIssue) -> None:
    """premailer must not strip !important from MJML's media queries (columns go full width)."""
    assert ".mj-column-per-100 { width:100% !important; max-width:100%; }" in rendered_e_alert.html
    assert "td.nl-txt, td.nl-img, td.nl-divider { padding-left: 20px !important;" in (rendered_e_alert.html)
    assert "data-premailer" not in rendered_e_alert.html


def test_our_stylesheet_is_inlined(rendered_e_alert: RenderedIssue) -> None:
    h1 = _tree(rendered_e_alert).find_class("nl-h1")[0]
    assert "font-size:32px" in h1.get("style").replace(" ", "")


def test_preheader_is_hidden_and_padded(rendered_e_alert: RenderedIssue) -> None:
    div = _tree(rendered_e_alert).find_class("nl-preheader")[0]
    assert "display:none" in div.get("style")
    text = div.text_content()
    assert text.startswith(rendered_e_alert.preheader)
    assert text.count("\u034f\u200c\u00a0") >= 80  # padding keeps body text out of the preview


def test_every_image_has_alt_and_decorative_ones_are_empty(render: Render) -> None:
    rendered = render(
        blocks=[
            {"type": "image", "src": "https://example.org/a.png", "alt": "A walker"},
            {"type": "image", "src": "https://example.org/b.png", "alt": "", "decorative": True},
            {"type": "image", "src": "https://example.org/c.png", "alt": "Ignored", "decorative": True},
        ]
    )
    alts = {img.get("src").rsplit("/", 1)[1]: img.get("alt") for img in _tree(rendered).iter("img")}
    assert alts == {
        "e-alert-logo.png": "Everyday Health e-Alert",
        "a.png": "A walker",
        "b.png": "",
        "c.png": "",
    }
    assert "[Image: A walker]" in rendered.text
    assert "Ignored" not in rendered.text


def test_body_text_is_at_least_16px(rendered_e_alert: RenderedIssue) -> None:
    """Story paragraphs, tips and FAQ answers use 18px; nothing a reader needs is under 14px."""
    tree = _tree(rendered_e_alert)
    prose = [td.find("div").get("style") for td in tree.find_class("nl-prose")]
    assert prose
    assert all("font-size:18px" in style.replace(" ", "") for style in prose)
    sizes = [int(s) for s in re.findall(r"font-size:\s*(\d+)px", rendered_e_alert.html)]
    assert min(s for s in sizes if s > 1) >= 13  # 1px: the hidden preheader; 13px: kicker labels


def test_button_text_contrast_meets_wcag_aa(publication: Publication) -> None:
    def luminance(color: str) -> float:
        channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    for background in (publication.brand.colors.primary, publication.brand.colors.accent):
        ratio = (1.05) / (luminance(background) + 0.05)  # white text
        assert ratio >= 4.5, background


def test_ps_lines_are_labelled_ps_pps_ppps(render: Render) -> None:
    rendered = render(
        ps=[{"text": "One."}, {"text": "Two.", "url": "https://example.org/2"}, {"text": "Three."}]
    )
    labels = [s.text for s in _tree(rendered).iter("strong") if s.text and s.text.endswith("S.")]
    assert labels == ["P.S.", "P.P.S.", "P.P.P.S."]
    assert "P.S. One.\n\nP.P.S. Two. [1]\n\nP.P.P.S. Three." in rendered.text


def test_faq_table_of_contents_links_to_each_question(rendered_digest: RenderedIssue) -> None:
    tree = _tree(rendered_digest)
    toc = [a.get("href") for a in tree.iter("a") if (a.get("href") or "").startswith("#")]
    ids = [el.get("id") for el in tree.iter("h3") if el.get("id")]
    assert len(toc) == 5
    assert toc == [f"#{i}" for i in ids]
    assert len(set(ids)) == len(ids)
    questions = [el.text_content() for el in tree.iter("h3") if el.get("id")]
    assert [a.text_content() for a in tree.iter("a") if (a.get("href") or "").startswith("#")] == questions


def test_faq_without_toc_has_no_contents(render: Render) -> None:
    rendered = render(blocks=[{"type": "faq", "items": [{"q": "Why?", "a": "Because."}]}])
    assert "Table of contents" not in rendered.html
    assert "Table of contents" not in rendered.text
    assert "Q: Why?\nA: Because." in rendered.text


def test_footer_has_legal_address_and_recipient_links(rendered_e_alert: RenderedIssue) -> None:
    html, text = rendered_e_alert.html, rendered_e_alert.text
    for token in ("{unsubscribe_url}", "{manage_url}", "{view_url}"):
        assert f'href="{token}"' in html
        assert token in text
    assert "PO Box 2718" in html
    assert "PO Box 2718" in text
    assert "Text message terms" in html
    assert "Disputes and arbitration" in text


def test_merge_tokens_in_urls_survive_mjml_and_premailer(render: Render) -> None:
    url = "https://example.org/ask?n={first_name|Dear Friend}&e={email}"
    rendered = render(blocks=[{"type": "button", "text": "Ask", "url": url}])
    assert 'href="https://example.org/ask?n={first_name|Dear Friend}&amp;e={email}"' in rendered.html
    tokens = [t.raw for t in rendered.html_template.tokens]
    assert "{first_name|Dear Friend}" in tokens


def test_disclaimer_is_in_the_header(rendered_e_alert: RenderedIssue) -> None:
    html = rendered_e_alert.html
    assert html.index("Nothing here is personal medical advice") < html.index("<h1")
    assert "Friday, November 20, 2026" in html


def test_text_part_lists_every_link_as_a_numbered_note(rendered_e_alert: RenderedIssue) -> None:
    text = rendered_e_alert.text
    notes = re.findall(r"^\[(\d+)\] (\S+)$", text.split("Links:\n", 1)[1], re.MULTILINE)
    assert [int(n) for n, _ in notes] == list(range(1, len(notes) + 1))
    urls = {u for _, u in notes}
    hrefs = {a.get("href") for a in _tree(rendered_e_alert).iter("a")}
    content_links = {h for h in hrefs if h.startswith("https://") and h != "https://e-alert.example.org"}
    assert content_links == urls
    assert "\nText GUIDE to (410) 555-0147.\n" in text  # the promo's sms button, said in words
    assert "sms:4105550147?body=GUIDE" in hrefs
    assert max(len(line) for line in text.split("Links:")[0].splitlines()) <= 72


def test_rendered_issue_is_frozen_and_hashed(rendered_e_alert: RenderedIssue, e_alert: LoadedIssue) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        rendered_e_alert.html = ""  # type: ignore[misc]
    again = render_issue(e_alert.issue, e_alert.publication, slug=e_alert.slug)
    assert again == rendered_e_alert
    assert re.fullmatch(r"[0-9a-f]{64}", again.sha256)
    assert rendered_e_alert.slug == "2026-11-20-muscle-loss-culprit"
    assert rendered_e_alert.subject == e_alert.issue.subject


def test_templates_dir_can_be_chosen(e_alert: LoadedIssue) -> None:
    from newsletter.config import PROJECT_ROOT

    rendered = render_issue(
        e_alert.issue, e_alert.publication, slug="x", templates_dir=PROJECT_ROOT / "templates" / "emails"
    )
    assert rendered.html


def test_invalid_mjml_is_a_render_error() -> None:
    with pytest.raises(RenderError, match="MJML"):
        mjml_to_html("<mjml><mj-body><mj-section>")


def test_filters() -> None:
    from datetime import date

    assert long_date(date(2026, 12, 4)) == "Friday, December 4, 2026"
    assert mix("#000000", "#ffffff", 0.5) == "#808080"
    with pytest.raises(RenderError):
        mix("red", "#ffffff", 0.5)


def test_a_bare_publication_renders(render: Render, publication: Publication) -> None:
    data = publication.model_dump(by_alias=True)
    data.update(disclaimer=None, legal=[], reply_to=None, default_list=None)
    data["brand"]["logo"] = None
    bare = Publication.model_validate(data)
    rendered = render(bare)
    assert "<strong>Everyday Health e-Alert</strong>" in rendered.html  # the name stands in for the logo
    assert "<img" not in rendered.html
    assert "medical advice" not in rendered.text
    assert rendered.preheader == ""
    from newsletter.render.eml import build_message

    from .conftest import VALUES

    message = build_message(rendered, bare, to="a@example.com", values=VALUES)
    assert message["Reply-To"] is None
    assert message["List-Id"] is None
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_template_errors_become_render_errors(e_alert: LoadedIssue, tmp_path: Path) -> None:
    (tmp_path / "layout.mjml.j2").write_text("{{ no_such_variable }}", encoding="utf-8")
    with pytest.raises(RenderError, match="no_such_variable"):
        render_issue(e_alert.issue, e_alert.publication, slug="x", templates_dir=tmp_path)
