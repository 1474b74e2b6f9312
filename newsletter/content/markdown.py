"""Editor Markdown → sanitised HTML (markdown-it-py + nh3) and → wrapped plain text with link notes."""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from newsletter.content.merge_tags import EDITOR_TAGS, SYSTEM_TAGS, TAG_PATTERN
from newsletter.content.urls import CLICK, url_problem

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "h3", "h4", "hr"})
"""The only HTML tags Markdown may produce; everything else is dropped (its text kept)."""
ALLOWED_SCHEMES = frozenset(CLICK)
_STYLED = {"<h3>": '<h3 class="nl-md-h3">', "<h4>": '<h4 class="nl-md-h4">',
           "<blockquote>": '<blockquote class="nl-md-quote">', "<hr>": '<hr class="nl-md-hr">'}  # fmt: skip
"""Tags given a class after cleaning, so the email's stylesheet styles them (and only them)."""
_DISABLED_RULES = ["code", "fence", "lheading", "html_block", "html_inline", "backticks"]
"""Refused at load time (markdown_rules.py); disabled here too, so they never render as HTML."""
_KNOWN_TAGS = EDITOR_TAGS | SYSTEM_TAGS
_WIDTH = 72
_PARSES: ContextVar[dict[str, list[Token]] | None] = ContextVar("markdown_parses", default=None)


# ---------------------------------------------------------------- merge-tag shield


@dataclass(frozen=True)
class Shield:
    """Text whose merge tags were swapped for inert ASCII words, and the way back."""

    text: str
    prefix: str
    tags: tuple[str, ...]

    def restore(self, text: str, escape: Callable[[str], str] | None = None) -> str:
        """Put the original tags back into `text` (optionally escaped for the output format)."""
        if not self.tags:
            return text
        pattern = re.compile(re.escape(self.prefix) + r"(\d+)z*Q")
        tags = self.tags if escape is None else tuple(escape(t) for t in self.tags)
        return pattern.sub(lambda m: tags[int(m.group(1))], text)


def shield_merge_tags(text: str) -> Shield:
    """Replace each known `{tag|fallback}` with a word no parser, wrapper or URL encoder alters."""
    prefix = "zqmt"
    while prefix in text:
        prefix += "q"
    tags: list[str] = []

    def swap(match: re.Match[str]) -> str:
        if match.group(1) not in _KNOWN_TAGS:
            return match.group(0)
        tag = match.group(0)
        word = f"{prefix}{len(tags)}"
        tags.append(tag)
        return word + "z" * max(len(tag) - len(word) - 1, 0) + "Q"  # same width as the tag

    return Shield(TAG_PATTERN.sub(swap, text), prefix, tuple(tags))


# ---------------------------------------------------------------- Markdown → HTML


@lru_cache(maxsize=1024)
def _safe_link(url: str) -> bool:
    return url_problem(url, CLICK) is None


def _drop_image(*_args: object, **_kwargs: object) -> str:
    return ""


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(_DISABLED_RULES)
    md.validateLink = _safe_link  # type: ignore[method-assign]
    md.add_render_rule("image", _drop_image)
    return md


@contextmanager
def shared_parses() -> Iterator[None]:
    """Inside the block each distinct Markdown source is parsed once (the HTML and text parts share it)."""
    reset = _PARSES.set({})
    try:
        yield
    finally:
        _PARSES.reset(reset)


def _parse(source: str) -> list[Token]:
    memo = _PARSES.get()
    if memo is None:
        return _parser().parse(source)
    if source not in memo:
        memo[source] = _parser().parse(source)
    return memo[source]


def _href_filter(tag: str, attr: str, value: str) -> str | None:
    if tag == "a" and attr == "href":
        return value if _safe_link(value) else None
    return value


def _clean(fragment: str, tags: frozenset[str]) -> str:
    return nh3.clean(
        fragment,
        tags=set(tags),
        attributes={"a": {"href"}, "*": set()} if "a" in tags else {"*": set()},
        attribute_filter=_href_filter,
        url_schemes=set(ALLOWED_SCHEMES),
        url_relative="deny",
        link_rel=None,
        strip_comments=True,
    )


def markdown_to_html(source: str, *, links: bool = True) -> str:
    """Sanitised HTML for editor Markdown: no raw HTML, no images, links only https/mailto.

    With `links=False` links become plain text (for text that is itself wrapped in a link).
    """
    shield = shield_merge_tags(source)
    md = _parser()
    rendered = md.renderer.render(_parse(shield.text), md.options, {})
    cleaned = _clean(rendered, ALLOWED_TAGS if links else ALLOWED_TAGS - {"a"})
    if "<h" in cleaned or "<blockquote>" in cleaned:
        for plain, styled in _STYLED.items():
            cleaned = cleaned.replace(plain, styled)
    return shield.restore(cleaned.strip(), escape=html.escape)


def markdown_to_inline_html(source: str, *, links: bool = True) -> str:
    """Like markdown_to_html, without the <p> wrapper when the source is one paragraph."""
    rendered = markdown_to_html(source, links=links)
    inner = rendered[3:-4]
    if rendered.startswith("<p>") and rendered.endswith("</p>") and "<p>" not in inner:
        return inner
    return rendered


