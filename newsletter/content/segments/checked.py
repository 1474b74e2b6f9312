"""The checked segment: names resolved to typed references, values typed, functions known.

`check.py` builds it; the SQL compiler (`newsletter.audience.segments`) and the persona evaluator
(`persona.py`) read it. Every leaf is two-valued: a condition on a missing value is false, and
`not` turns false into true, so `not role = "clinician"` includes readers without a role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from newsletter.content.segments.parse import Where

Scalar = str | Decimal | date | bool
"""A typed literal: text (string, enum), Decimal (number), date (date, timestamp), bool (boolean)."""


@dataclass(frozen=True, slots=True)
class Attribute:
    """A subscriber attribute declared by the publication: its name and type."""

    name: str
    type: str  # "string" | "number" | "date" | "boolean" | "enum"


@dataclass(frozen=True, slots=True)
class Field:
    """A column of the subscriber: email, name, status (enum) or created (a timestamp)."""

    name: str
    type: str  # "string" | "enum" | "timestamp"


Reference = Attribute | Field


@dataclass(frozen=True, slots=True)
class Compare:
    """`reference OP value`; false when the reference has no value of its type."""

    reference: Reference
    op: str  # "=" | "!=" | "<" | "<=" | ">" | ">="
    value: Scalar


@dataclass(frozen=True, slots=True)
class OneOf:
    """`reference in (...)` (or `not in` when negated); false when the reference has no value."""

    reference: Reference
    values: tuple[Scalar, ...]
    negated: bool


@dataclass(frozen=True, slots=True)
class Present:
    """`exists(reference)`: it has a value of its declared type."""

    reference: Reference


@dataclass(frozen=True, slots=True)
class ListName:
    """A list named in `in_list(...)`, with where it was written (an unknown list is reported there)."""

    name: str
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class InList:
    """`in_list("a", ...)`: an active subscription to one of the lists."""

    lists: tuple[ListName, ...]


@dataclass(frozen=True, slots=True)
class Engaged:
    """`opened_within(90d)` / `clicked_within` / `mailed_within`: an event of that kind in the window."""

    kind: str  # "open" | "click" | "mailed"
    days: int


@dataclass(frozen=True, slots=True)
class Subscribed:
    """`subscribed_before(D)` / `subscribed_after(D)` (dates) or `subscribed_within(90d)` (days)."""

    when: str  # "before" | "after" | "within"
    day: date | None
    days: int | None


@dataclass(frozen=True, slots=True)
class Consented:
    """`consented_via("form", ...)` (the evidence's method) or `consent_source("...")` (its source)."""

    by: str  # "method" | "source"
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Negation:
    """`not operand`."""

    operand: Condition


@dataclass(frozen=True, slots=True)
class Conjunction:
    """Every operand holds (`and`)."""

    operands: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Disjunction:
    """At least one operand holds (`or`)."""

    operands: tuple[Condition, ...]


Condition = (
    Compare
    | OneOf
    | Present
    | InList
    | Engaged
    | Subscribed
    | Consented
    | Negation
    | Conjunction
    | Disjunction
)


@dataclass(frozen=True)
class Segment:
    """A checked expression: its text, where it was written, and its condition tree."""

    text: str
    where: Where
    condition: Condition
    needs_database: bool
    """True when it uses more than attributes (fields, lists, engagement, dates, consent)."""
