"""Safe YAML reading: plain values plus a line/column source map, refusing tags, aliases and duplicates.

Files are parsed by libyaml's C parser when PyYAML was built with it (the composer, refusals and
source map stay ours, in Python); a file libyaml rejects is parsed again by the pure-Python parser,
so syntax errors read the same either way; so is any text with a tab (libyaml accepts tabs in places
PyYAML refuses them). Files over a size limit are refused before parsing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from yaml.events import StreamEndEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from newsletter.content.source_map import Loc, Position, SourceMap, Span, YamlDocument, format_loc
from newsletter.content.yaml_parsers import FAST, PureLoader, Refusing, libyaml_available
from newsletter.errors import ContentError, ContentProblem

__all__ = [
    "MAX_FILE_BYTES", "Loc", "Position", "SourceMap", "Span", "YamlDocument", "format_loc",
    "libyaml_available", "load_yaml", "parse_yaml", "read_yaml",
]  # fmt: skip

MAX_FILE_BYTES = 1_000_000
"""Issue and publication files larger than this are refused before parsing (1 MB)."""

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_YAML_TAG_PREFIX = "tag:yaml.org,2002:"


def _pos(node: Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Walker:
    """Turns a composed node tree into plain values, recording positions and problems."""

    def __init__(self, path: str, loader: Refusing) -> None:
        self.path = path
        self.loader = loader
        self.values: dict[Loc, Position] = {}
        self.keys: dict[Loc, Position] = {}
        self.problems: list[ContentProblem] = []
        self.refused: set[Loc] = set()
        self.spans: dict[Loc, Span] = {}

    def problem(self, pos: Position, loc: Loc, message: str) -> None:
        self.problems.append(ContentProblem(self.path, pos[0], pos[1], format_loc(loc), message))

    def walk(self, node: Node, loc: Loc) -> Any:
        self.values[loc] = _pos(node)
        if isinstance(node, MappingNode):
            value: Any = self._mapping(node, loc)
        elif isinstance(node, SequenceNode):
            value = [self.walk(item, (*loc, i)) for i, item in enumerate(node.value)]
        else:
            self.spans[loc] = (node.start_mark.index, node.end_mark.index)
            value = None if node in self.loader.refusals else self._scalar(node)
        for message in self.loader.refusals.get(node, []):
            self.problem(_pos(node), loc, message)
            self.refused.add(loc)
        return None if node in self.loader.refusals else value

    def _mapping(self, node: MappingNode, loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, loc)
            if key is None:
                continue
            key_loc = (*loc, key)
            if key in first_line:
                message = f"duplicate key {key!r} (first defined on line {first_line[key]})"
                self.problem(_pos(key_node), key_loc, message)
                continue
            first_line[key] = _pos(key_node)[0]
            self.keys[key_loc] = _pos(key_node)
            result[key] = self.walk(value_node, key_loc)
        return result

    def _key(self, node: Node, loc: Loc) -> str | None:
        for message in self.loader.refusals.get(node, []):
            self.problem(_pos(node), loc, message)
        if node in self.loader.refusals:
            return None
        if isinstance(node, ScalarNode) and node.tag == _STR_TAG:
            return str(node.value)
        if node.tag == _MERGE_TAG:
            self.problem(_pos(node), loc, "YAML merge keys (<<) are not allowed; write the keys out")
            return None
        message = "keys must be text, got a list or mapping"
        if isinstance(node, ScalarNode):
            message = f"keys must be text, got {node.value!r} (put the key in quotes)"
        self.problem(_pos(node), loc, message)
        return None

    def _scalar(self, node: Node) -> Any:
        try:
            return self.loader.construct_object(node)
        except (ValueError, yaml.YAMLError):  # e.g. 2026-13-45 looks like a date but is not one
            return str(node.value)


def _line_col(text: str, index: int) -> Position:
    line = text.count("\n", 0, index) + 1
    return (line, index - (text.rfind("\n", 0, index) + 1) + 1)


def _decode(path: str, raw: bytes) -> str | ContentProblem:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return ContentProblem(path, line, col, "", "file is not valid UTF-8 text (save it as UTF-8)")


def _compose(loader: Refusing, path: str) -> tuple[Node | None, list[ContentProblem]]:
    loader.next_event(consume=True)  # stream start
    node = None if loader.check_event(StreamEndEvent) else loader.compose_document()
    if loader.check_event(StreamEndEvent):
        return node, []
    line, col = _pos_of_mark(loader.next_event().start_mark)
    message = "only one YAML document is allowed per file (remove the second '---')"
    return node, [ContentProblem(path, line, col, "", message)]


def _pos_of_mark(mark: Any) -> Position:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _syntax_problem(path: str, text: str, exc: yaml.YAMLError) -> ContentProblem:
    if isinstance(exc, yaml.MarkedYAMLError):
        line, col = _pos_of_mark(exc.problem_mark)
        detail = exc.problem or "could not be parsed"
        if exc.context:
            detail += f" ({exc.context} on line {_pos_of_mark(exc.context_mark)[0]})"
        return ContentProblem(path, line, col, "", f"invalid YAML: {detail}")
    if isinstance(exc, yaml.reader.ReaderError):
        line, col = _line_col(text, exc.position)
        message = f"invalid YAML: character U+{exc.character:04X} is not allowed"
        return ContentProblem(path, line, col, "", message)
    return ContentProblem(path, 1, 1, "", f"invalid YAML: {exc}")  # pragma: no cover


class _Rejected(Exception):
    """libyaml refused the text (the pure parser then reports why, in its words)."""


def _parse_with(loader_class: type[Refusing], path: str, text: str) -> YamlDocument:
    empty = SourceMap(path, {(): (1, 1)})
    try:
        loader = loader_class(text)  # type: ignore[call-arg]
        try:
            root, problems = _compose(loader, path)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        if loader_class is not PureLoader:
            raise _Rejected from exc
        return YamlDocument(None, empty, [_syntax_problem(path, text, exc)])
    if not isinstance(root, MappingNode):
        got = "nothing (the file is empty)" if root is None else _kind_of_node(root)
        line, col = _pos(root) if root is not None else (1, 1)
        problem = ContentProblem(path, line, col, "", f"must be a mapping of key: value lines, got {got}")
        return YamlDocument(None, empty, [*problems, problem])
    walker = _Walker(path, loader)
    data = walker.walk(root, ())
    source = SourceMap(path, walker.values, walker.keys, walker.spans, text)
    return YamlDocument(data, source, problems + walker.problems, frozenset(walker.refused))


def _parse(path: str, text: str, *, pure: bool) -> YamlDocument:
    try:
        if FAST is not None and not pure and "\t" not in text:  # libyaml allows tabs PyYAML refuses
            try:
                return _parse_with(FAST, path, text)
            except _Rejected:
                pass  # libyaml refused the text: the pure parser words the error as always
        return _parse_with(PureLoader, path, text)
    except RecursionError:
        problem = ContentProblem(path, 1, 1, "", "invalid YAML: lists or mappings are nested too deeply")
        return YamlDocument(None, SourceMap(path, {(): (1, 1)}), [problem])


def _kind_of_node(node: Node) -> str:
    return "a list" if isinstance(node, SequenceNode) else f"the single value {node.value!r}"


def _too_big(path: str, size: int, limit: int) -> ContentProblem:
    message = (
        f"file is {size / 1_000_000:.1f} MB; files over {limit / 1_000_000:g} MB are refused "
        "(split the issue, or move long text elsewhere)"
    )
    return ContentProblem(path, 1, 1, "", message)


def parse_yaml(
    name: str, source: bytes | str, *, max_bytes: int = MAX_FILE_BYTES, pure: bool = False
) -> YamlDocument:
    """Parse YAML given as bytes or text, shown in messages as `name`; never raises.

    `pure=True` uses PyYAML's pure-Python parser even where libyaml is available.
    """
    raw = source.encode("utf-8") if isinstance(source, str) else source
    if len(raw) > max_bytes:
        return YamlDocument(None, SourceMap(name, {(): (1, 1)}), [_too_big(name, len(raw), max_bytes)])
    text = _decode(name, raw)
    if isinstance(text, ContentProblem):
        return YamlDocument(None, SourceMap(name, {(): (1, 1)}), [text])
    return _parse(name, text, pure=pure)


def read_yaml(path: Path, *, max_bytes: int = MAX_FILE_BYTES, pure: bool = False) -> YamlDocument:
    """Read and parse one YAML file; never raises, every problem is in the result.

    A file over `max_bytes` is refused before it is read whole or parsed.
    """
    shown = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        problem = ContentProblem(shown, 1, 1, "", f"cannot read the file ({reason})")
        return YamlDocument(None, SourceMap(shown, {(): (1, 1)}), [problem])
    if len(raw) > max_bytes:
        problem = _too_big(shown, max(size, len(raw)), max_bytes)
        return YamlDocument(None, SourceMap(shown, {(): (1, 1)}), [problem])
    return parse_yaml(shown, raw, max_bytes=max_bytes, pure=pure)


def load_yaml(path: Path) -> tuple[dict[str, Any], SourceMap]:
    """Load a YAML mapping and its source map; raises ContentError listing every problem."""
    doc = read_yaml(path)
    if doc.problems or doc.data is None:
        raise ContentError(doc.problems)
    return doc.data, doc.source
