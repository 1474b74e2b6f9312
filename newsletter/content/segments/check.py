"""Type-checking a segment: names against the subscriber fields and the publication's declared attributes.

`check_segment(text, attributes)` parses, resolves every name (a field such as `email`, or an attribute
the publication declares; `attr.x` names an attribute even where a field has its name), checks each
comparison's operator and value against the type, and each function's arguments. Every problem is
collected and located (`segment:1:14: unknown attribute 'rol' (did you mean 'role'?)`). With
`persona=True` only attributes may be used: that is what render-time audience conditions can see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from difflib import get_close_matches
from typing import Any

from newsletter.content.schema import AttributeSpec
from newsletter.content.segments import nodes
from newsletter.content.segments.checked import (
    Attribute,
    Compare,
    Condition,
    Conjunction,
    Consented,
    Disjunction,
    Engaged,
    Field,
    InList,
    ListName,
    Negation,
    OneOf,
    Present,
    Reference,
    Scalar,
    Segment,
    Subscribed,
)
from newsletter.content.segments.parse import Where, parse_segment
from newsletter.errors import ContentProblem, SegmentError

FIELDS = {
    "email": Field("email", "string"),
    "name": Field("name", "string"),
    "status": Field("status", "enum"),
    "created": Field("created", "timestamp"),
}
"""Subscriber columns a segment may name; a bare name is a field first, then an attribute."""
STATUS_VALUES = ("enabled", "blocklisted")
"""The values of the `status` field (db.tables.SUBSCRIBER_STATUSES; content may not import db)."""

_ORDERED = ("=", "!=", "<", "<=", ">", ">=")
_OPERATORS = {
    "string": ("=", "!="),
    "enum": ("=", "!="),
    "boolean": ("=", "!="),
    "number": _ORDERED,
    "date": _ORDERED,
    "timestamp": _ORDERED,
}
_LISTABLE = ("string", "enum", "number", "date")
_KIND_OF_TYPE = {
    "string": "text",
    "enum": "text",
    "number": "number",
    "date": "date",
    "timestamp": "date",
    "boolean": "boolean",
}
_KIND_WORDS = {
    "text": 'quoted text such as "NY"',
    "number": "a number such as 10",
    "date": "a date such as 2026-01-31",
    "duration": "a duration such as 90d",
    "boolean": "true or false",
}
_NOUNS = {"text": "quoted text", "date": "date", "duration": "duration"}
_PLURALS = {"text": "quoted texts"}
_TYPE_WORDS = {
    "string": "text",
    "enum": "one of a set of values",
    "number": "a number",
    "date": "a date",
    "timestamp": "a date (and time)",
    "boolean": "true or false",
}

_Checker = Callable[["_Check", nodes.Call], Condition | None]


def check_segment(
    text: str,
    attributes: Mapping[str, AttributeSpec],
    *,
    where: Where | None = None,
    persona: bool = False,
) -> Segment:
    """The checked segment of `text`; raises SegmentError with every problem, each located."""
    where = where or Where()
    tree = parse_segment(text, where)
    check = _Check(attributes, where, persona)
    condition = check.condition(tree)
    if check.problems or condition is None:
        raise SegmentError(check.problems)
    return Segment(text, where, condition, check.needs_database)


class _Check:
    def __init__(self, attributes: Mapping[str, AttributeSpec], where: Where, persona: bool) -> None:
        self.attributes = attributes
        self.where = where
        self.persona = persona
        self.problems: list[ContentProblem] = []
        self.needs_database = False

    def fail(self, at: Any, message: str) -> None:
        self.problems.append(self.where.problem(at.line, at.col, message))

    def condition(self, node: nodes.Node) -> Condition | None:
        if isinstance(node, nodes.Not):
            operand = self.condition(node.operand)
            return None if operand is None else Negation(operand)
        if isinstance(node, nodes.All | nodes.AnyOf):
            operands = [self.condition(operand) for operand in node.operands]
            kept = tuple(o for o in operands if o is not None)
            if len(kept) < len(operands):
                return None
            return Conjunction(kept) if isinstance(node, nodes.All) else Disjunction(kept)
        if isinstance(node, nodes.Comparison):
            return self.comparison(node)
        if isinstance(node, nodes.Membership):
            return self.membership(node)
        return self.call(node)

    # ------------------------------------------------------------ names

    def reference(self, name: nodes.Name) -> Reference | None:
        parts = name.parts
        if len(parts) == 2 and parts[0] == "attr":
            return self.attribute(name, parts[1])
        if len(parts) == 2:
            self.fail(name, f"unknown name {name.written!r}: only attr.NAME has a dot (an attribute)")
            return None
        if parts[0] in FIELDS:
            if self.persona:
                self.fail(
                    name, f"{parts[0]!r} is a subscriber field; an audience condition can use only attributes"
                )
                return None
            self.needs_database = True
            return FIELDS[parts[0]]
        return self.attribute(name, parts[0])

    def attribute(self, name: nodes.Name, key: str) -> Attribute | None:
        spec = self.attributes.get(key)
        if spec is not None:
            return Attribute(key, spec.type)
        if not self.attributes:
            self.fail(name, f"unknown attribute {key!r} (the publication declares no attributes)")
            return None
        candidates = list(self.attributes) + ([] if self.persona else list(FIELDS))
        self.fail(name, f"unknown attribute {key!r}{_did_you_mean(key, candidates)}")
        return None

    def allowed_values(self, reference: Reference) -> tuple[str, ...]:
        if isinstance(reference, Field):
            return STATUS_VALUES if reference.name == "status" else ()
        spec = self.attributes[reference.name]
        return tuple(spec.values)

    # ------------------------------------------------------------ comparisons

    def comparison(self, node: nodes.Comparison) -> Condition | None:
        reference = self.reference(node.name)
        if reference is None:
            self.value(None, node.value)
            return None
        allowed = _OPERATORS[reference.type]
        if node.op not in allowed:
            listed = ", ".join(allowed) + (" or in" if reference.type in _LISTABLE else "")
            what = _TYPE_WORDS[reference.type]
            self.fail(node, f"{node.name.written} is {what}: compare it with {listed}, not {node.op}")
            return None
        value = self.value(reference, node.value)
        return None if value is None else Compare(reference, node.op, value)

    def membership(self, node: nodes.Membership) -> Condition | None:
        reference = self.reference(node.name)
        if reference is None:
            return None
        if reference.type not in _LISTABLE:
            word = "not in" if node.negated else "in"
            self.fail(node, f"{node.name.written} is {_TYPE_WORDS[reference.type]}: '{word}' does not apply")
            return None
        values = [self.value(reference, value) for value in node.values]
        kept = tuple(v for v in values if v is not None)
        return OneOf(reference, kept, node.negated) if len(kept) == len(values) else None

    def value(self, reference: Reference | None, value: nodes.Value) -> Scalar | None:
        if reference is None:
            return None
        wanted = _KIND_OF_TYPE[reference.type]
        name = reference.name
        if value.kind != wanted:
            self.fail(
                value,
                f"{name} is {_TYPE_WORDS[reference.type]}: compare it with {_KIND_WORDS[wanted]}, "
                f"not {value.written}",
            )
            return None
        if value.kind == "text" and value.value == "":
            self.fail(
                value, f"empty text never matches; to find readers without {name}, write missing({name})"
            )
            return None
        allowed = self.allowed_values(reference)
        if allowed and value.value not in allowed:
            assert isinstance(value.value, str)
            hint = _did_you_mean(value.value, allowed)
            self.fail(value, f"{value.value!r} is not a value of {name} ({', '.join(allowed)}){hint}")
            return None
        result = value.value
        if isinstance(result, bool | str | Decimal | date):
            return result
        raise AssertionError(f"not a comparable value: {result!r}")  # durations are never compared

    # ------------------------------------------------------------ functions

    def call(self, node: nodes.Call) -> Condition | None:
        checker = _FUNCTIONS.get(node.function)
        if checker is None:
            names = sorted(_FUNCTIONS)
            hint = _did_you_mean(node.function, names) or f" (functions: {', '.join(names)})"
            self.fail(node, f"unknown function {node.function!r}{hint}")
            return None
        if self.persona and node.function not in ("exists", "missing"):
            self.fail(
                node, f"{node.function}() needs the database; an audience condition can use only attributes"
            )
            return None
        if node.function not in ("exists", "missing"):
            self.needs_database = True
        return checker(self, node)

    def arguments(self, node: nodes.Call, kind: str, *, many: bool, example: str) -> list[nodes.Value] | None:
        arguments = node.arguments
        fits = bool(arguments) and (many or len(arguments) == 1)
        if not fits or any(not isinstance(a, nodes.Value) or a.kind != kind for a in arguments):
            what = f"one or more {_PLURALS[kind]}" if many else f"one {_NOUNS[kind]}"
            self.fail(node, f"{node.function} takes {what}: {example}")
            return None
        return [a for a in arguments if isinstance(a, nodes.Value)]

    def texts(self, node: nodes.Call, example: str) -> list[nodes.Value] | None:
        values = self.arguments(node, "text", many=True, example=example)
        if values is not None and any(v.value == "" for v in values):
            self.fail(node, f"{node.function} needs non-empty text: {example}")
            return None
        return values


def _exists(check: _Check, node: nodes.Call) -> Condition | None:
    arguments = node.arguments
    if len(arguments) != 1 or not isinstance(arguments[0], nodes.Name):
        check.fail(node, f"{node.function} takes one attribute name: {node.function}(specialty)")
        return None
    reference = check.reference(arguments[0])
    if reference is None:
        return None
    present = Present(reference)
    return present if node.function == "exists" else Negation(present)


def _in_list(check: _Check, node: nodes.Call) -> Condition | None:
    values = check.texts(node, 'in_list("e-alert")')
    if values is None:
        return None
    return InList(tuple(ListName(str(v.value), v.line, v.col) for v in values))


def _engaged(kind: str) -> _Checker:
    def checker(check: _Check, node: nodes.Call) -> Condition | None:
        values = check.arguments(node, "duration", many=False, example=f"{node.function}(90d)")
        return None if values is None else Engaged(kind, _int(values[0].value))

    return checker


def _subscribed(when: str) -> _Checker:
    def checker(check: _Check, node: nodes.Call) -> Condition | None:
        if when == "within":
            values = check.arguments(node, "duration", many=False, example=f"{node.function}(30d)")
            return None if values is None else Subscribed(when, None, _int(values[0].value))
        values = check.arguments(node, "date", many=False, example=f"{node.function}(2026-01-01)")
        if values is None:
            return None
        day = values[0].value
        assert isinstance(day, date)
        return Subscribed(when, day, None)

    return checker


def _consented(by: str) -> _Checker:
    def checker(check: _Check, node: nodes.Call) -> Condition | None:
        example = 'consented_via("form", "import")' if by == "method" else 'consent_source("webinar.csv")'
        values = check.texts(node, example)
        return None if values is None else Consented(by, tuple(str(v.value) for v in values))

    return checker


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise AssertionError(f"not a duration in days: {value!r}")
    return value


_FUNCTIONS: dict[str, _Checker] = {
    "exists": _exists,
    "missing": _exists,
    "in_list": _in_list,
    "opened_within": _engaged("open"),
    "clicked_within": _engaged("click"),
    "mailed_within": _engaged("mailed"),
    "subscribed_before": _subscribed("before"),
    "subscribed_after": _subscribed("after"),
    "subscribed_within": _subscribed("within"),
    "consented_via": _consented("method"),
    "consent_source": _consented("source"),
}


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
