"""A checked segment → one SQLAlchemy Core condition on the `subscribers` row in scope.

Every leaf compiles to a condition that is never NULL (a comparison on a missing value is false), so
SQL's NOT means what the language's `not` means and the persona evaluator agrees with the database.
Values, keys, dates and windows are bound parameters; nothing from the expression is spliced into
SQL text. Engagement reads the events already stored (opens other than machine opens, clicks) through
the deliveries they belong to; `mailed_within` reads accepted deliveries.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, ColumnElement, Numeric, String, and_, false, func, literal, not_, or_, select

from newsletter.audience.segments.attributes import AttributeSql
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
    Negation,
    OneOf,
    Present,
    Reference,
    Scalar,
    Subscribed,
)
from newsletter.db.tables import ConsentEvidence, Delivery, Event, Subscriber, Subscription

_OPERATORS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
GIVING_CONSENT = ("subscribe", "confirm")
"""Consent evidence actions that give consent (an `unsubscribe` row withdraws it)."""


@dataclass(frozen=True)
class SqlContext:
    """What compiling needs besides the segment: the backend, the moment, the zone, the lists."""

    postgres: bool
    now: datetime
    zone: ZoneInfo
    list_ids: tuple[int, ...] | None = None
    """The lists subscription dates and consent look at (a send's or segment's lists); None: any list."""
    lists: Mapping[str, int] = field(default_factory=dict)
    """`in_list` names (lower-case) → list ids, resolved beforehand."""


def compile_condition(condition: Condition, context: SqlContext) -> ColumnElement[bool]:
    """The SQL condition on `subscribers` that holds exactly for the readers `condition` selects."""
    return _Compiler(context).condition(condition)


class _Compiler:
    def __init__(self, context: SqlContext) -> None:
        self.context = context

    def condition(self, node: Condition) -> ColumnElement[bool]:
        if isinstance(node, Negation):
            return not_(self.condition(node.operand))
        if isinstance(node, Conjunction):
            return and_(*(self.condition(operand) for operand in node.operands))
        if isinstance(node, Disjunction):
            return or_(*(self.condition(operand) for operand in node.operands))
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, OneOf):
            return self.one_of(node)
        if isinstance(node, Present):
            return self.typed(node.reference).is_not(None)
        if isinstance(node, InList):
            ids = [self.context.lists[item.name.lower()] for item in node.lists]
            return self.subscribed(Subscription.list_id.in_(ids), scoped=False)
        if isinstance(node, Engaged):
            return self.engaged(node)
        if isinstance(node, Subscribed):
            return self.subscribed(self.subscribed_when(node), scoped=True)
        return self.consented(node)

    # ------------------------------------------------------------ values

    def typed(self, reference: Reference) -> ColumnElement[Any]:
        if isinstance(reference, Attribute):
            return AttributeSql(reference.name, postgres=self.context.postgres).typed(reference.type)
        if reference.name == "name":
            return _nullif_empty(Subscriber.name)
        columns: dict[str, ColumnElement[Any]] = {
            "email": Subscriber.email.expression,
            "status": Subscriber.status.expression,
            "created": Subscriber.created_at.expression,
        }
        return columns[reference.name]

    def compare(self, node: Compare) -> ColumnElement[bool]:
        reference, value = node.reference, node.value
        if isinstance(reference, Field) and reference.type == "timestamp":
            assert isinstance(value, date)
            return self.on_day(Subscriber.created_at.expression, node.op, value)
        if isinstance(reference, Attribute) and reference.type in ("string", "enum") and node.op == "=":
            assert isinstance(value, str)
            return AttributeSql(reference.name, postgres=self.context.postgres).equals_text(value)
        return _known(_OPERATORS[node.op](self.typed(reference), _bound(value)))

    def one_of(self, node: OneOf) -> ColumnElement[bool]:
        reference = node.reference
        if isinstance(reference, Attribute) and reference.type in ("string", "enum") and not node.negated:
            texts = tuple(str(v) for v in node.values)
            return AttributeSql(reference.name, postgres=self.context.postgres).text_among(texts)
        typed = self.typed(reference)
        values = [_bound(v) for v in node.values]
        return _known(typed.not_in(values) if node.negated else typed.in_(values))

    def on_day(self, column: ColumnElement[Any], op: str, day: date) -> ColumnElement[bool]:
        """A timestamp compared with a calendar day in the publication's time zone."""
        start, end = self.midnight(day), self.midnight(day + timedelta(days=1))
        within = and_(column >= start, column < end)
        conditions: dict[str, ColumnElement[bool]] = {
            "=": within,
            "!=": not_(within),
            "<": column < start,
            "<=": column < end,
            ">": column >= end,
            ">=": column >= start,
        }
        return conditions[op]

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=self.context.zone)

    # ------------------------------------------------------------ related rows

    def subscribed(self, condition: ColumnElement[bool], *, scoped: bool) -> ColumnElement[bool]:
        """An active subscription of the reader meeting `condition` (on the context's lists if `scoped`)."""
        query = select(Subscription.list_id).where(
            Subscription.subscriber_id == Subscriber.id, Subscription.status == "active", condition
        )
        if scoped and self.context.list_ids is not None:
            query = query.where(Subscription.list_id.in_(self.context.list_ids))
        return query.correlate_except(Subscription).exists()

    def subscribed_when(self, node: Subscribed) -> ColumnElement[bool]:
        if node.when == "within":
            assert node.days is not None
            return Subscription.subscribed_at >= self.context.now - timedelta(days=node.days)
        assert node.day is not None
        if node.when == "before":
            return Subscription.subscribed_at < self.midnight(node.day)
        return Subscription.subscribed_at >= self.midnight(node.day + timedelta(days=1))

    def engaged(self, node: Engaged) -> ColumnElement[bool]:
        since = self.context.now - timedelta(days=node.days)
        if node.kind == "mailed":
            query = select(Delivery.id).where(
                Delivery.subscriber_id == Subscriber.id,
                Delivery.status == "accepted",
                Delivery.sent_at >= since,
            )
            return query.correlate_except(Delivery).exists()
        kind = [Event.type == node.kind, Event.occurred_at >= since]
        if node.kind == "open":
            kind.append(Event.machine_open.is_not(True))  # machine opens are not a reader opening
        query = (
            select(Event.id)
            .join(Delivery, Delivery.id == Event.delivery_id)
            .where(Delivery.subscriber_id == Subscriber.id, *kind)
        )
        return query.correlate_except(Event, Delivery).exists()

    def consented(self, node: Consented) -> ColumnElement[bool]:
        column = ConsentEvidence.method if node.by == "method" else ConsentEvidence.source
        query = select(ConsentEvidence.id).where(
            ConsentEvidence.subscriber_id == Subscriber.id,
            ConsentEvidence.action.in_(GIVING_CONSENT),
            column.in_(list(node.values)),
        )
        if self.context.list_ids is not None:
            query = query.where(ConsentEvidence.list_id.in_(self.context.list_ids))
        return query.correlate_except(ConsentEvidence).exists()


def _known(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """False where `condition` is NULL (a missing value): leaves stay two-valued, and the typed value
    is computed once per row (`x IS NOT NULL AND x >= 10` would compute it twice)."""
    return func.coalesce(condition, false())


def _nullif_empty(column: Any) -> ColumnElement[Any]:
    return func.nullif(column, literal("", String))


def _bound(value: Scalar) -> ColumnElement[Any]:
    """A literal as a bound parameter of the type it is compared as (dates compare as their text)."""
    if isinstance(value, bool):
        return literal(value, Boolean)
    if isinstance(value, Decimal):
        return literal(value, Numeric(asdecimal=True))
    if isinstance(value, date):
        return literal(value.isoformat(), String)
    return literal(value, String)
