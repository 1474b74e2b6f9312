"""CSV cell safety: neutralise spreadsheet formulas on the way out, undo it on the way in."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    """Prefix a single quote to a cell a spreadsheet would run as a formula (= + - @ tab CR)."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def unescape_cell(value: str) -> str:
    """Undo `escape_cell`, so an exported file imports back to the same values."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
