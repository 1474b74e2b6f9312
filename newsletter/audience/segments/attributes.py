"""A subscriber attribute read as its declared type, in SQL, on SQLite (JSON1) and PostgreSQL (JSONB).

Each expression is NULL exactly when `newsletter.content.segments.values` reads the value as missing:
text must be a non-empty JSON string, a number a JSON number or numeric text, a date YYYY-MM-DD
text, a boolean JSON true/false or a yes/no word. Every key, pattern and value is a bound parameter.
On PostgreSQL text equality is written as JSONB containment (`attributes @> {"role": "clinician"}`),
which the GIN index on `subscribers.attributes` answers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Numeric,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from newsletter.content.segments.values import FALSE_WORDS, TRUE_WORDS
from newsletter.db.tables import Subscriber

_DIGITS = "0123456789."
_DATE_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
_PG_NUMBER = "^-?[0-9]+(\\.[0-9]+)?$"
_PG_DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _text(value: str) -> ColumnElement[str]:
    return literal(value, String)


class AttributeSql:
    """The typed SQL value of one attribute of the `subscribers` row in scope."""

    def __init__(self, key: str, *, postgres: bool) -> None:
        self.key = key
        self.postgres = postgres
        column = Subscriber.attributes
        if postgres:
            key_param = _text(key)
            self.json_type: ColumnElement[str] = func.jsonb_typeof(
                column.op("->", return_type=JSONB)(key_param)
            )
            self.raw: ColumnElement[str] = column.op("->>", return_type=String)(key_param)
            self.string = _text("string")
        else:
            path = _text(f'$."{key}"')
            self.json_type = func.json_type(column, path)
            self.raw = func.json_extract(column, path)
            self.string = _text("text")

    def typed(self, kind: str) -> ColumnElement[Any]:
        """The value as `kind` (string, enum, number, date, boolean), NULL when it does not read as one."""
        return {
            "string": self.text,
            "enum": self.text,
            "number": self.number,
            "date": self.date,
            "boolean": self.boolean,
        }[kind]()

    def text(self) -> ColumnElement[str]:
        """A non-empty JSON string, else NULL."""
        return case((self.json_type == self.string, func.nullif(self.raw, _text(""))))

    def number(self) -> ColumnElement[Any]:
        """A JSON number, or text shaped -?[0-9]+(.[0-9]+)? read as a number, else NULL."""
        numeric = cast(self.raw, Numeric)
        if self.postgres:
            numeric_text = case((self.raw.op("~")(_text(_PG_NUMBER)), numeric))
            return case({"number": numeric, "string": numeric_text}, value=self.json_type)
        numeric_text = case((_sqlite_number(self.raw), numeric))
        return case({"integer": self.raw, "real": self.raw, "text": numeric_text}, value=self.json_type)

    def date(self) -> ColumnElement[str]:
        """JSON text shaped YYYY-MM-DD (compared as text), else NULL."""
        if self.postgres:
            shaped = self.raw.op("~")(_text(_PG_DATE))
        else:
            shaped = self.raw.op("GLOB")(_text(_DATE_GLOB))
        return case((and_(self.json_type == self.string, shaped), self.raw))

    def boolean(self) -> ColumnElement[bool]:
        """JSON true/false, or a yes/no word in any case, else NULL."""
        word = func.lower(self.raw)
        unknown = literal(None, Boolean)
        text = case(
            (word.in_([_text(w) for w in TRUE_WORDS]), true()),
            (word.in_([_text(w) for w in FALSE_WORDS]), false()),
            else_=unknown,
        )
        if self.postgres:
            whens: dict[str, Any] = {"boolean": self.raw == _text("true"), "string": text}
        else:
            whens = {"true": true(), "false": false(), "text": text}
        return case(whens, value=self.json_type, else_=unknown)

    def equals_text(self, value: str) -> ColumnElement[bool]:
        """The attribute is the JSON string `value` (non-empty): containment on PostgreSQL (GIN-indexed)."""
        if self.postgres:
            return Subscriber.attributes.op("@>", return_type=Boolean)(literal({self.key: value}, JSONB))
        return and_(self._is_text(), self.raw == _text(value))

    def text_among(self, values: tuple[str, ...]) -> ColumnElement[bool]:
        """The attribute is one of these JSON strings."""
        if self.postgres:
            return or_(*(self.equals_text(value) for value in values))
        return and_(self._is_text(), self.raw.in_([_text(v) for v in values]))

    def _is_text(self) -> ColumnElement[bool]:
        """The value is a JSON string: false, never NULL, when the key is missing (so `not` stays exact)."""
        return func.coalesce(self.json_type, _text("")) == self.string


def _sqlite_number(raw: ColumnElement[Any]) -> ColumnElement[bool]:
    """Text shaped like -?[0-9]+(.[0-9]+)?, without REGEXP: digits, one inner dot, an optional minus."""
    body = case((func.substr(raw, 1, 1) == _text("-"), func.substr(raw, 2)), else_=raw)
    after_first_dot = func.substr(body, func.instr(body, _text(".")) + 1)
    return and_(
        body != _text(""),
        func.trim(body, _text(_DIGITS)) == _text(""),
        func.substr(body, 1, 1) != _text("."),
        func.substr(body, -1, 1) != _text("."),
        func.instr(after_first_dot, _text(".")) == 0,
    )
