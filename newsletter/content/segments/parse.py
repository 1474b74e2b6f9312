"""Reading a segment expression: lark (LALR, `grammar.lark`) → the syntax tree of `nodes.py`.

Every problem is located in the expression (`segment:1:14: ...`), or in the file that holds it when
the caller gives the expression's origin there. Literals are read here (quoted text with its escapes,
numbers, dates, durations); names are resolved and types checked later, by `check.py`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any

from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from newsletter.content.segments.nodes import All, AnyOf, Call, Comparison, Membership, Name, Node, Not, Value
from newsletter.errors import ContentProblem, SegmentError

MAX_LENGTH = 2000
"""Characters an expression may have."""
MAX_DEPTH = 40
"""How deeply and / or / not may nest (the checker and compilers recurse over the tree)."""
MAX_DIGITS = 15
"""Digits a number may have: every backend compares up to 15 exactly (SQLite as a double)."""
MAX_DAYS = 36_500
"""The longest duration: a hundred years."""

_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)

_EXPECTED = {
    "NAME": "a name",
    "STRING": "quoted text",
    "NUMBER": "a number",
    "DATE": "a date (YYYY-MM-DD)",
    "DURATION": "a duration (90d, 12w)",
    "TRUE": "true",
    "FALSE": "false",
    "COMPARATOR": "a comparison (=, !=, <, <=, >, >=)",
    "_AND": "'and'",
    "_OR": "'or'",
    "_NOT": "'not'",
    "_IN": "'in'",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "DOT": "'.'",
    "$END": "the end",
}
_VALUES = frozenset({"STRING", "NUMBER", "DATE", "DURATION", "TRUE", "FALSE"})


@dataclass(frozen=True)
class Where:
    """Where an expression was written: its name in messages, and its first character's line and column."""

    source: str = "segment"
    line: int = 1
    col: int = 1

    def problem(self, line: int, col: int, message: str) -> ContentProblem:
        """A problem at (line, col) of the expression, placed in its source."""
        col = col + self.col - 1 if line == 1 else col
        return ContentProblem(self.source, line + self.line - 1, col, "", message)


@cache
def _parser() -> Lark:
    grammar = files("newsletter.content.segments").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def parse_segment(text: str, where: Where | None = None) -> Node:
    """The syntax tree of `text`; raises SegmentError with every problem found, each located."""
    where = where or Where()
    if not text.strip():
        raise SegmentError([where.problem(1, 1, "the expression is empty")])
    if len(text) > MAX_LENGTH:
        raise SegmentError([where.problem(1, 1, f"the expression is longer than {MAX_LENGTH} characters")])
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise SegmentError([_syntax_problem(exc, text, where)]) from None
    builder = _Builder(where)
    node: Node = builder.transform(tree)
    if builder.problems:
        raise SegmentError(builder.problems)
    if _depth(node) > MAX_DEPTH:
        raise SegmentError([where.problem(1, 1, f"the expression nests more than {MAX_DEPTH} levels deep")])
    return node


def _syntax_problem(exc: UnexpectedInput, text: str, where: Where) -> ContentProblem:
    if isinstance(exc, UnexpectedCharacters):
        at = exc.pos_in_stream or 0
        char = text[at] if at < len(text) else ""
        if char in "\"'":
            message = "this text has no closing quote (on the same line)"
        else:
            message = f"unexpected character {char!r}"
        return where.problem(exc.line, exc.column, message)
    expected = _expected(exc)
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        line, col = _end(text)
        return where.problem(line, col, f"the expression ends too early; expected {expected}")
    token = exc.token if isinstance(exc, UnexpectedToken) else None
    shown = f"unexpected {str(token)!r}" if token is not None else "unexpected input"
    return where.problem(exc.line, exc.column, f"{shown}; expected {expected}")


def _expected(exc: UnexpectedInput) -> str:
    interactive = getattr(exc, "interactive_parser", None)
    names = set(interactive.accepts()) if interactive is not None else set(getattr(exc, "expected", ()))
    words = []
    if names >= _VALUES:
        words.append("a value (quoted text, a number, a date, a duration, true or false)")
        names -= _VALUES
    words += sorted(_EXPECTED.get(name, name) for name in names)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _end(text: str) -> tuple[int, int]:
    body = text.rstrip()
    lines = body.split("\n")
    return len(lines), len(lines[-1]) + 1


