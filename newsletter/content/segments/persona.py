"""Evaluating a checked segment on a persona: a reader's attribute values, no database.

This is what an audience condition on a block sees at render time. It follows the same rules as the
SQL the audience stage compiles (`values.py`): a condition on a missing value is false, and `not`
makes it true. Only attribute conditions can be evaluated here (check with `persona=True`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from newsletter.content.segments.checked import (
    Attribute,
    Compare,
    Condition,
    Conjunction,
    Disjunction,
    Negation,
    OneOf,
    Present,
    Reference,
    Scalar,
    Segment,
)
from newsletter.content.segments.values import READERS

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def persona_matches(segment: Segment, persona: Mapping[str, Any]) -> bool:
    """Whether a reader whose attributes are `persona` belongs to `segment`."""
    return _holds(segment.condition, persona)


def _holds(condition: Condition, persona: Mapping[str, Any]) -> bool:
    if isinstance(condition, Negation):
        return not _holds(condition.operand, persona)
    if isinstance(condition, Conjunction):
        return all(_holds(operand, persona) for operand in condition.operands)
    if isinstance(condition, Disjunction):
        return any(_holds(operand, persona) for operand in condition.operands)
    if isinstance(condition, Compare):
        value = _read(condition.reference, persona)
        return value is not None and _OPERATORS[condition.op](value, _comparable(condition.value))
    if isinstance(condition, OneOf):
        value = _read(condition.reference, persona)
        if value is None:
            return False
        return (value in {_comparable(v) for v in condition.values}) != condition.negated
    if isinstance(condition, Present):
        return _read(condition.reference, persona) is not None
    raise ValueError(f"{type(condition).__name__} needs the database; a persona has only attributes")


def _read(reference: Reference, persona: Mapping[str, Any]) -> Any:
    if not isinstance(reference, Attribute):
        raise ValueError(f"the field {reference.name!r} needs the database; a persona has only attributes")
    return READERS[reference.type](persona.get(reference.name))


def _comparable(value: Scalar) -> Any:
    """Dates compare as their YYYY-MM-DD text, as stored."""
    return value.isoformat() if isinstance(value, date) else value
