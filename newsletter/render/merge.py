"""Per-recipient merge on finished HTML and text: split once into literals and tokens, join per recipient."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from newsletter.content.merge_tags import EDITOR_TAGS, SYSTEM_TAGS, TAG_PATTERN
from newsletter.errors import RenderError

KNOWN_TAGS = EDITOR_TAGS | SYSTEM_TAGS


@dataclass(frozen=True)
class Token:
    """One merge tag as written, e.g. `{first_name|Friend}`: its name and fallback."""

    name: str
    fallback: str
    raw: str

    def resolve(self, values: Mapping[str, str]) -> str:
        """The recipient's value, or the fallback when the value is missing or empty."""
        return values.get(self.name) or self.fallback


@dataclass(frozen=True)
class MergeTemplate:
    """A finished document split into literal parts and merge tokens (parts has one more item)."""

    parts: tuple[str, ...]
    tokens: tuple[Token, ...]
    escape_html: bool
    _system: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _pairs: tuple[tuple[Token, str], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Derived once so render() (run per recipient) does as little as possible.
        system = frozenset(t.name for t in self.tokens if t.name in SYSTEM_TAGS)
        object.__setattr__(self, "_system", system)
        object.__setattr__(self, "_pairs", tuple(zip(self.tokens, self.parts[1:], strict=True)))

    @classmethod
    def compile(cls, document: str, *, escape_html: bool) -> MergeTemplate:
        """Split a finished HTML (escape_html=True) or text document at its known merge tags."""
        parts: list[str] = []
        tokens: list[Token] = []
        last = 0
        for match in TAG_PATTERN.finditer(document):
            name, fallback = match.group(1), match.group(2) or ""
            if name not in KNOWN_TAGS:
                continue
            if escape_html:
                fallback = html.unescape(fallback)
            parts.append(document[last : match.start()])
            tokens.append(Token(name, fallback, match.group(0)))
            last = match.end()
        parts.append(document[last:])
        return cls(tuple(parts), tuple(tokens), escape_html)

    def render(self, values: Mapping[str, str]) -> str:
        """The document with every token replaced by the recipient's value (HTML-escaped in HTML)."""
        if not self._system.issubset(values):
            missing = self._system.difference(values)
            raise RenderError(f"merge values missing system links: {', '.join(sorted(missing))}")
        out = [self.parts[0]]
        append, get = out.append, values.get
        if self.escape_html:
            for token, literal in self._pairs:
                append(html.escape(get(token.name) or token.fallback))
                append(literal)
        else:
            for token, literal in self._pairs:
                append(get(token.name) or token.fallback)
                append(literal)
        return "".join(out)

    def with_markers(self, marker: Callable[[Token], str]) -> str:
        """The document with each token replaced by `marker(token)` (e.g. a SendGrid substitution key)."""
        out = [self.parts[0]]
        for token, literal in zip(self.tokens, self.parts[1:], strict=True):
            out.append(marker(token))
            out.append(literal)
        return "".join(out)

    @property
    def distinct_tokens(self) -> tuple[Token, ...]:
        """Each distinct token once, in order of first appearance."""
        return tuple(dict.fromkeys(self.tokens))