def _depth(node: Node) -> int:
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, Not):
            stack.append((item.operand, depth + 1))
        elif isinstance(item, All | AnyOf):
            stack.extend((operand, depth + 1) for operand in item.operands)
    return deepest


class _Builder(Transformer_NonRecursive):  # type: ignore[type-arg]
    """Lark tree → nodes; bad literals (no such date, unknown escape) are collected as problems."""

    def __init__(self, where: Where) -> None:
        super().__init__()
        self.where = where
        self.problems: list[ContentProblem] = []

    @v_args(meta=True)
    def or_test(self, meta: Any, children: list[Node]) -> Node:
        return AnyOf(tuple(children), meta.line, meta.column)

    @v_args(meta=True)
    def and_test(self, meta: Any, children: list[Node]) -> Node:
        return All(tuple(children), meta.line, meta.column)

    @v_args(meta=True)
    def negation(self, meta: Any, children: list[Node]) -> Node:
        return Not(children[0], meta.line, meta.column)

    @v_args(meta=True)
    def comparison(self, meta: Any, children: list[Any]) -> Node:
        name, op, value = children
        symbol = "=" if str(op) == "==" else str(op)
        return Comparison(name, symbol, self._value(value), op.line, op.column)

    @v_args(meta=True)
    def membership(self, meta: Any, children: list[Any]) -> Node:
        return Membership(children[0], children[1], False, meta.line, meta.column)

    @v_args(meta=True)
    def exclusion(self, meta: Any, children: list[Any]) -> Node:
        return Membership(children[0], children[1], True, meta.line, meta.column)

    @v_args(meta=True)
    def call(self, meta: Any, children: list[Any]) -> Node:
        function, *arguments = children
        read = tuple(a if isinstance(a, Name) else self._value(a) for a in arguments if a is not None)
        return Call(str(function).lower(), read, function.line, function.column)

    def values(self, children: list[Any]) -> tuple[Value, ...]:
        return tuple(self._value(token) for token in children if token is not None)

    @v_args(meta=True)
    def field(self, meta: Any, children: list[Token]) -> Name:
        return Name(tuple(str(part).lower() for part in children), meta.line, meta.column)

    def _value(self, token: Token) -> Value:
        text = str(token)
        kind, value = _LITERALS[token.type](text)
        if kind == "invalid":
            assert isinstance(value, str)
            self.problems.append(self.where.problem(token.line or 1, token.column or 1, value))
        return Value(kind, value, text, token.line or 1, token.column or 1)


def _text(written: str) -> tuple[str, str]:
    bad = [m.group(1) for m in _ESCAPE.finditer(written[1:-1]) if m.group(1) not in _ESCAPES]
    if bad:
        return "invalid", f"unknown escape \\{bad[0]} in quoted text (write \\\\ for a backslash)"
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\r" for ch in written):
        return "invalid", "quoted text may not hold control characters (write \\n for a new line)"
    return "text", _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], written[1:-1])


def _number(written: str) -> tuple[str, Decimal | str]:
    digits = sum(ch.isdigit() for ch in written)
    if digits > MAX_DIGITS:
        return "invalid", f"a number may have at most {MAX_DIGITS} digits"
    return "number", Decimal(written)


def _date(written: str) -> tuple[str, date | str]:
    try:
        return "date", date.fromisoformat(written)
    except ValueError:
        return "invalid", f"there is no date {written}"


def _duration(written: str) -> tuple[str, int | str]:
    days = int(written[:-1]) * (7 if written[-1].lower() == "w" else 1)
    if days > MAX_DAYS:
        return "invalid", f"a duration may be at most {MAX_DAYS} days"
    return "duration", days


_LITERALS: dict[str, Any] = {
    "STRING": _text,
    "NUMBER": _number,
    "DATE": _date,
    "DURATION": _duration,
    "TRUE": lambda written: ("boolean", True),
    "FALSE": lambda written: ("boolean", False),
}
