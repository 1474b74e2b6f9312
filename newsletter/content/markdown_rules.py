"""What editor Markdown may hold: finds unsupported constructs and refused links, naming each one.

Accepted: paragraphs, **bold**, _italic_, links (https, mailto, tel, sms), bullet and numbered lists,
`>` quotes, `###`/`####` headings and `---` rules. Everything else an editor might expect from Markdown
(tables, code, images, other heading levels, raw HTML) is reported with the construct named, instead of
reaching readers as literal characters or being dropped without a word. Positions are given as a piece
of the source text (`needle`) and which occurrence of it, so the loader can point into the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

from newsletter.content.markdown import Shield, shield_merge_tags
from newsletter.content.urls import CLICK, url_problem

_TAG = re.compile(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9-]*)")
HEADING_LEVELS = ("h3", "h4")
"""The Markdown heading levels editors may use inside text (`###` and `####`)."""


@dataclass(frozen=True)
class MarkdownFinding:
    """One refused construct or link: the check it belongs to, the message, and where it is written."""

    check: str  # "links" or "markdown"
    message: str
    needle: str
    occurrence: int


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    """A parser that recognises everything (HTML, tables, any link) so each can be named."""
    md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})
    md.enable(["table"])
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]  # keep URLs as written
    return md


class _Finder:
    """Locates needles in the source: the next occurrence from a block's first line on."""

    def __init__(self, original: str, shield: Shield) -> None:
        self.original = original
        self.source = shield.text  # merge tags shielded, same width, so offsets are shared
        self.restore = shield.restore
        self.line_starts = [0, *(m.end() for m in re.finditer("\n", original))]
        self.after: dict[str, int] = {}

    def finding(self, check: str, message: str, needle: str, line: int) -> MarkdownFinding:
        """A finding at the next `needle` from `line` on (the needle dropped if it is not written)."""
        start = max(self.line_starts[min(line, len(self.line_starts) - 1)], self.after.get(needle, 0))
        index = self.source.find(needle, start) if needle else -1
        if index < 0 and needle:
            index = self.source.find(needle)  # e.g. a link reference defined above its use
        if index < 0:
            return MarkdownFinding(check, self.restore(message), "", 0)
        self.after[needle] = index + 1
        written = self.restore(needle)
        return MarkdownFinding(check, self.restore(message), written, self.original.count(written, 0, index))

    def line_text(self, line: int) -> str:
        lines = self.source.splitlines()
        return lines[line].strip()[:40] if line < len(lines) else ""


def _tag_names(html: str) -> str:
    names = list(dict.fromkeys(m.group(1).lower() for m in _TAG.finditer(html)))
    return ", ".join(f"<{n}>" for n in names)


def _html_message(html: str) -> str:
    if html.lstrip().startswith("<!--"):
        return "HTML comments are not allowed in Markdown; delete the comment"
    names = _tag_names(html)
    if not names:
        return "raw HTML is not allowed in Markdown"
    return f"raw HTML ({names}) is not allowed in Markdown; use Markdown (**bold**, _italic_, [text](url))"


_BLOCK_MESSAGES = {
    "fence": "code blocks (``` or ~~~) are not supported in email text",
    "code_block": (
        "a line indented by 4 or more spaces makes a code block, which is not supported in email text; "
        "remove the indent"
    ),
    "table_open": "tables are not supported in email text (they break on phones); use a list",
}


def _heading_message(token: Token) -> str | None:
    level = int(token.tag[1])
    if token.markup in ("=", "-"):
        return (
            f"a line of {token.markup * 3} right under text makes it a level-{level} heading, which is not "
            "supported; leave a blank line before a --- rule, or use ### for a heading"
        )
    if token.tag in HEADING_LEVELS:
        return None
    hint = "use a heading block" if level <= 2 else "use ### or ####"
    return f"{'#' * level} headings (level {level}) are not supported in text; {hint}"


def _inline(children: Sequence[Token], line: int, finder: _Finder) -> Iterator[MarkdownFinding]:
    for child in children:
        if child.type == "link_open":
            href = str(child.attrs.get("href", ""))
            problem = url_problem(href, CLICK)
            if problem:
                message = (
                    f"link {problem}" if problem.startswith("must") else problem.replace("URLs", "links")
                )
                yield finder.finding("links", message, href, line)
        elif child.type == "image":
            message = "images are not supported in Markdown; use an image block"
            yield finder.finding("markdown", message, "![", line)
        elif child.type == "code_inline":
            message = f"inline code ({child.markup}...{child.markup}) is not supported in email text"
            yield finder.finding("markdown", message, child.markup + child.content[:20], line)
        elif child.type == "html_inline":
            yield finder.finding("markdown", _html_message(child.content), child.content, line)


def check_markdown(source: str) -> list[MarkdownFinding]:
    """Every unsupported construct and refused link of one Markdown text, in reading order."""
    shield = shield_merge_tags(source)  # as the renderer sees it: tags keep their width
    finder = _Finder(source, shield)
    findings: list[MarkdownFinding] = []
    for token in _parser().parse(shield.text):
        line = token.map[0] if token.map else 0
        if token.type == "inline":
            findings += _inline(token.children or [], line, finder)
        elif token.type in _BLOCK_MESSAGES:
            needle = finder.line_text(line)
            findings.append(finder.finding("markdown", _BLOCK_MESSAGES[token.type], needle, line))
        elif token.type == "html_block":
            needle = finder.line_text(line)
            findings.append(finder.finding("markdown", _html_message(token.content), needle, line))
        elif token.type == "heading_open" and (message := _heading_message(token)):
            findings.append(finder.finding("markdown", message, finder.line_text(line), line))
    return findings