# ---------------------------------------------------------------- Markdown → text


def wrap_text(text: str, *, width: int = _WIDTH, indent: str = "", first: str | None = None) -> str:
    """Wrap one paragraph at `width` columns without breaking URLs or merge tags."""
    shield = shield_merge_tags(" ".join(text.split()))
    lead = indent if first is None else first
    wrapped = textwrap.fill(
        shield.text,
        width=width,
        initial_indent=lead,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return shield.restore(wrapped or lead.rstrip())


def _inline_text(children: Sequence[Token], note: Callable[[str], str]) -> str:
    out: list[str] = []
    pending: list[str] = []
    for child in children:
        if child.type in {"text", "text_special"}:
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "link_open":
            pending.append(str(child.attrs.get("href", "")))
        elif child.type == "link_close" and pending:
            out.append(f" {note(pending.pop())}")
    return "".join(out)


@dataclass(frozen=True)
class _Paragraph:
    text: str
    indent: str  # of continuation lines
    start: str | None  # first-line indent (list marker) or None for `indent`
    tight: bool  # inside a tight list: no blank line to the next tight paragraph
    in_list: bool
    kind: str = "p"  # "p", "h3", "h4" or "hr"
    quote: int = 0  # how many `>` quotes it sits in


def _paragraphs(tokens: Sequence[Token], note: Callable[[str], str], indent: str) -> list[_Paragraph]:
    """The paragraphs of a parsed document in order, with their list markers and indents."""
    out: list[_Paragraph] = []
    markers: list[str] = []  # one entry per open list: "*" or the next number
    item: str | None = None
    tight = False
    kind, quote = "p", 0
    for token in tokens:
        if token.type == "blockquote_open":
            quote += 1
        elif token.type == "blockquote_close":
            quote -= 1
        elif token.type == "heading_open":
            kind = token.tag
        elif token.type == "hr":
            out.append(_Paragraph("", indent, None, False, False, "hr", quote))
        elif token.type == "bullet_list_open":
            markers.append("*")
        elif token.type == "ordered_list_open":
            markers.append(str(token.attrs.get("start", 1)))
        elif token.type in {"bullet_list_close", "ordered_list_close"}:
            markers.pop()
        elif token.type == "list_item_open":
            item, markers[-1] = _list_marker(markers[-1]), _next_marker(markers[-1])
        elif token.type == "paragraph_open":
            tight = token.hidden
        elif token.type == "inline":
            depth = indent + "   " * max(len(markers) - 1, 0)
            text = _inline_text(token.children or [], note)
            start = None if item is None else depth + item
            paragraph = _Paragraph(text, depth + "   " * bool(markers), start, tight, bool(markers))
            out.append(replace(paragraph, kind=kind, quote=quote))
            item, kind = None, "p"
    return out


def markdown_to_text(
    source: str,
    note: Callable[[str], str],
    *,
    width: int = _WIDTH,
    indent: str = "",
    first: str | None = None,
    lead: str = "",
) -> str:
    """Plain text for editor Markdown: wrapped paragraphs, `*`/`1.` lists, links as `note(url)`.

    `first` replaces the indent of the very first line (a bullet or a `P.S.` label) and `lead`
    is plain text put before the first paragraph (a tip's bold lead).
    """
    shield = shield_merge_tags(source)
    paragraphs = _paragraphs(_parse(shield.text), lambda url: note(shield.restore(url)), indent)
    opening = ""
    if paragraphs and not paragraphs[0].in_list:
        paragraphs[0] = replace(paragraphs[0], text=lead + paragraphs[0].text, start=first)
    elif first is not None or lead:  # the document opens with a list: label on its own line
        opening = (wrap_text(lead, width=width, indent=indent, first=first) or first or "") + "\n"
    parts: list[str] = []
    for index, para in enumerate(paragraphs):
        if index:
            parts.append("\n" if para.tight and paragraphs[index - 1].tight else "\n\n")
        parts.append(_block_text(para, width))
    return opening + shield.restore("".join(parts))


def _block_text(para: _Paragraph, width: int) -> str:
    """One paragraph, heading or rule as text; inside `>` quotes every line starts with `> `."""
    prefix = "> " * para.quote
    inner = width - len(prefix)
    if para.kind == "hr":
        text = " " * ((inner - 5) // 2) + "* * *"
    else:
        text = _wrap_lines(para.text, inner, para.indent, para.start)
        if para.kind == "h3":
            text += "\n" + "-" * max(len(line) for line in text.splitlines())
    if not prefix:
        return text
    return "\n".join((prefix + line).rstrip() for line in text.splitlines())


def _list_marker(marker: str) -> str:
    return "*  " if marker == "*" else f"{marker}.".ljust(3)


def _next_marker(marker: str) -> str:
    return marker if marker == "*" else str(int(marker) + 1)


def _wrap_lines(text: str, width: int, indent: str, first: str | None) -> str:
    lines = text.split("\n")
    out = [wrap_text(lines[0], width=width, indent=indent, first=first)]
    out.extend(wrap_text(line, width=width, indent=indent) for line in lines[1:])
    return "\n".join(out)
