"""The syntax tree of a segment expression, as written: names unresolved, values untyped, positions kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Value:
    """A literal as written: quoted text, a number, a date, a duration (in days) or true/false."""

    kind: str  # "text" | "number" | "date" | "duration" | "boolean"
    value: str | Decimal | date | int | bool
    written: str
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Name:
    """A field or attribute reference: `role`, or `attr.role` to name an attribute explicitly."""

    parts: tuple[str, ...]
    line: int
    col: int

    @property
    def written(self) -> str:
        """The name as it appears in the expression (lower-cased)."""
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Comparison:
    """`name OP value` with OP one of = != < <= > >=."""

    name: Name
    op: str
    value: Value
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Membership:
    """`name in (v, ...)`, or `name not in (v, ...)` when `negated`."""

    name: Name
    values: tuple[Value, ...]
    negated: bool
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Call:
    """`function(argument, ...)`: engagement, list membership, subscription date, consent, exists."""

    function: str
    arguments: tuple[Value | Name, ...]
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Not:
    """`not operand`."""

    operand: Node
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class All:
    """`a and b and ...`."""

    operands: tuple[Node, ...]
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class AnyOf:
    """`a or b or ...`."""

    operands: tuple[Node, ...]
    line: int
    col: int


Node = Comparison | Membership | Call | Not | All | AnyOf
