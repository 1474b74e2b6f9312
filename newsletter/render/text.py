"""The plain-text part, written from the blocks through templates/emails/text/*.txt.j2 (not scraped).

Templates get `t`, a TextWriter: wrapping at 72 columns, Markdown to text, and link notes. Every
link becomes a numbered note (`[3]`) listed at the end as `[3] https://...`. Right-to-left text (an
issue or block with `dir: rtl`) has each line start with a right-to-left mark, so mail clients that
pick a paragraph's direction from its first letter lay out lists and punctuation the right way round.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment

from newsletter.content.markdown import markdown_to_text, wrap_text
from newsletter.content.schema import Issue, Publication

WIDTH = 72
RLM, LRM = "\u200f", "\u200e"
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)


class TextWriter:
    """Formatting helpers for the text templates; collects link notes in reading order."""

    def __init__(self, env: Environment, context: dict[str, Any], width: int = WIDTH) -> None:
        self._env = env
        self._context = context
        self.width = width
        self._notes: dict[str, int] = {}

    def ref(self, url: str) -> str:
        """The note marker for `url`, e.g. `[2]` (one number per distinct URL)."""
        number = self._notes.setdefault(url, len(self._notes) + 1)
        return f"[{number}]"

    def wrap(self, text: str, indent: str = "", first: str | None = None) -> str:
        """One paragraph of plain text wrapped at the text width."""
        return wrap_text(text, width=self.width, indent=indent, first=first)

    def markdown(self, source: str, indent: str = "", first: str | None = None, lead: str = "") -> str:
        """Editor Markdown as wrapped text (`lead` before its first words); links become notes."""
        return markdown_to_text(source, self.ref, width=self.width, indent=indent, first=first, lead=lead)

    def underline(self, text: str, char: str = "=") -> str:
        """A wrapped title underlined to the length of its longest line."""
        wrapped = self.wrap(text)
        return f"{wrapped}\n{char * max(len(line) for line in wrapped.splitlines())}"

    def rule(self, char: str = "-") -> str:
        """A full-width separator line."""
        return char * self.width

    def block(self, block: Any, block_no: int) -> str:
        """One block rendered through text/<type>.txt.j2, without surrounding blank lines."""
        template = self._env.get_template(f"text/{block.type}.txt.j2")
        text = template.render(self._context, block=block, block_no=block_no, t=self).strip("\n")
        direction = block.dir or self._context["issue"].dir
        if block.dir and direction != self._context["issue"].dir:
            return mark_direction(text, direction)
        return text

    @property
    def has_notes(self) -> bool:
        """Whether any link was noted so far."""
        return bool(self._notes)

    def notes(self) -> str:
        """The numbered link list: `[1] https://...`, one per line."""
        return "\n".join(f"[{n}] {url}" for url, n in self._notes.items())


def mark_direction(text: str, direction: str) -> str:
    """Every non-empty line of `text` started with a right-to-left (or left-to-right) mark."""
    mark = RLM if direction == "rtl" else LRM
    return "\n".join(mark + line if line.strip() and not line.startswith((RLM, LRM)) else line
                     for line in text.split("\n"))  # fmt: skip


def render_text(issue: Issue, publication: Publication, env: Environment, context: dict[str, Any]) -> str:
    """The plain-text part of an issue (un-merged: tokens such as `{unsubscribe_url}` remain)."""
    writer = TextWriter(env, context)
    text = env.get_template("text/layout.txt.j2").render(context, t=writer)
    text = _TRAILING_SPACE.sub("", text)
    text = _BLANK_LINES.sub("\n\n", text).strip("\n") + "\n"
    return mark_direction(text, "rtl") if issue.dir == "rtl" else text
