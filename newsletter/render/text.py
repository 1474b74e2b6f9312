"""The plain-text part, written from the blocks through templates/emails/text/*.txt.j2 (not scraped).

Templates get `t`, a TextWriter: wrapping at 72 columns, Markdown to text, and link notes. Every
link becomes a numbered note (`[3]`) listed at the end as `[3] https://...`.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment

from newsletter.content.markdown import markdown_to_text, wrap_text
from newsletter.content.schema import Issue, Publication

WIDTH = 72
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)


class TextWriter:
    """Formatting helpers for the text templates; collects link notes in reading order."""

    def __init__(self, env: Environment, width: int = WIDTH) -> None:
        self._env = env
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
        return template.render(block=block, block_no=block_no, t=self).strip("\n")

    @property
    def has_notes(self) -> bool:
        """Whether any link was noted so far."""
        return bool(self._notes)

    def notes(self) -> str:
        """The numbered link list: `[1] https://...`, one per line."""
        return "\n".join(f"[{n}] {url}" for url, n in self._notes.items())


def render_text(issue: Issue, publication: Publication, env: Environment) -> str:
    """The plain-text part of an issue (un-merged: tokens such as `{unsubscribe_url}` remain)."""
    writer = TextWriter(env)
    text = env.get_template("text/layout.txt.j2").render(issue=issue, publication=publication, t=writer)
    text = _TRAILING_SPACE.sub("", text)
    return _BLANK_LINES.sub("\n\n", text).strip("\n") + "\n"
