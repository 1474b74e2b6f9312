"""How a stored attribute value reads as its declared type; the SQL compiler mirrors these rules exactly.

Attributes are kept as JSON (the CSV import stores text). A value reads as its type or counts as
missing: text (string, enum, date) must be a non-empty JSON string; a date is text shaped
YYYY-MM-DD, compared as text; a number is a JSON number or text such as `-12` or `3.5` (no
exponent, no spaces); a boolean is JSON true/false or the text true/yes/1 or false/no/0 in any case.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

NUMBER_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
"""Text that reads as a number (matched whole)."""
DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
"""Text that reads as a date (matched whole)."""
TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")


def read_text(value: Any) -> str | None:
    """A string or enum attribute: the text, or None when missing, empty or not text."""
    return value if isinstance(value, str) and value != "" else None


def read_number(value: Any) -> Decimal | None:
    """A number attribute: its value, or None when missing or not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str) and NUMBER_TEXT.fullmatch(value):
        return Decimal(value)
    return None


def read_date(value: Any) -> str | None:
    """A date attribute: its YYYY-MM-DD text (dates compare as text), or None."""
    return value if isinstance(value, str) and DATE_TEXT.fullmatch(value) else None


def read_boolean(value: Any) -> bool | None:
    """A boolean attribute: True or False, or None when missing or not a yes/no word."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


READERS = {
    "string": read_text,
    "enum": read_text,
    "number": read_number,
    "date": read_date,
    "boolean": read_boolean,
}
"""Each attribute type's reader."""
