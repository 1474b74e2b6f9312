"""Where each value of a YAML file was written: data paths, positions, spans, and the parsed document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from newsletter.errors import ContentProblem

Loc = tuple[str | int, ...]
"""A path into the loaded data, e.g. ("blocks", 2, "url")."""
Position = tuple[int, int]
"""A 1-based (line, column)."""
Span = tuple[int, int]
"""Start and end character offsets of a scalar in the file's text."""


@dataclass(frozen=True)
class SourceMap:
    """Where each value and each mapping key of a file starts, addressed by data path."""

    path: str
    values: Mapping[Loc, Position]
    keys: Mapping[Loc, Position] = field(default_factory=dict)
    spans: Mapping[Loc, Span] = field(default_factory=dict)
    text: str = field(default="", repr=False)

    def locate(self, loc: Loc) -> Position:
        """Position of the value at `loc`, or of its nearest known ancestor."""
        for end in range(len(loc), -1, -1):
            found = self.values.get(loc[:end])
            if found is not None:
                return found
        return (1, 1)

    def locate_key(self, loc: Loc) -> Position:
        """Position of the mapping key that names `loc`, falling back to its value's position."""
        return self.keys.get(loc) or self.locate(loc)

    def locate_text(self, loc: Loc, needle: str, occurrence: int = 0) -> Position:
        """Where `needle` (its `occurrence`-th time, from 0) is written inside the scalar at `loc`.

        Falls back to the scalar's own position when the needle is not written as is (escaped in a
        double-quoted string, or folded across lines).
        """
        span = self.spans.get(loc)
        if span is None or not needle:
            return self.locate(loc)
        start, end = span
        index = start - 1
        for _ in range(occurrence + 1):
            index = self.text.find(needle, index + 1, end)
            if index < 0:
                return self.locate(loc)
        line = self.text.count("\n", 0, index) + 1
        return (line, index - (self.text.rfind("\n", 0, index) + 1) + 1)


@dataclass(frozen=True)
class YamlDocument:
    """A parsed file: its data (None if unusable), source map, problems and the paths of refused nodes."""

    data: dict[str, Any] | None
    source: SourceMap
    problems: list[ContentProblem]
    refused: frozenset[Loc] = frozenset()


def format_loc(loc: Loc) -> str:
    """A data path as an editor reads it: `blocks[2].url`, `signoff.name`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
